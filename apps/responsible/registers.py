"""National self-exclusion registers: one interface, one HTTP adapter per register.

The vendors' protocols are not public here, so each adapter maps our question (a ``Subject``) to a clean
request and reads a clean answer; the mapping of each is documented on its class and in docs/RESPONSIBLE.md.
Every adapter shares the plumbing: base URL and credentials from settings (``REGISTER_<CODE>_URL``,
``REGISTER_<CODE>_KEY``), a timeout, retries with exponential backoff on timeouts, connection errors and 5xx,
no retry on 4xx or an unreadable body, and a short cache of answers in Redis (``REGISTER_CACHE_SECONDS``).
A register that cannot be asked raises ``RegisterUnavailable``; the jurisdiction's rule pack decides whether
that refuses the action (fail closed, the default) or not. Every question actually sent is recorded
(``RegisterCheck``), with its outcome and duration.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import cache

from apps.responsible.choices import RegisterOutcome


class RegisterUnavailable(Exception):
    """The register could not be asked or gave no usable answer."""


@dataclass(frozen=True)
class Subject:
    external_id: str
    first_name: str
    last_name: str
    date_of_birth: date
    email: str = ""
    phone: str = ""
    postal_code: str = ""
    country: str = ""

    def fingerprint(self) -> str:
        parts = (
            self.first_name.strip().upper(),
            self.last_name.strip().upper(),
            self.date_of_birth.isoformat(),
            self.email.strip().lower(),
            self.postal_code.replace(" ", "").upper(),
        )
        raw = "|".join(parts)
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Answer:
    excluded: bool
    reference: str = ""
    cached: bool = False


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    body: bytes | None = None
    content_type: str = ""
    query: dict[str, str] | None = None


class Adapter:
    """Plumbing shared by every register; subclasses define ``build`` and ``read``."""

    code: ClassVar[str]
    auth_header: ClassVar[str] = "Authorization"
    auth_format: ClassVar[str] = "Bearer {key}"

    def __init__(self, *, base_url: str, key: str, timeout: float, retries: int, backoff: float) -> None:
        self.base_url, self.key = base_url.rstrip("/"), key
        self.timeout, self.retries, self.backoff = timeout, retries, backoff

    def build(self, subject: Subject) -> HttpRequest:
        raise NotImplementedError

    def read(self, status: int, headers: dict[str, str], body: bytes) -> Answer:
        """Interpret a 2xx answer; raise RegisterUnavailable if it cannot be understood."""
        raise NotImplementedError

    def ask(self, subject: Subject) -> Answer:
        if not self.base_url:
            raise RegisterUnavailable(f"{self.code}: no URL configured (REGISTER_{self.code.upper()}_URL)")
        request = self.build(subject)
        url = self.base_url + request.path
        if request.query:
            url += "?" + urllib.parse.urlencode(request.query)
        headers = {self.auth_header: self.auth_format.format(key=self.key), "Accept": "application/json"}
        if request.content_type:
            headers["Content-Type"] = request.content_type
        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            http = urllib.request.Request(url, data=request.body, headers=headers, method=request.method)  # noqa: S310
            try:
                with urllib.request.urlopen(http, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                    body = response.read(65536)
                    return self.read(response.status, {k.lower(): v for k, v in response.headers.items()}, body)
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if exc.code < 500:
                    break  # our request is wrong: asking again will not help
            except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
        raise RegisterUnavailable(f"{self.code}: {last}")


def _flag(body: bytes, flag: str, reference: str) -> Answer:
    """A JSON answer whose boolean ``flag`` says "excluded" and whose ``reference`` names the question."""
    data = _json(body)
    if not isinstance(data.get(flag), bool):
        raise RegisterUnavailable(f"unreadable answer (no {flag!r})")
    return Answer(excluded=data[flag], reference=str(data.get(reference, ""))[:100])


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise RegisterUnavailable("unreadable answer (not JSON)") from exc
    if not isinstance(data, dict):
        raise RegisterUnavailable("unreadable answer (not an object)")
    return data


class Gamstop(Adapter):
    """GB. ``POST /v2`` form-encoded: firstName, lastName, dateOfBirth (YYYY-MM-DD), email, postcode, mobile;
    header ``X-API-Key``. Answer in the ``X-Exclusion`` header: ``Y`` excluded, ``N`` not, ``P`` previously
    excluded (not now); ``X-Unique-Id`` is the reference."""

    code = "gamstop"
    auth_header, auth_format = "X-API-Key", "{key}"

    def build(self, subject: Subject) -> HttpRequest:
        form = {
            "firstName": subject.first_name,
            "lastName": subject.last_name,
            "dateOfBirth": subject.date_of_birth.isoformat(),
            "email": subject.email,
            "postcode": subject.postal_code,
            "mobile": subject.phone,
        }
        return HttpRequest("POST", "/v2", urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")

    def read(self, status: int, headers: dict[str, str], body: bytes) -> Answer:
        flag = headers.get("x-exclusion", "").strip().upper()
        if flag not in ("Y", "N", "P"):
            raise RegisterUnavailable(f"unreadable answer (X-Exclusion {flag!r})")
        return Answer(excluded=flag == "Y", reference=headers.get("x-unique-id", "")[:100])


class Spelpaus(Adapter):
    """SE. ``POST /api/v1/blocking-status`` JSON {firstName, lastName, birthDate}; answer JSON
    {"blocked": bool, "requestId": str}."""

    code = "spelpaus"

    def build(self, subject: Subject) -> HttpRequest:
        body = {"firstName": subject.first_name, "lastName": subject.last_name, "birthDate": subject.date_of_birth}
        return HttpRequest(
            "POST", "/api/v1/blocking-status", json.dumps(body, default=str).encode(), "application/json"
        )

    def read(self, status: int, headers: dict[str, str], body: bytes) -> Answer:
        return _flag(body, "blocked", "requestId")


class Rofus(Adapter):
    """DK. ``GET /rofus/v1/status?firstName=&lastName=&birthDate=``; answer JSON {"status": "EXCLUDED" |
    "TEMPORARILY_EXCLUDED" | "NOT_EXCLUDED", "reference": str}."""

    code = "rofus"

    def build(self, subject: Subject) -> HttpRequest:
        query = {
            "firstName": subject.first_name,
            "lastName": subject.last_name,
            "birthDate": subject.date_of_birth.isoformat(),
        }
        return HttpRequest("GET", "/rofus/v1/status", query=query)

    def read(self, status: int, headers: dict[str, str], body: bytes) -> Answer:
        value = _json(body).get("status")
        if value not in ("EXCLUDED", "TEMPORARILY_EXCLUDED", "NOT_EXCLUDED"):
            raise RegisterUnavailable(f"unreadable answer (status {value!r})")
        return Answer(excluded=value != "NOT_EXCLUDED", reference=str(_json(body).get("reference", ""))[:100])


class Oasis(Adapter):
    """DE. ``POST /oasis/v1/sperrabfrage`` JSON {vorname, nachname, geburtsdatum, plz}; answer JSON
    {"gesperrt": bool, "anfrageId": str}."""

    code = "oasis"

    def build(self, subject: Subject) -> HttpRequest:
        body = {
            "vorname": subject.first_name,
            "nachname": subject.last_name,
            "geburtsdatum": subject.date_of_birth.isoformat(),
            "plz": subject.postal_code,
        }
        return HttpRequest("POST", "/oasis/v1/sperrabfrage", json.dumps(body).encode(), "application/json")

    def read(self, status: int, headers: dict[str, str], body: bytes) -> Answer:
        return _flag(body, "gesperrt", "anfrageId")


class Cruks(Adapter):
    """NL. ``POST /cruks/v1/registrations/check`` JSON {firstName, lastName, dateOfBirth}; answer JSON
    {"registered": bool, "checkId": str}."""

    code = "cruks"

    def build(self, subject: Subject) -> HttpRequest:
        body = {
            "firstName": subject.first_name,
            "lastName": subject.last_name,
            "dateOfBirth": subject.date_of_birth.isoformat(),
        }
        return HttpRequest("POST", "/cruks/v1/registrations/check", json.dumps(body).encode(), "application/json")

    def read(self, status: int, headers: dict[str, str], body: bytes) -> Answer:
        return _flag(body, "registered", "checkId")


class Igo(Adapter):
    """CA-ON. ``POST /v1/self-exclusion/lookup`` JSON {firstName, lastName, dateOfBirth, email}; answer JSON
    {"excluded": bool, "lookupId": str}."""

    code = "igo"

    def build(self, subject: Subject) -> HttpRequest:
        body = {
            "firstName": subject.first_name,
            "lastName": subject.last_name,
            "dateOfBirth": subject.date_of_birth.isoformat(),
            "email": subject.email,
        }
        return HttpRequest("POST", "/v1/self-exclusion/lookup", json.dumps(body).encode(), "application/json")

    def read(self, status: int, headers: dict[str, str], body: bytes) -> Answer:
        return _flag(body, "excluded", "lookupId")


ADAPTERS: dict[str, type[Adapter]] = {a.code: a for a in (Gamstop, Spelpaus, Rofus, Oasis, Cruks, Igo)}


def adapter_for(code: str) -> Adapter:
    """The configured adapter of a register (KeyError for a register without one, e.g. ``igo``)."""
    config = settings.SELF_EXCLUSION_REGISTERS.get(code, {})
    return ADAPTERS[code](
        base_url=config.get("url", ""),
        key=config.get("key", ""),
        timeout=float(config.get("timeout", settings.REGISTER_TIMEOUT_SECONDS)),
        retries=int(config.get("retries", settings.REGISTER_RETRIES)),
        backoff=float(config.get("backoff", settings.REGISTER_BACKOFF_SECONDS)),
    )


def ask(code: str, subject: Subject, *, point: str, player_id: int | None = None) -> Answer:
    """Ask register ``code`` about ``subject`` (cached for REGISTER_CACHE_SECONDS); RegisterUnavailable if not."""
    from apps.responsible.models import RegisterCheck

    key = f"rg:register:{code}:{subject.fingerprint()}"
    cached = cache.get(key)
    if cached is not None:
        return Answer(excluded=cached["excluded"], reference=cached["reference"], cached=True)
    started = time.monotonic()
    try:
        if code not in ADAPTERS:
            raise RegisterUnavailable(f"{code}: no adapter")
        answer = adapter_for(code).ask(subject)
    except RegisterUnavailable as exc:
        RegisterCheck.objects.create(
            player_id=player_id,
            subject=subject.external_id,
            register=code,
            point=point,
            outcome=RegisterOutcome.ERROR,
            detail=str(exc)[:300],
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        raise
    RegisterCheck.objects.create(
        player_id=player_id,
        subject=subject.external_id,
        register=code,
        point=point,
        outcome=RegisterOutcome.HIT if answer.excluded else RegisterOutcome.MISS,
        reference=answer.reference,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    cache.set(key, {"excluded": answer.excluded, "reference": answer.reference}, settings.REGISTER_CACHE_SECONDS)
    return answer
