from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEvent
from apps.players.models import Player, PlayerLogin
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
LIST = "/admin/players/player/"


def page(player) -> str:
    return f"{LIST}{player.pk}/change/"


def test_the_360_page_shows_every_section_and_logs_the_view(staff_client, support_agent, player):
    PlayerLogin.objects.create(player=player, ip="81.2.69.160", ip_country="GB", allowed=True, device_id="dev-9")
    response = staff_client(support_agent).get(page(player))
    assert response.status_code == 200
    html = response.content.decode()
    for section in ('id="profile"', 'id="status"', 'id="tags"', 'id="notes"', 'id="deferred-sessions"'):
        assert section in html
    assert 'id="deferred-history"' not in html  # the personal-data audit history is for audit readers only
    assert player.email in html
    logins = staff_client(support_agent).get(f"{LIST}{player.pk}/section/sessions/?partial=1").content.decode()
    assert 'id="sessions"' in logins and "dev-9" in logins  # loaded after the page (deferred)
    event = AuditEvent.objects.get(action="player.viewed")
    assert event.actor_name == support_agent.username and event.target_id == str(player.pk)


def test_staff_without_a_players_role_cannot_open_it(staff_client, outsider, player):
    assert staff_client(outsider).get(page(player)).status_code == 403
    assert not AuditEvent.objects.filter(action="player.viewed").exists()


def test_an_mlro_blocks_the_account_with_a_reason(staff_client, mlro, player):
    response = staff_client(mlro).post(f"{LIST}{player.pk}/status/", {"status": "blocked", "reason": "fraud ring"})
    assert response.status_code == 302
    player.refresh_from_db()
    assert (player.status, player.status_reason) == ("blocked", "fraud ring")
    event = AuditEvent.objects.get(action="player.blocked")
    assert event.data == {
        "old": "active",
        "new": "blocked",
        "reason": "fraud ring",
        "authority": "compliance",
        "visibility": "compliance",
    }


def test_a_status_change_without_a_reason_changes_nothing(staff_client, mlro, player):
    response = staff_client(mlro).post(f"{LIST}{player.pk}/status/", {"status": "blocked", "reason": ""}, follow=True)
    assert "reason" in response.content.decode()
    player.refresh_from_db()
    assert player.status == "active"


def test_a_support_agent_may_not_change_status_or_blocks(staff_client, support_agent, player):
    client = staff_client(support_agent)
    assert client.post(f"{LIST}{player.pk}/status/", {"status": "blocked", "reason": "x"}).status_code == 403
    assert (
        client.post(f"{LIST}{player.pk}/block/", {"capability": "bet", "blocked": "1", "reason": "x"}).status_code
        == 403
    )
    player.refresh_from_db()
    assert player.status == "active" and not player.blocked_bet


def test_a_finance_officer_blocks_withdrawals(staff_client, finance_officer, player):
    client = staff_client(finance_officer)
    client.post(f"{LIST}{player.pk}/block/", {"capability": "withdrawal", "blocked": "1", "reason": "chargeback"})
    player.refresh_from_db()
    assert player.blocked_withdrawal
    assert AuditEvent.objects.get(action="player.blocked_for_withdrawal").data["reason"] == "chargeback"


def test_notes_and_tags(staff_client, aml_analyst, player):
    client = staff_client(aml_analyst)
    client.post(f"{LIST}{player.pk}/note/", {"text": "Called the player about source of funds."})
    client.post(f"{LIST}{player.pk}/tags/", {"tags": "High roller, watch"})
    assert player.notes.get().author == aml_analyst
    assert sorted(player.tags.values_list("name", flat=True)) == ["high-roller", "watch"]
    html = client.get(page(player)).content.decode()
    assert "source of funds" in html and "high-roller" in html
    assert {"player.note_added", "player.tags_changed"} <= set(AuditEvent.objects.values_list("action", flat=True))


def test_the_same_person_across_accounts_is_found(staff_client, aml_analyst):
    from datetime import date

    first = PlayerFactory(first_name="Zoë", last_name="O'Brien", date_of_birth=date(1990, 4, 2))
    second = PlayerFactory(first_name="zoe", last_name="OBRIEN", date_of_birth=date(1990, 4, 2))
    gmail_a = PlayerFactory(email="j.smith+casino@gmail.com")
    gmail_b = PlayerFactory(email="JSmith@googlemail.com")
    stranger = PlayerFactory(first_name="Zoe", last_name="OBrien", date_of_birth=date(1991, 4, 2))
    client = staff_client(aml_analyst)
    same = client.get(f"{LIST}{first.pk}/section/same-person/?partial=1").content.decode()  # after the page
    assert f"{LIST}{second.pk}/change/" in same
    html = client.get(LIST, {"same_person_as": gmail_a.external_id}).content.decode()
    assert gmail_b.external_id in html and stranger.external_id not in html


def test_search_by_email_phone_name_and_external_id(staff_client, support_agent):
    target = PlayerFactory(email="needle@example.org", phone="+447911123456", last_name="Haystack")
    other = PlayerFactory()
    client = staff_client(support_agent)
    for term in ("needle@example", "+447911123456", "haystack", target.external_id):
        html = client.get(LIST, {"q": term}).content.decode()
        assert target.external_id in html and other.external_id not in html, term


def test_the_changelist_never_counts_or_distincts_the_whole_table(staff_client, support_agent):
    for _ in range(5):
        PlayerFactory()
    with CaptureQueriesContext(connection) as queries:
        response = staff_client(support_agent).get(LIST, {"status": "active", "country": "GB", "q": "player"})
    assert response.status_code == 200
    player_sql = [q["sql"].upper() for q in queries if "PLAYERS_PLAYER" in q["sql"].upper()]
    assert not [s for s in player_sql if "DISTINCT" in s]
    assert all("LIMIT" in s for s in player_sql if "COUNT(" in s)


def test_players_cannot_be_added_or_deleted_in_the_admin(staff_client, admin_user, player):
    client = staff_client(admin_user)
    assert client.get(f"{LIST}add/").status_code == 403
    assert client.post(f"{page(player)[:-7]}delete/", {"post": "yes"}).status_code == 403
    assert Player.objects.filter(pk=player.pk).exists()


def test_an_administrator_corrects_a_profile_with_a_reason(staff_client, admin_user, player):
    from datetime import date

    form = {
        "first_name": "Jo", "last_name": player.last_name, "date_of_birth": "1990-01-02", "email": player.email,
        "phone": "+44 7911 123456", "address_line": "", "city": "", "postal_code": "", "vip_tier": "gold",
        "gender": "female", "reason": "passport checked",
    }  # fmt: skip
    fingerprint = player.identity_fingerprint
    response = staff_client(admin_user).post(f"{LIST}{player.pk}/profile/", form)
    assert response.status_code == 302
    player.refresh_from_db()
    assert (player.first_name, player.date_of_birth, player.phone, player.vip_tier, player.gender) == (
        "Jo", date(1990, 1, 2), "+447911123456", "gold", "female")  # fmt: skip
    assert player.identity_fingerprint != fingerprint
    event = AuditEvent.objects.get(action="player.updated")
    assert event.data["reason"] == "passport checked" and event.data["first_name"]["new"] == "Jo"


def test_a_profile_correction_needs_a_reason_and_the_permission(staff_client, admin_user, support_agent, player):
    form = {"first_name": "Jo", "last_name": "X", "date_of_birth": "1990-01-02", "email": player.email, "reason": ""}
    staff_client(admin_user).post(f"{LIST}{player.pk}/profile/", form)
    player.refresh_from_db()
    assert player.first_name != "Jo"
    form["reason"] = "typo"
    assert staff_client(support_agent).post(f"{LIST}{player.pk}/profile/", form).status_code == 403
