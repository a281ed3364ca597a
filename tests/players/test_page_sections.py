"""The player page's deferred sections (issue 12's page budget): the history, the wallet and the KYC section come
from their own admin view (PlayerAdmin.section_view), after the page. Each one checks what the page checks (the
player's view permission) and what its section shows on its own rules; a fragment load writes no audit event."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.audit.models import AuditEvent
from apps.players import services
from apps.staff import roles
from apps.wallet import posting
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

# section -> (what its fragment shows, the permission its context function asks for)
SECTIONS = {
    "history": ('id="history"', "audit.view_auditevent"),
    "wallet": ('id="wallet"', "wallet.view_ledgertransaction"),
    "kyc": ('id="kyc"', "kyc.view_kycprofile"),
    "sessions": ('id="sessions"', "players.view_playerlogin"),
    "same-person": ('id="same-person"', "players.view_player"),  # every viewer of the page
}
ROLES = (
    roles.ADMINISTRATOR,
    roles.SUPPORT_AGENT,
    roles.FINANCE_OFFICER,
    roles.KYC_OFFICER,
    roles.AML_ANALYST,
    roles.MLRO,
    roles.CRM_MANAGER,
)


def url(player, name: str, *, partial: bool = True) -> str:
    return f"/admin/players/player/{player.pk}/section/{name}/" + ("?partial=1" if partial else "")


@pytest.fixture
def known_player(admin_user):
    player = PlayerFactory()
    posting.wallet_deposit(player=player, amount=Decimal("25.00"), currency=player.currency)
    services.player_note_add(actor=admin_user, player=player, text="Called about a bonus.")
    return player


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_a_fragment_shows_a_section_only_to_who_sees_it_on_the_page(staff_client, known_player, role, name):
    marker, perm = SECTIONS[name]
    user = StaffUserFactory(roles=[role])
    client = staff_client(user)
    page = client.get(f"/admin/players/player/{known_player.pk}/change/")
    if not user.has_perm("players.view_player"):
        assert page.status_code == 403
        assert client.get(url(known_player, name)).status_code == 403
        return
    views = AuditEvent.objects.filter(action="player.viewed").count()
    partial = client.get(url(known_player, name))
    full = client.get(url(known_player, name, partial=False))
    if user.has_perm(perm):  # granted: the section, alone for the script, in the admin's layout for the link
        assert partial.status_code == 200 and marker in partial.content.decode()
        assert "<html" not in partial.content.decode()
        assert full.status_code == 200 and marker in full.content.decode() and "<html" in full.content.decode()
    else:  # denied: nothing of it
        assert partial.status_code == 204 and partial.content == b""
        assert full.status_code == 403
    assert AuditEvent.objects.filter(action="player.viewed").count() == views  # the page view wrote the one


def test_every_section_is_granted_to_some_role_and_denied_to_another():
    """The parametrized test above checks both outcomes for each section, not only one."""
    users = [StaffUserFactory(roles=[role]) for role in ROLES]
    for name, (_, perm) in SECTIONS.items():
        if perm == "players.view_player":
            continue
        seen = {u.has_perm(perm) for u in users if u.has_perm("players.view_player")}
        assert seen == {True, False}, name


def test_the_page_holds_a_placeholder_with_a_link_where_each_deferred_section_goes(
    staff_client, admin_user, known_player
):
    html = staff_client(admin_user).get(f"/admin/players/player/{known_player.pk}/change/").content.decode()
    for name in SECTIONS:
        assert f'id="deferred-{name}"' in html
        assert f'data-url="{url(known_player, name)}"' in html
        assert f'href="{url(known_player, name, partial=False)}"' in html  # without JavaScript: the section's page
    for shown in ('id="timeline"', 'id="wallet"', 'id="kyc"', 'id="sessions"', 'id="same-person"'):
        assert shown not in html
    assert "pitboss/player_sections.js" in html
    assert 'id="responsible"' in html  # the safer-gambling section is not deferred: on the page at once
    assert 'id="capabilities"' in html and 'id="status"' in html


def test_the_history_fragment_is_the_timeline(staff_client, admin_user, known_player):
    client = staff_client(admin_user)
    for _ in range(3):
        client.get(f"/admin/players/player/{known_player.pk}/change/")
    html = client.get(url(known_player, "history")).content.decode()
    assert f"Profile viewed 3 times, last by {admin_user.username}" in html
    assert "Note added" in html


def test_an_unknown_section_or_player_is_not_found(staff_client, admin_user, known_player):
    client = staff_client(admin_user)
    assert client.get(url(known_player, "nothing")).status_code == 404
    assert client.get(f"/admin/players/player/{known_player.pk + 999}/section/history/?partial=1").status_code == 404


def test_the_same_person_fragment_lists_the_other_accounts(staff_client, aml_analyst):
    from datetime import date

    one = PlayerFactory(first_name="Zoë", last_name="O'Brien", date_of_birth=date(1990, 4, 2))
    two = PlayerFactory(first_name="zoe", last_name="OBRIEN", date_of_birth=date(1990, 4, 2))
    html = staff_client(aml_analyst).get(url(one, "same-person")).content.decode()
    assert f"/admin/players/player/{two.pk}/change/" in html
    alone = staff_client(aml_analyst).get(url(PlayerFactory(), "same-person")).content.decode()
    assert "No other account shares" in alone


def test_a_section_not_deferred_has_no_fragment(staff_client, admin_user, known_player):
    assert staff_client(admin_user).get(url(known_player, "responsible")).status_code == 404
