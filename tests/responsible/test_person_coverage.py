"""An exclusion follows the person: the accounts and keys it recorded when placed, later accounts with the same
e-mail or phone, accounts and deposits with the same card, and identity edits that need a second person."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.players.eligibility import can
from apps.players.services import ChangeHeld, player_update
from apps.responsible import services
from apps.responsible.choices import CoverKind, CoverLink
from apps.responsible.identity_changes import identity_change_decide
from apps.responsible.models import ExclusionCover, IdentityChangeRequest
from apps.wallet import posting
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("tests")
PLAYERS = "/admin/players/player/"
MARKETS = [("GB", "GBP"), ("MT", "EUR")]


def page(player) -> str:
    return f"{PLAYERS}{player.pk}/change/"


def refusals(player, action: str) -> list[str]:
    return can(player, action).reasons


def assert_excluded(player) -> None:
    for action in ("login", "deposit", "bet"):
        assert "self_excluded" in refusals(player, action), action
    assert "self_excluded" not in refusals(player, "withdraw")  # their money is never locked in


def deposit(player, amount: str = "20.00", instrument: str = "") -> posting.Posted:
    return posting.wallet_deposit(
        player=player, amount=Decimal(amount), currency=player.currency, instrument_fingerprint=instrument
    )


def twins(country: str, currency: str):
    """Account A and its twin B: the same person (name and birth date), another e-mail."""
    a = PlayerFactory(
        first_name="Ann", last_name="Smith", date_of_birth=date(1990, 3, 4), country=country, currency=currency
    )
    b = PlayerFactory(
        first_name="Ann", last_name="Smith", date_of_birth=date(1990, 3, 4), country=country, currency=currency
    )
    return a, b


@pytest.mark.parametrize(("country", "currency"), MARKETS)
def test_it_keeps_the_twin_excluded_when_a_second_person_applies_a_birth_date_edit(
    staff_client, kyc_officer, country, currency
):
    a, b = twins(country, currency)
    exclusion = services.self_exclude(actor=ACTOR, player=a, term="1y")
    assert ExclusionCover.objects.filter(
        exclusion=exclusion, kind=CoverKind.ACCOUNT, player=b, link=CoverLink.FINGERPRINT
    ).exists()
    assert_excluded(b)
    form = {
        "first_name": b.first_name, "last_name": b.last_name, "date_of_birth": "1990-03-05", "email": b.email,
        "phone": "", "address_line": "", "city": "", "postal_code": "", "vip_tier": "", "reason": "passport says 5th",
    }  # fmt: skip
    maker = staff_client(kyc_officer)
    response = maker.post(f"{PLAYERS}{b.pk}/profile/", form, follow=True)
    assert "needs a second person" in response.content.decode()
    b.refresh_from_db()
    assert b.date_of_birth == date(1990, 3, 4)  # not applied
    held = IdentityChangeRequest.objects.get(player=b)
    assert held.approved is None and held.requested_by == kyc_officer and held.exclusion_ids == [exclusion.pk]
    assert held.changes["date_of_birth"] == {"old": "1990-03-04", "new": "1990-03-05"}
    with pytest.raises(Exception) as same:
        identity_change_decide(actor=kyc_officer, request=held, approve=True)
    assert same.value.code == "same_approver"

    checker = StaffUserFactory(roles=["KYC Officer"])
    identity_change_decide(actor=checker, request=held, approve=True)
    b.refresh_from_db()
    assert b.date_of_birth == date(1990, 3, 5) and b.identity_fingerprint != a.identity_fingerprint
    assert_excluded(b)  # login, deposit and bet refused; withdraw not
    with pytest.raises(posting.PostingRefused) as refused:
        deposit(b)
    assert refused.value.code == "self_excluded"
    with pytest.raises(Exception) as again:
        identity_change_decide(actor=checker, request=held, approve=False)
    assert again.value.code == "already_decided"
    html = staff_client(checker).get(page(b)).content.decode()
    assert f"/admin/responsible/exclusion/{exclusion.pk}/change/" in html
    assert "recorded when excluded (same person by birth-date/name)" in html
    assert "a change of name or date of birth needs a second person" in html
    actions = list(AuditEvent.objects.filter(target_id=str(b.pk)).values_list("action", flat=True))
    assert {"rg.identity_change_requested", "rg.identity_change_applied", "player.updated"} <= set(actions)


def test_it_raises_second_person_required_and_records_the_whole_edit(kyc_officer):
    a, b = twins("GB", "GBP")
    services.self_exclude(actor=ACTOR, player=a, term="5y")
    with pytest.raises(Exception) as held:
        player_update(
            actor=kyc_officer,
            player=b,
            changes={"last_name": "Smyth", "city": "Leeds"},
            staff=True,
            reason="KYC document",
        )
    assert held.value.code == "second_person_required"
    b.refresh_from_db()
    assert (b.last_name, b.city) == ("Smith", "")
    request = IdentityChangeRequest.objects.get(player=b)
    assert set(request.changes) == {"last_name", "city"}
    checker = StaffUserFactory(roles=["MLRO"])
    identity_change_decide(actor=checker, request=request, approve=False, reason="not the same person")
    b.refresh_from_db()
    assert b.last_name == "Smith"
    assert AuditEvent.objects.filter(action="rg.identity_change_refused").exists()


def test_it_lets_identity_edits_of_accounts_no_exclusion_covers_through(kyc_officer):
    stranger = PlayerFactory()
    player_update(actor=kyc_officer, player=stranger, changes={"first_name": "Jo"}, staff=True, reason="typo")
    stranger.refresh_from_db()
    assert stranger.first_name == "Jo" and not IdentityChangeRequest.objects.exists()


def test_it_refuses_a_decision_without_the_permission(kyc_officer, support_agent, staff_client):
    a, b = twins("GB", "GBP")
    services.self_exclude(actor=ACTOR, player=a, term="1y")
    with pytest.raises(ChangeHeld):
        player_update(actor=kyc_officer, player=b, changes={"first_name": "Anne"}, staff=True, reason="typo")
    request = IdentityChangeRequest.objects.get()
    with pytest.raises(Exception) as denied:
        identity_change_decide(actor=support_agent, request=request, approve=True)
    assert denied.value.code == "permission_denied"
    queue = "/admin/responsible/identitychangerequest/"
    post = {"action": "apply", "_selected_action": [request.pk]}
    assert staff_client(support_agent).post(queue, post).status_code == 403
    checker = StaffUserFactory(roles=["Administrator"])
    assert staff_client(checker).post(queue, post).status_code == 302
    b.refresh_from_db()
    assert b.first_name == "Anne"
    assert_excluded(b)


@pytest.mark.parametrize(("country", "currency"), MARKETS)
def test_it_covers_accounts_registered_later_with_the_same_email_or_phone(staff_client, admin_user, country, currency):
    a = PlayerFactory(email="ann.smith@gmail.com", phone="+447911123456", country=country, currency=currency)
    services.self_exclude(actor=ACTOR, player=a, term="1y")
    same_email = PlayerFactory(email="annsmith+casino@gmail.com", country=country, currency=currency)
    same_phone = PlayerFactory(phone="+447911123456", country=country, currency=currency)
    stranger = PlayerFactory(country=country, currency=currency)
    assert_excluded(same_email)
    assert_excluded(same_phone)
    assert can(stranger, "login").allowed
    client = staff_client(admin_user)
    assert "same e-mail" in client.get(page(same_email)).content.decode()
    assert "same phone" in client.get(page(same_phone)).content.decode()


def test_it_keeps_covering_an_account_found_by_email_after_its_email_changes(kyc_officer):
    a = PlayerFactory(email="ann@example.org")
    services.self_exclude(actor=ACTOR, player=a, term="1y")
    later = PlayerFactory(email="ANN+2@example.org")
    assert_excluded(later)
    player_update(actor=None, player=later, changes={"email": "someone.else@example.org"})  # the platform, no 4 eyes
    later.refresh_from_db()
    assert later.email == "someone.else@example.org"
    assert_excluded(later)  # recorded before the edit applied
    assert AuditEvent.objects.get(action="rg.coverage_recorded", target_id=str(later.pk)).data["before"] == ["email"]


@pytest.mark.parametrize(("country", "currency"), MARKETS)
def test_it_covers_accounts_and_refuses_deposits_that_use_the_same_card(staff_client, admin_user, country, currency):
    a = PlayerFactory(country=country, currency=currency)
    card_sharer = PlayerFactory(country=country, currency=currency)
    deposit(a, instrument="card-4111")
    deposit(card_sharer, instrument="card-4111")
    services.self_exclude(actor=ACTOR, player=a, term="1y")
    assert_excluded(card_sharer)
    assert "recorded when excluded (same card)" in staff_client(admin_user).get(page(card_sharer)).content.decode()
    newcomer = PlayerFactory(country=country, currency=currency)
    with pytest.raises(posting.PostingRefused) as refused:
        deposit(newcomer, instrument="card-4111")
    assert refused.value.code == "self_excluded" and "instrument_excluded" in refused.value.fields["reasons"]
    deposit(newcomer, instrument="card-5555")  # another card: fine
    assert can(newcomer, "login").allowed


def test_it_refuses_a_deposit_with_an_excluded_card_through_the_api(platform_client):
    import uuid

    a = PlayerFactory()
    deposit(a, instrument="card-9999")
    services.self_exclude(actor=ACTOR, player=a, term="1y")
    other = PlayerFactory()
    body = {
        "type": "deposit", "player": other.external_id, "amount": "10.00", "currency": "GBP",
        "payment_method": "card", "instrument_fingerprint": "card-9999",
    }  # fmt: skip
    response = platform_client.api().post(
        "/api/v1/wallet/transactions/", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
    )
    assert response.status_code == 403 and response.json()["code"] == "self_excluded"


def test_it_stops_covering_when_the_exclusion_ends():
    import time_machine
    from django.utils import timezone

    a = PlayerFactory(phone="+447700900123")
    services.time_out(actor=ACTOR, player=a, hours=24)
    same_phone = PlayerFactory(phone="+447700900123")
    assert "timed_out" in refusals(same_phone, "login")
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        assert can(same_phone, "login").allowed


def test_a_correction_keeps_what_the_exclusion_covered(kyc_officer, support_agent, aml_analyst):
    a, b = twins("GB", "GBP")
    exclusion = services.self_exclude(actor=ACTOR, player=a, term="1y")
    correction = services.exclusion_correction_request(actor=support_agent, exclusion=exclusion, term="5y", reason="x")
    replacement = services.exclusion_correction_decide(actor=aml_analyst, correction=correction, approve=True)
    assert ExclusionCover.objects.filter(exclusion=replacement, player=b).exists()
    with pytest.raises(ChangeHeld):
        player_update(actor=kyc_officer, player=b, changes={"date_of_birth": date(1991, 3, 4)}, staff=True, reason="r")
    request = IdentityChangeRequest.objects.get()
    assert request.exclusion_ids == [replacement.pk]
    identity_change_decide(actor=StaffUserFactory(roles=["KYC Officer"]), request=request, approve=True)
    assert_excluded(b)


def test_the_database_refuses_to_change_or_remove_coverage_and_decided_requests(kyc_officer):
    def refused(sql: str, params: list, message: str) -> None:
        with pytest.raises(DatabaseError, match=message), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)

    a, b = twins("GB", "GBP")
    services.self_exclude(actor=ACTOR, player=a, term="1y")
    cover = ExclusionCover.objects.filter(player=b).get()
    refused("UPDATE responsible_exclusioncover SET link = 'email' WHERE id = %s", [cover.pk], "Cannot update or delete")
    refused("DELETE FROM responsible_exclusioncover WHERE id = %s", [cover.pk], "Cannot update or delete")
    assert ExclusionCover.objects.filter(pk=cover.pk, player=b, link=CoverLink.FINGERPRINT).exists()
    with pytest.raises(ChangeHeld):
        player_update(actor=kyc_officer, player=b, changes={"first_name": "Anne"}, staff=True, reason="typo")
    request = IdentityChangeRequest.objects.get()
    refused(  # the maker approving their own edit
        "UPDATE responsible_identitychangerequest SET approved = true, decided_by_id = %s WHERE id = %s",
        [kyc_officer.pk, request.pk],
        "needs a second person",
    )
    refused("UPDATE responsible_identitychangerequest SET reason = 'x' WHERE id = %s", [request.pk], "cannot change")
    refused("DELETE FROM responsible_identitychangerequest WHERE id = %s", [request.pk], "Cannot delete")
    identity_change_decide(
        actor=StaffUserFactory(roles=["KYC Officer"]), request=request, approve=False, reason="documents do not match"
    )
    refused(
        "UPDATE responsible_identitychangerequest SET approved = true WHERE id = %s", [request.pk], "already decided"
    )


def test_identity_change_requests_need_a_staff_maker_a_reason_and_a_change(kyc_officer):
    from apps.responsible.identity_changes import identity_change_request

    player = PlayerFactory()
    diff = {"first_name": {"old": player.first_name, "new": "Jo"}}
    for kwargs, code in (
        ({"actor": ACTOR, "diff": diff, "reason": "typo"}, "staff_only"),
        ({"actor": kyc_officer, "diff": diff, "reason": "  "}, "reason_required"),
        ({"actor": kyc_officer, "diff": {}, "reason": "typo"}, "nothing_to_change"),
    ):
        with pytest.raises(Exception) as refused:
            identity_change_request(player=player, **kwargs)
        assert refused.value.code == code
    assert not IdentityChangeRequest.objects.exists()


def test_the_queue_and_the_exclusion_page_show_what_is_held_and_covered(staff_client, kyc_officer):
    a, b = twins("GB", "GBP")
    exclusion = services.self_exclude(actor=ACTOR, player=a, term="1y")
    with pytest.raises(ChangeHeld):
        player_update(actor=kyc_officer, player=b, changes={"first_name": "Anne"}, staff=True, reason="typo")
    client = staff_client(StaffUserFactory(roles=["KYC Officer"]))
    queue = client.get("/admin/responsible/identitychangerequest/", {"decision": "pending"}).content.decode()
    assert "first_name: Ann → Anne" in queue and "to decide" in queue
    html = client.get(f"/admin/responsible/exclusion/{exclusion.pk}/change/").content.decode()
    assert b.external_id in html and "same person by birth-date/name" in html
    assert "E-mail (keyed hash): 2" in html and "(name and birth date): 1" in html  # twins: one fingerprint
    assert "Identity edits waiting for a second person" in client.get(page(b)).content.decode()


def test_the_migration_records_what_exclusions_already_in_force_cover():
    import importlib

    from apps.responsible.models import Exclusion

    a = PlayerFactory(phone="+447700900555")
    same_phone = PlayerFactory(phone="+447700900555")
    card_sharer = PlayerFactory()
    deposit(a, instrument="card-1234")
    deposit(card_sharer, instrument="card-1234")
    old = Exclusion.objects.create(  # as placed before coverage was recorded
        player=a, identity_fingerprint=a.identity_fingerprint, kind="self_exclusion", term="5y"
    )
    backfill = importlib.import_module("apps.responsible.migrations.0006_backfill_coverage").BACKFILL
    for _ in range(2):  # idempotent
        with connection.cursor() as cursor:
            cursor.execute(backfill)
    accounts = dict(ExclusionCover.objects.filter(exclusion=old, kind=CoverKind.ACCOUNT).values_list("player", "link"))
    assert accounts == {a.pk: "excluded", same_phone.pk: "phone", card_sharer.pk: "instrument"}
    keys = ExclusionCover.objects.filter(exclusion=old).exclude(kind=CoverKind.ACCOUNT).values_list("kind", "key")
    assert set(keys) == {
        ("fingerprint", a.identity_fingerprint), ("fingerprint", same_phone.identity_fingerprint),
        ("email", a.email_hash), ("email", same_phone.email_hash), ("phone", a.phone_hash), ("instrument", "card-1234"),
    }  # fmt: skip
    assert_excluded(card_sharer)
    with pytest.raises(posting.PostingRefused):
        deposit(PlayerFactory(), instrument="card-1234")


def test_an_approval_lets_through_only_the_edit_it_approved(kyc_officer):
    a, b = twins("GB", "GBP")
    services.self_exclude(actor=ACTOR, player=a, term="1y")
    with pytest.raises(ChangeHeld):
        player_update(actor=kyc_officer, player=b, changes={"first_name": "Anne"}, staff=True, reason="typo")
    request = IdentityChangeRequest.objects.get()
    request.approved, request.decided_by_id = True, StaffUserFactory().pk  # as the decision holds it
    with pytest.raises(ChangeHeld):
        player_update(
            actor=kyc_officer, player=b, changes={"first_name": "Someone"}, staff=True, reason="x", approval=request
        )
    b.refresh_from_db()
    assert b.first_name == "Ann" and IdentityChangeRequest.objects.count() == 2


def test_the_platform_sees_the_self_exclusion_on_a_covered_account(platform_client):
    a = PlayerFactory(phone="+447700900777")
    services.self_exclude(actor=ACTOR, player=a, term="1y")
    same_phone = PlayerFactory(phone="+447700900777")
    overview = platform_client.api().get(f"/api/v1/players/{same_phone.external_id}/responsible-gambling/").json()
    assert overview["self_exclusion"] is not None and overview["self_exclusion"]["term"] == "1y"
    eligibility = platform_client.api().get(f"/api/v1/players/{same_phone.external_id}/eligibility/?action=login")
    assert eligibility.json()["reasons"] == ["self_excluded"]
