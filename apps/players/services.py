"""Player writes. Every change: guards, the change, an audit event, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import AuditActor, audit_log
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.outbox import outbox_emit
from apps.geo import config as geo_config
from apps.geo.config import Rules
from apps.geo.decision import REGISTRATION, decide
from apps.geo.iplookup import lookup
from apps.players import identity
from apps.players.choices import PROTECTED_AUTHORITIES, BlockAuthority, Capability, PlayerStatus, Visibility
from apps.players.eligibility import Eligibility, can
from apps.players.models import Player, PlayerLogin, PlayerNote, PlayerRestriction, Tag
from apps.players.validation import clean_staff_text

MARKETING_CHANNELS = ("email", "sms", "phone", "post")
# What the platform may change through PATCH; the rest (name, date of birth, residence, currency) is staff's.
PLATFORM_EDITABLE = (
    "username",
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
STATUS_ACTIONS = {
    PlayerStatus.ACTIVE: "player.reactivated",
    PlayerStatus.SUSPENDED: "player.suspended",
    PlayerStatus.BLOCKED: "player.blocked",
    PlayerStatus.CLOSED: "player.closed",
}


def _require_reason(reason: str) -> str:
    reason = clean_staff_text("reason", reason or "", multiline=True).strip()
    if not reason:
        raise ValidationFailed("A reason is required.", code="reason_required", fields={"reason": ["Required."]})
    return reason


def _set_identity_keys(player: Player) -> None:
    player.identity_fingerprint = identity.fingerprint(player.first_name, player.last_name, player.date_of_birth)
    player.email_hash = identity.email_hash(player.email)
    player.phone_hash = identity.phone_hash(player.phone)


def _duplicate_check(*, external_id: str | None, email: str | None, brand_id: int, exclude: int | None = None) -> None:
    """external_id is the platform's and unique everywhere; an e-mail is unique within its brand only (the same
    person may play at two brands, and another brand's client must not learn that they do)."""
    others = Player.objects.exclude(pk=exclude) if exclude else Player.objects.all()
    if external_id is not None and others.filter(external_id=external_id).exists():
        raise Conflict(
            "A player with this external_id exists.", code="external_id_taken", fields={"external_id": ["Taken."]}
        )
    if email is not None and others.filter(brand_id=brand_id, email__iexact=email).exists():
        raise Conflict("A player with this e-mail exists.", code="email_taken", fields={"email": ["Taken."]})


@transaction.atomic
def player_lock(player: Player) -> Player:
    """The player's row, locked for the rest of the transaction (serialises changes to one player)."""
    return Player.objects.select_for_update().get(pk=player.pk)


RestrictionHook = Callable[..., object]
_restriction_hooks: list[RestrictionHook] = []


def register_restriction_hook(hook: RestrictionHook) -> RestrictionHook:
    """``hook(actor=, player=, what=, reason=)`` runs in the transaction that suspends, blocks or closes an account
    or blocks its withdrawals (apps.wallet puts the player's open withdrawals on hold there)."""
    if hook not in _restriction_hooks:
        _restriction_hooks.append(hook)
    return hook


def restriction_placed(
    *, actor: AuditActor | None, player: Player, what: str, reason: str, visibility: str = Visibility.GENERAL
) -> None:
    """Tell the other apps that ``player`` may no longer withdraw (``what`` says why: a status or a block).
    A compliance reason is passed with its visibility, so that nobody copies it where others read it."""
    for hook in _restriction_hooks:
        hook(actor=actor, player=player, what=what, reason=reason, visibility=visibility)


RegistrationCheck = Callable[[Player, Rules | None], dict[str, list[str]]]
_registration_checks: list[RegistrationCheck] = []


def register_registration_check(check: RegistrationCheck) -> RegistrationCheck:
    """``check(candidate, rules)`` runs before a registration is stored and returns field errors ("code: why")
    that refuse it (apps.responsible asks the national self-exclusion register here)."""
    if check not in _registration_checks:
        _registration_checks.append(check)
    return check


IDENTITY_FIELDS = ("first_name", "last_name", "date_of_birth")


class ChangeHeld(Conflict):
    """A profile edit was not applied: a profile guard recorded it for a second person to decide."""

    code = "second_person_required"


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
        age = geo_config.age_on(data["date_of_birth"], now.date())
        if age < rules.min_age:
            fields.setdefault("date_of_birth", []).append(
                f"underage: the minimum age in {rules.jurisdiction} is {rules.min_age}"
            )
        if rules.allowed_currencies and data["currency"] not in rules.allowed_currencies:
            allowed = ", ".join(rules.allowed_currencies)
            fields.setdefault("currency", []).append(f"currency_not_allowed: {rules.jurisdiction} allows {allowed}")
    if fields:
        reasons = sorted({m.split(":", 1)[0] for messages in fields.values() for m in messages})
        raise ValidationFailed(
            f"Registration refused: {', '.join(reasons)}.", code="registration_refused", fields=fields
        )
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
        raise ValidationFailed(
            f"Registration refused: {', '.join(reasons)}.", code="registration_refused", fields=fields
        )
    # the register checks above ask over HTTP, outside any transaction; the player and its audit event are one
    with transaction.atomic():
        try:
            with transaction.atomic():
                player.save()
        except IntegrityError as exc:  # a concurrent registration won the race for the same key
            raise Conflict("A player with this external_id or e-mail exists.", code="player_exists") from exc
        audit_log(
            actor=actor,
            action="player.registered",
            target=player,
            data={"country": player.country, "region": player.region, "currency": player.currency},
        )
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
        reason = _require_reason(reason)
    allowed = STAFF_EDITABLE if staff else PLATFORM_EDITABLE
    refused = sorted(set(changes) - set(allowed))
    if refused:
        raise ValidationFailed(
            "These fields cannot be changed here.", code="field_read_only", fields={f: ["Read-only."] for f in refused}
        )
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


def _authority_for(actor: AuditActor | None, authority: str | None) -> str:
    """The authority a restriction is imposed on: the one named (which a staff member must hold), else the
    strongest the staff member holds; the system's own restrictions default to support."""
    from apps.staff.models import StaffUser

    if authority is not None and authority not in BlockAuthority.values:
        raise ValidationFailed("Unknown authority.", code="authority_invalid", fields={"authority": ["Unknown."]})
    if not isinstance(actor, StaffUser):
        return authority or BlockAuthority.SUPPORT
    if authority is None:
        held = [a for a in BlockAuthority.values if actor.has_perm(f"players.act_{a}")]
        return held[0] if held else BlockAuthority.SUPPORT
    require_authority(actor, authority)
    return authority


def require_authority(actor: AuditActor | None, authority: str) -> None:
    from apps.staff.models import StaffUser

    if not isinstance(actor, StaffUser) or not actor.has_perm(f"players.act_{authority}"):
        raise PermissionDenied(
            f"Only staff acting for {BlockAuthority(authority).label} may do this.",
            code="authority_required",
            fields={"authority": [authority]},
        )


def _restrict(
    *, actor: AuditActor | None, player: Player, what: str, status: str, authority: str, reason: str
) -> PlayerRestriction:
    from apps.staff.models import StaffUser

    return PlayerRestriction.objects.create(
        player=player,
        what=what,
        status=status,
        authority=authority,
        reason=reason,
        visibility=Visibility.COMPLIANCE if authority == BlockAuthority.COMPLIANCE else Visibility.GENERAL,
        placed_by=actor if isinstance(actor, StaffUser) else None,
    )


def _lift(*, actor: AuditActor | None, player: Player, restriction: PlayerRestriction | None, reason: str) -> bool:
    """Lift ``restriction`` now (True), or, for a compliance or responsible-gambling one, record the first of
    the two people it needs (False). Both must act for that authority."""
    if restriction is None:
        return True
    restriction = PlayerRestriction.objects.select_for_update().get(pk=restriction.pk)
    now = timezone.now()
    if restriction.authority in PROTECTED_AUTHORITIES:
        require_authority(actor, restriction.authority)
        if restriction.lift_requested_by_id is None:
            restriction.lift_requested_by, restriction.lift_requested_at = actor, now  # type: ignore[assignment]
            restriction.lift_reason = reason
            restriction.save(update_fields=["lift_requested_by", "lift_requested_at", "lift_reason"])
            audit_log(
                actor=actor,
                action="player.restriction_lift_requested",
                target=player,
                data={"restriction": restriction.pk, "what": restriction.what, "authority": restriction.authority},
            )
            return False
        if restriction.lift_requested_by_id == getattr(actor, "pk", None):
            raise Conflict("A second, different person must confirm the lift.", code="same_approver")
    from apps.staff.models import StaffUser

    restriction.lifted_by = actor if isinstance(actor, StaffUser) else None
    restriction.lifted_at = now
    restriction.save(update_fields=["lifted_by", "lifted_at"])
    return True


def _active_restriction(player: Player, what: str) -> PlayerRestriction | None:
    return PlayerRestriction.objects.filter(player=player, what=what, lifted_at=None).first()


@transaction.atomic
def player_set_status(
    *, actor: AuditActor | None, player: Player, status: str, reason: str, authority: str | None = None
) -> Player:
    """Suspend, block, close or reactivate an account, on an authority (see ``BlockAuthority``).

    Reactivating an account restricted on compliance or responsible-gambling authority needs two people of
    that authority: the first call records the request (the account stays as it is), the second lifts it.
    Moving between restrictive statuses keeps the original authority.
    """
    reason = _require_reason(reason)
    if status not in PlayerStatus.values:
        raise ValidationFailed(f"Unknown status {status!r}.", fields={"status": ["Unknown status."]})
    player = Player.objects.select_for_update().get(pk=player.pk)
    if player.status == status:
        raise Conflict(f"The account is already {status}.", code="status_unchanged")
    old = player.status
    current = _active_restriction(player, PlayerRestriction.STATUS)
    used: str | None
    if status == PlayerStatus.ACTIVE:
        if not _lift(actor=actor, player=player, restriction=current, reason=reason):
            return player
        used = current.authority if current else None
    elif current is None:
        used = _authority_for(actor, authority)
        current = _restrict(
            actor=actor, player=player, what=PlayerRestriction.STATUS, status=status, authority=used, reason=reason
        )
    else:
        used = current.authority
        current.status = status
        current.save(update_fields=["status"])
    player.status, player.status_reason = status, reason
    player.save(update_fields=["status", "status_reason", "updated_at"])
    audit_log(
        actor=actor,
        action=STATUS_ACTIONS[PlayerStatus(status)],
        target=player,
        data={"old": old, "new": status, "reason": reason, "authority": used, **_visibility_of(current)},
    )
    # the platform ends the player's sessions at once; staff reasons never leave the backoffice
    event = "player.unblocked" if status == PlayerStatus.ACTIVE else "player.blocked"
    outbox_emit(event, key=player.external_id, data={"player": player.external_id, "status": status})
    if status != PlayerStatus.ACTIVE:
        restriction_placed(
            actor=actor,
            player=player,
            what=f"account {status}",
            reason=reason,
            visibility=current.visibility if current else Visibility.GENERAL,
        )
    return player


def _visibility_of(restriction: PlayerRestriction | None) -> dict[str, str]:
    """Audit data of a compliance restriction says so: audit views show its reason to compliance staff only."""
    if restriction is not None and restriction.visibility == Visibility.COMPLIANCE:
        return {"visibility": Visibility.COMPLIANCE}
    return {}


@transaction.atomic
def player_set_block(
    *,
    actor: AuditActor | None,
    player: Player,
    capability: str,
    blocked: bool,
    reason: str,
    authority: str | None = None,
) -> Player:
    """Block or unblock one capability, on an authority; unblocking a compliance or responsible-gambling block
    needs two people of that authority (the first call records the request)."""
    reason = _require_reason(reason)
    if capability not in Capability.values:
        raise ValidationFailed(f"Unknown capability {capability!r}.", fields={"capability": ["Unknown."]})
    player = Player.objects.select_for_update().get(pk=player.pk)
    field = f"blocked_{capability}"
    if getattr(player, field) == blocked:
        raise Conflict("Nothing to change.", code="block_unchanged")
    current = _active_restriction(player, capability)
    used: str | None
    if blocked:
        used = _authority_for(actor, authority)
        current = _restrict(actor=actor, player=player, what=capability, status="", authority=used, reason=reason)
    else:
        if not _lift(actor=actor, player=player, restriction=current, reason=reason):
            return player
        used = current.authority if current else None
    setattr(player, field, blocked)
    player.save(update_fields=[field, "updated_at"])
    audit_log(
        actor=actor,
        action=f"player.{'blocked' if blocked else 'unblocked'}_for_{capability}",
        target=player,
        data={
            "capability": capability,
            "blocked": blocked,
            "reason": reason,
            "authority": used,
            **_visibility_of(current),
        },
    )
    outbox_emit(
        "player.blocked" if blocked else "player.unblocked",
        key=player.external_id,
        data={"player": player.external_id, "capabilities": [capability]},
    )
    if blocked and capability == Capability.WITHDRAWAL:
        restriction_placed(
            actor=actor,
            player=player,
            what="withdrawals blocked",
            reason=reason,
            visibility=current.visibility if current else Visibility.GENERAL,
        )
    return player


@transaction.atomic
def player_note_add(*, actor: Any, player: Player, text: str, visibility: str = Visibility.GENERAL) -> PlayerNote:
    """A staff note; a compliance note is written and read only by staff with ``players.view_compliance``."""
    text = clean_staff_text("text", text or "", multiline=True).strip()
    if not text:
        raise ValidationFailed("A note needs text.", fields={"text": ["Required."]})
    if visibility not in Visibility.values:
        raise ValidationFailed("Unknown visibility.", code="visibility_invalid", fields={"visibility": ["Unknown."]})
    if visibility == Visibility.COMPLIANCE and not actor.has_perm("players.view_compliance"):
        raise PermissionDenied("Only compliance staff write compliance notes.", code="visibility_not_allowed")
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
