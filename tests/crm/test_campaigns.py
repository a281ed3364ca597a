"""Campaigns (apps/crm/campaigns.py): the builder's refusals, the start (targets frozen), chunks that award once
per player even when a chunk runs twice or the job is killed, refusals counted by reason (an exclusion after
targeting), cancel, the resume sweep, and the admin's pages and buttons per permission."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.bonuses.models import PlayerBonus
from apps.crm import campaigns, services, tasks
from apps.crm.choices import CampaignState
from apps.crm.errors import CampaignInvalid, CampaignNotPermitted, CampaignWrongState
from apps.crm.models import Campaign
from apps.staff import roles
from tests.bonuses.conftest import gb_match, gb_player, published
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def crm():
    return StaffUserFactory(roles=[roles.CRM_MANAGER], first_name="Cara", last_name="Mgr")


def cash_template(crm, **over):
    data = gb_match(type="cash", percent=None, min_deposit=None, amount="10.00", **over)
    return published(crm, data)


def gb_segment(crm, name="UK players"):
    return services.segment_create(actor=crm, name=name, criteria={"country": ["GB"]}, currency="GBP")


def new_campaign(crm, template, segment, *, mode="award", name="Welcome back", days=7):
    return campaigns.campaign_create(
        actor=crm,
        name=name,
        segment=segment,
        template=template,
        mode=mode,
        ends_at=timezone.now() + timedelta(days=days),
    )


def test_a_campaign_awards_every_member_once_with_its_cost(crm, django_capture_on_commit_callbacks):
    players = [gb_player() for _ in range(5)]
    template = cash_template(crm)
    campaign = new_campaign(crm, template, gb_segment(crm))
    with django_capture_on_commit_callbacks(execute=False):  # the job runs here, chunk by chunk
        campaigns.campaign_start(actor=crm, campaign=campaign)
    assert campaigns.campaign_chunk(campaign_id=campaign.pk, size=2) is True
    campaign.refresh_from_db()
    assert (campaign.processed, campaign.awarded, campaign.cost, campaign.percent) == (2, 2, D("20.00"), 40)
    assert campaigns.campaign_run(campaign_id=campaign.pk, size=2) == 2
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED
    assert (campaign.target_count, campaign.processed, campaign.awarded, campaign.cost) == (5, 5, 5, D("50.00"))
    bonuses = PlayerBonus.objects.filter(campaign_id=campaign.pk)
    assert sorted(b.player_id for b in bonuses) == sorted(p.pk for p in players)
    assert {b.amount for b in bonuses} == {D("10.00")}
    assert AuditEvent.objects.filter(action="crm.campaign_completed").count() == 1


def test_a_chunk_done_twice_awards_nobody_twice(crm, django_capture_on_commit_callbacks):
    for _ in range(3):
        gb_player()
    campaign = new_campaign(crm, cash_template(crm), gb_segment(crm))
    with django_capture_on_commit_callbacks(execute=False):
        campaigns.campaign_start(actor=crm, campaign=campaign)
    campaigns.campaign_chunk(campaign_id=campaign.pk, size=3)
    # a killed job's chunk is replayed from an older cursor: the awards' key answers the bonuses already made
    Campaign.objects.filter(pk=campaign.pk).update(cursor=0)
    campaigns.campaign_run(campaign_id=campaign.pk, size=3)
    assert PlayerBonus.objects.filter(campaign_id=campaign.pk).count() == 3


def test_a_killed_chunk_rolls_back_whole_and_resumes(crm, django_capture_on_commit_callbacks):
    for _ in range(4):
        gb_player()
    campaign = new_campaign(crm, cash_template(crm), gb_segment(crm))
    with django_capture_on_commit_callbacks(execute=False):
        campaigns.campaign_start(actor=crm, campaign=campaign)

    class Killed(Exception):
        pass

    with pytest.raises(Killed), transaction.atomic():
        campaigns.campaign_chunk(campaign_id=campaign.pk, size=4)
        raise Killed  # the worker died before the commit
    campaign.refresh_from_db()
    assert (campaign.cursor, campaign.processed) == (0, 0)
    assert not PlayerBonus.objects.filter(campaign_id=campaign.pk).exists()
    Campaign.objects.filter(pk=campaign.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert campaigns.stalled_campaign_ids() == [campaign.pk]
    campaigns.campaign_run(campaign_id=campaign.pk, size=4)
    assert PlayerBonus.objects.filter(campaign_id=campaign.pk).count() == 4


def test_a_player_excluded_after_targeting_gets_nothing_and_is_counted(crm, django_capture_on_commit_callbacks):
    from apps.responsible.services import self_exclude

    keep, excluded = gb_player(), gb_player()
    campaign = new_campaign(crm, cash_template(crm), gb_segment(crm))
    with django_capture_on_commit_callbacks(execute=False):
        campaigns.campaign_start(actor=crm, campaign=campaign)
    self_exclude(actor=None, player=excluded, term="6m")
    campaigns.campaign_run(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert (campaign.awarded, campaign.refused) == (1, 1)
    assert campaign.refusals == {"self_excluded": 1}
    assert list(PlayerBonus.objects.filter(campaign_id=campaign.pk).values_list("player_id", flat=True)) == [keep.pk]


def test_an_offer_campaign_offers_and_costs_nothing_until_claimed(crm, django_capture_on_commit_callbacks):
    gb_player()
    campaign = new_campaign(crm, cash_template(crm), gb_segment(crm), mode="offer")
    with django_capture_on_commit_callbacks(execute=False):
        campaigns.campaign_start(actor=crm, campaign=campaign)
    campaigns.campaign_run(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert (campaign.awarded, campaign.cost) == (1, D("0"))
    assert PlayerBonus.objects.get(campaign_id=campaign.pk).state == "offered"


def test_cancel_stops_the_run_at_the_next_chunk(crm, django_capture_on_commit_callbacks):
    for _ in range(3):
        gb_player()
    campaign = new_campaign(crm, cash_template(crm), gb_segment(crm))
    with django_capture_on_commit_callbacks(execute=False):
        campaigns.campaign_start(actor=crm, campaign=campaign)
    campaigns.campaign_chunk(campaign_id=campaign.pk, size=1)
    campaigns.campaign_cancel(actor=crm, campaign=campaign)
    assert campaigns.campaign_chunk(campaign_id=campaign.pk, size=1) is False
    campaign.refresh_from_db()
    assert (campaign.state, campaign.processed) == (CampaignState.CANCELLED, 1)
    with pytest.raises(CampaignWrongState):
        campaigns.campaign_cancel(actor=crm, campaign=campaign)
    with pytest.raises(CampaignWrongState):
        campaigns.campaign_start(actor=crm, campaign=campaign)


def test_the_builder_refuses_what_cannot_run(crm):
    template, segment = cash_template(crm), gb_segment(crm)
    with pytest.raises(CampaignInvalid) as excinfo:
        campaigns.campaign_create(
            actor=crm, name="x", segment=segment, template=template, ends_at=timezone.now() - timedelta(days=1)
        )
    assert "ends_at" in excinfo.value.fields
    assert excinfo.value.code == "campaign_invalid"
    eur = services.segment_create(actor=crm, name="EUR", criteria={}, currency="EUR")
    with pytest.raises(CampaignInvalid) as excinfo:
        new_campaign(crm, template, eur)
    assert "template" in excinfo.value.fields
    new_campaign(crm, template, segment, name="Taken")
    with pytest.raises(CampaignInvalid) as excinfo:
        new_campaign(crm, template, segment, name="taken")
    assert "name" in excinfo.value.fields


def test_a_window_not_yet_open_does_not_start(crm):
    campaign = campaigns.campaign_create(
        actor=crm,
        name="Later",
        segment=gb_segment(crm),
        template=cash_template(crm),
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=2),
    )
    with pytest.raises(CampaignWrongState) as excinfo:
        campaigns.campaign_start(actor=crm, campaign=campaign)
    assert excinfo.value.code == "campaign_state"
    assert excinfo.value.status == 409


def test_without_the_permission_nothing_happens(crm):
    support = StaffUserFactory(roles=[roles.SUPPORT_AGENT])
    template, segment = cash_template(crm), gb_segment(crm)
    with pytest.raises(CampaignNotPermitted) as excinfo:
        new_campaign(support, template, segment)
    assert excinfo.value.code == "campaign_not_permitted"
    campaign = new_campaign(crm, template, segment)
    with pytest.raises(CampaignNotPermitted):
        campaigns.campaign_start(actor=support, campaign=campaign)
    with pytest.raises(CampaignNotPermitted):
        campaigns.campaign_cancel(actor=support, campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.DRAFT


def test_the_task_runs_the_campaign_and_the_sweep_requeues_a_stalled_one(crm, django_capture_on_commit_callbacks):
    for _ in range(2):
        gb_player()
    campaign = new_campaign(crm, cash_template(crm), gb_segment(crm))
    with django_capture_on_commit_callbacks(execute=False):
        campaigns.campaign_start(actor=crm, campaign=campaign)
    assert tasks.crm_campaign_run.run(campaign.pk) == 1
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.COMPLETED
    assert tasks.crm_campaigns_resume.run() == 0


def test_the_forecast_counts_targets_and_the_most_it_costs(crm):
    for _ in range(3):
        gb_player()
    campaign = new_campaign(crm, cash_template(crm, budget="25.00"), gb_segment(crm))
    got = campaigns.forecast(campaign)
    assert (got["count"], got["exact"], got["per_player"], got["most"]) == (3, True, D("10.00"), D("25.00"))


def test_the_admin_builds_forecasts_starts_and_shows_progress(crm, django_capture_on_commit_callbacks):
    from tests.conftest import verified_client

    for _ in range(2):
        gb_player()
    template, segment = cash_template(crm), gb_segment(crm)
    client = verified_client(crm)
    now = timezone.now()
    form = {
        "name": "Winter cash",
        "segment": segment.pk,
        "template": template.pk,
        "mode": "award",
        "starts_at_0": f"{now:%Y-%m-%d}",
        "starts_at_1": f"{now - timedelta(minutes=1):%H:%M:%S}",
        "ends_at_0": f"{now + timedelta(days=1):%Y-%m-%d}",
        "ends_at_1": f"{now:%H:%M:%S}",
    }
    bad = client.post("/admin/crm/campaign/add/", {**form, "ends_at_0": f"{now - timedelta(days=2):%Y-%m-%d}"})
    assert bad.status_code == 200 and "The end comes after the start." in bad.content.decode()
    response = client.post("/admin/crm/campaign/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get(name="Winter cash")
    page = client.get(f"/admin/crm/campaign/{campaign.pk}/change/").content.decode()
    assert 'id="campaign-forecast"' in page and "<strong>2</strong> players" in page and "20.00 GBP" in page
    with django_capture_on_commit_callbacks(execute=False):
        started = client.post(f"/admin/crm/campaign/{campaign.pk}/start/")
    assert started.status_code == 302
    campaigns.campaign_chunk(campaign_id=campaign.pk, size=1)
    page = client.get(f"/admin/crm/campaign/{campaign.pk}/change/").content.decode()
    assert 'data-percent="50"' in page and 'http-equiv="refresh"' in page and "10.00 GBP" in page


def test_a_start_with_the_broker_down_commits_and_the_sweep_queues_it_later(crm, django_capture_on_commit_callbacks):
    """The job is sent after the commit; a broker that cannot take it no longer turns the committed start into
    an error (AfterCommitTask's callback is robust): the campaign is running and the resume sweep finds it."""
    from backoffice.celery import app

    gb_player()
    campaign = new_campaign(crm, cash_template(crm), gb_segment(crm))
    old = app.conf.broker_write_url, app.conf.broker_url, app._pool, app.amqp._producer_pool
    app.conf.broker_write_url = app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    app._pool = app.amqp._producer_pool = None  # pools for the dead address, made by the next send
    try:
        with django_capture_on_commit_callbacks(execute=True) as sent:  # the commit, and what follows it
            campaigns.campaign_start(actor=crm, campaign=campaign)
    finally:
        if app._pool is not None:
            app._pool.force_close_all()  # the dead address's; the suite's own pools were never touched
        app.conf.broker_write_url, app.conf.broker_url, app._pool, app.amqp._producer_pool = old
    assert len(sent) == 1  # the job's send was tried, failed, and did not raise
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.RUNNING
    Campaign.objects.filter(pk=campaign.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert campaigns.stalled_campaign_ids() == [campaign.pk]
