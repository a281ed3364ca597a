"""The api app's error codes: one class per code (docs/ERRORS.md is generated from them).

Import only apps.core.errors here: services, views and forms of every layer import this module."""

from __future__ import annotations

from apps.core.errors import Conflict, declare


class AlreadyRevoked(Conflict):
    code = "already_revoked"
    domain = "staff"
    when = "the API client is already revoked"


# The API plumbing: codes DRF and apps.api.exceptions answer without an ApplicationError class.
declare(
    code="parse_error",
    status=400,
    domain="api",
    when="the body is not JSON, nests deeper than 32 levels, or holds a NUL",
)
declare(
    code="bad_request",
    status=400,
    domain="api",
    when="a request Django refuses before any view (e.g. an unknown `Host`)",
)
declare(
    code="control_characters",
    status=400,
    domain="api",
    when=(
        "a field-level code (under `invalid`): a name or one-line text holds a control character (NUL, "
        "BEL, ESC, tab, CR/LF, DEL, C1, U+2028/9); `address_line` keeps line breaks"
    ),
)
declare(code="not_authenticated", status=401, domain="api", when="no `Authorization: Api-Key <key>` header")
declare(code="authentication_failed", status=401, domain="api", when="the header is malformed")
declare(
    code="invalid_api_key",
    status=401,
    domain="api",
    when="the key is unknown, expired or revoked (repeated failures from one address: 429)",
)
declare(
    code="missing_scope",
    status=403,
    domain="api",
    when="the client lacks a scope the endpoint needs (`wallet:write` is retired: see the README)",
)
declare(code="ip_not_allowed", status=403, domain="api", when="the client may not call from this address")
declare(code="method_not_allowed", status=405, domain="api", when="")
declare(code="not_acceptable", status=406, domain="api", when="the `Accept` header asks for something other than JSON")
declare(code="request_too_large", status=413, domain="api", when="the body is over the upload limit")
declare(code="unsupported_media_type", status=415, domain="api", when="the body is not `application/json`")
declare(
    code="throttled",
    status=429,
    domain="api",
    when="too many requests (per client), or too many invalid keys (per address); `Retry-After` says when",
)
declare(code="server_error", status=500, domain="api", when="a bug: quote the `request_id`")
