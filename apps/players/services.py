"""Player writes. Every change: guards, the change, an audit event, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import AuditActor, audit_log
from apps.core.errors import Conflict, EmailTaken, ValidationFailed
from apps.geo import config as geo_config
from apps.geo.config import Rules
from apps.geo.decision import REGISTRATION, decide
from apps.geo.iplookup import lookup
from apps.players import identity
from apps.players.choices import Visibility
from apps.players.eligibility import Eligibility, can
from apps.players.errors import (
    ExternalIdTaken,
    FieldReadOnly,
    PlayerExists,
    RegistrationRefused,
    VisibilityInvalid,
    VisibilityNotAllowed,
)
from apps.players.models import Player, PlayerLogin, PlayerNote, Tag

# Restrictions (a status or a capability block, on an authority) live in their own module; callers reach them
# here too, the players app's one way in.
from apps.players.restrictions import (
    STATUS_ACTIONS,
    authority_for,
    player_set_block,
    player_set_status,
    register_restriction_hook,
    require_authority,
    restriction_placed,
)
from apps.players.validation import clean_staff_text, require_reason

__all__ = [
    "STATUS_ACTIONS",
    "authority_for",
    "player_set_block",
    "player_set_status",
    "register_restriction_hook",
    "require_authority",
    "restriction_placed",
]

MARKETING_CHANNELS = ("email", "sms", "phone", "post")
# What the platform may change through PATCH; the rest (name, date of birth, residence, currency) is staff's.
PLATFORM_EDITABLE = (
    "username",
    "gender",
    "email",
    "phone",
    "address_line",
    "city",
    "postal_code",
    "language",
    "affiliate_tag",
    "terms_version",
    *(f"marketing_{c}" for c in MARKETING_CHANNELS),
)
STAFF_EDITABLE = (*PLATFORM_EDITABLE, "first_name", "last_name", "date_of_birth", "region", "vip_tier")


def _set_identity_keys(player: Player) -> None:
    player.identity_fingerprint = identity.fingerprint(player.first_name, player.last_name, player.date_of_birth)
    player.email_hash = identity.email_hash(player.email)
    player.phone_hash = identity.phone_hash(player.phone)


def _duplicate_check(*, external_id: str | None, email: str | None, brand_id: int, exclude: int | None = None) -> None:
    """external_id is the platform's and unique everywhere; an e-mail is unique within its brand only (the same
    person may play at two brands, and another brand's client must not learn that they do)."""
    others = Player.objects.exclude(pk=exclude) if exclude else Player.objects.all()
    if external_id is not None and others.filter(external_id=external_id).exists():
        raise ExternalIdTaken("A player with this external_id exists.", fields={"external_id": ["Taken."]})
    if email is not None and others.filter(brand_id=brand_id, email__iexact=email).exists():
        raise EmailTaken("A player with this e-mail exists.", fields={"email": ["Taken."]})


@transaction.atomic
def player_lock(player: Player) -> Player:
    """The player's row, locked for the rest of the transaction (serialises changes to one player)."""
    return Player.objects.select_for_update().get(pk=player.pk)


RegistrationCheck = Callable[[Player, Rules | None], dict[str, list[str]]]
_registration_checks: list[RegistrationCheck] = []


def register_registration_check(check: RegistrationCheck) -> RegistrationCheck:
    """``check(candidate, rules)`` runs before a registration is stored and returns field errors ("code: why")
    that refuse it (apps.responsible asks the national self-exclusion register here)."""
    if check not in _registration_checks:
        _registration_checks.append(check)
    return check


RegisteredHook = Callable[..., None]
_registered_hooks: list[RegisteredHook] = []


def register_registered_hook(hook: RegisteredHook) -> RegisteredHook:
    """``hook(actor=, player=, rules=)`` runs in the registration's transaction once the player is saved
    (apps.kyc raises the verification the jurisdiction asks for before deposit or play)."""
    if hook not in _registered_hooks:
        _registered_hooks.append(hook)
    return hook


IDENTITY_FIELDS = ("first_name", "last_name", "date_of_birth")


class ChangeHeld(Conflict):
    """A profile edit was not applied: a profile guard recorded it for a second person to decide."""

    code = "second_person_required"
    when = "an identity edit of an account an exclusion covers was recorded for a second person, not applied"


ProfileGuard = Callable[..., "ChangeHeld | None"]
_profile_guards: list[ProfileGuard] = []


def register_profile_guard(guard: ProfileGuard) -> ProfileGuard:
    """``guard(actor=, player=, diff=, reason=, approval=)`` runs in ``player_update``'s transaction before an edit
    is saved (``player`` locked, ``diff``: field -> {"old", "new"}). A guard that returns a ``ChangeHeld`` holds the
    whole edit: nothing is applied, what the guard recorded is committed, then the error is raised.
    apps.responsible holds a name or birth-date edit of an account covered by an exclusion in force until a
    second person decides; ``approval`` is what that decision passes back to ``player_update``."""
    if guard not in _profile_guards:
        _profile_guards.append(guard)
    return guard


def player_register(*, actor: AuditActor | None, data: dict[str, Any], ip: str | None = None) -> Player:
    """Register a player the platform has signed up. ``data`` is validated input (see the API serializer).

    Refused (400 ``registration_refused``, nothing written) when the residence's jurisdiction is unlicensed or
    closed to registrations, the IP is blocked, the player is under the jurisdiction's minimum age, or the
    currency is not allowed there. 409 on a taken external_id or e-mail.
    """
    now = timezone.now()
    snap = geo_config.snapshot()
    decision = decide(snap, country=data["country"], region=data.get("region", ""), ip=ip, at=now, purpose=REGISTRATION)
    fields: dict[str, list[str]] = {}
    for code, why in decision.denials:
        fields.setdefault("registration_ip" if code.startswith("ip_") else "country", []).append(f"{code}: {why}")
    rules = decision.rules
    if rules is not None:
        age = geo_config.age_on(data["date_of_birth"], geo_config.local_date(now, rules))
        if age < rules.min_age:
            fields.setdefault("date_of_birth", []).append(
                f"underage: the minimum age in {rules.jurisdiction} is {rules.min_age}"
            )
        if rules.allowed_currencies and data["currency"] not in rules.allowed_currencies:
            allowed = ", ".join(rules.allowed_currencies)
            fields.setdefault("currency", []).append(f"currency_not_allowed: {rules.jurisdiction} allows {allowed}")
    if fields:
        reasons = sorted({m.split(":", 1)[0] for messages in fields.values() for m in messages})
        raise RegistrationRefused(f"Registration refused: {', '.join(reasons)}.", fields=fields)
    player = Player(**data)
    _duplicate_check(external_id=data["external_id"], email=data["email"], brand_id=player.brand_id)
    player.created_at = now
    player.registration_ip = ip
    player.registration_ip_country = (lookup(ip, snap).country or "") if ip else ""
    if player.terms_version:
        player.terms_accepted_at = now
    for channel in MARKETING_CHANNELS:
        if getattr(player, f"marketing_{channel}"):
            setattr(player, f"marketing_{channel}_at", now)
    _set_identity_keys(player)
    for check in _registration_checks:
        for name, messages in check(player, rules).items():
            fields.setdefault(name, []).extend(messages)
    if fields:
        reasons = sorted({m.split(":", 1)[0] for messages in fields.values() for m in messages})
        raise RegistrationRefused(f"Registration refused: {', '.join(reasons)}.", fields=fields)
    # the register checks above ask over HTTP, outside any transaction; the player and its audit event are one
    with transaction.atomic():
        try:
            with transaction.atomic():
                player.save()
        except IntegrityError as exc:  # a concurrent registration won the race for the same key
            raise PlayerExists("A player with this external_id or e-mail exists.") from exc
        audit_log(
            actor=actor,
            action="player.registered",
            target=player,
            data={"country": player.country, "region": player.region, "currency": player.currency},
        )
        for hook in _registered_hooks:
            hook(actor=actor, player=player, rules=rules)
    return player


def player_update(
    *,
    actor: AuditActor | None,
    player: Player,
    changes: dict[str, Any],
    staff: bool = False,
    reason: str = "",
    approval: Any = None,
) -> Player:
    """Change profile fields; records consent and terms timestamps; keeps identity keys in step.

    The platform may change contact details, consents and terms; staff (``staff=True``, with a reason) may
    also correct the name, birth date, region and VIP tier. A profile guard may hold the edit for a second
    person (``register_profile_guard``): then nothing is applied and ``ChangeHeld`` (``second_person_required``)
    is raised once the guard's record is committed (a caller inside its own transaction must catch it to keep it).
    """
    held: list[ChangeHeld] = []
    updated = _player_update(
        actor=actor, player=player, changes=changes, staff=staff, reason=reason, approval=approval, held=held
    )
    if held:
        raise held[0]
    return updated


@transaction.atomic
def _player_update(
    *,
    actor: AuditActor | None,
    player: Player,
    changes: dict[str, Any],
    staff: bool,
    reason: str,
    approval: Any,
    held: list[ChangeHeld],
) -> Player:
    if staff:
        reason = require_reason(reason)
    allowed = STAFF_EDITABLE if staff else PLATFORM_EDITABLE
    refused = sorted(set(changes) - set(allowed))
    if refused:
        raise FieldReadOnly("These fields cannot be changed here.", fields={f: ["Read-only."] for f in refused})
    changes = {
        name: clean_staff_text(name, value, multiline=name == "address_line") if isinstance(value, str) else value
        for name, value in changes.items()
    }
    player = Player.objects.select_for_update().get(pk=player.pk)
    if "email" in changes and changes["email"].lower() != player.email.lower():
        _duplicate_check(external_id=None, email=changes["email"], brand_id=player.brand_id, exclude=player.pk)
    now = timezone.now()
    diff: dict[str, dict[str, Any]] = {}
    for name, value in changes.items():
        old = getattr(player, name)
        if old == value:
            continue
        diff[name] = {"old": old, "new": value}
        setattr(player, name, value)
        if name.startswith("marketing_"):
            setattr(player, f"{name}_at", now)
        if name == "terms_version":
            player.terms_accepted_at = now
    if not diff:
        return player
    for guard in _profile_guards:
        hold = guard(actor=actor, player=player, diff=diff, reason=reason, approval=approval)
        if hold is not None:
            held.append(hold)
            return player
    _set_identity_keys(player)
    player.save()
    audit_log(
        actor=actor, action="player.updated", target=player, data={**diff, **({"reason": reason} if reason else {})}
    )
    return player


@transaction.atomic
def player_note_add(*, actor: Any, player: Player, text: str, visibility: str = Visibility.GENERAL) -> PlayerNote:
    """A staff note; a compliance note is written and read only by staff with ``players.view_compliance``."""
    text = clean_staff_text("text", text or "", multiline=True).strip()
    if not text:
        raise ValidationFailed("A note needs text.", fields={"text": ["Required."]})
    if visibility not in Visibility.values:
        raise VisibilityInvalid("Unknown visibility.", fields={"visibility": ["Unknown."]})
    if visibility == Visibility.COMPLIANCE and not actor.has_perm("players.view_compliance"):
        raise VisibilityNotAllowed("Only compliance staff write compliance notes.")
    note = PlayerNote.objects.create(player=player, author=actor, text=text, visibility=visibility)
    audit_log(
        actor=actor,
        action="player.note_added",
        target=player,
        data={"note_id": note.pk, "length": len(text), "visibility": visibility},
    )
    return note


@transaction.atomic
def player_tags_set(*, actor: AuditActor | None, player: Player, tags: Iterable[str]) -> Player:
    from django.utils.text import slugify

    names = sorted({slugify(t)[:40] for t in tags if slugify(t)})
    before = sorted(player.tags.values_list("name", flat=True))
    if names == before:
        return player
    player.tags.set([Tag.objects.get_or_create(name=name)[0] for name in names])
    audit_log(actor=actor, action="player.tags_changed", target=player, data={"old": before, "new": names})
    return player


def player_login_record(
    *, player: Player, ip: str | None, user_agent: str = "", device_id: str = ""
) -> tuple[PlayerLogin, Eligibility]:
    """Record a login the platform reports and answer whether it may proceed (login eligibility).

    The eligibility check may ask a national register over HTTP (retries included): it runs before the
    transaction opens, so no database connection or row lock waits on the network."""
    result = can(player, "login", ip=ip)
    country = (lookup(ip, geo_config.snapshot()).country or "") if ip else ""
    with transaction.atomic():
        login = PlayerLogin.objects.create(
            player=player,
            ip=ip,
            ip_country=country,
            user_agent=user_agent[:400],
            device_id=device_id[:128],
            allowed=result.allowed,
            reasons=result.reasons,
        )
        if result.allowed:
            Player.objects.filter(pk=player.pk).update(last_login_at=login.at, last_login_ip=ip)
    return login, result


def player_viewed(*, actor: AuditActor, player: Player) -> None:
    """Staff access to personal data is logged."""
    audit_log(actor=actor, action="player.viewed", target=player)
