"""Command endpoints: one base view for the API's writes, and request bodies whose fields are both the OpenAPI
schema and the validation.

An endpoint declares its scopes, its request serializer, its response serializers, its error codes and the
service call (``perform``); ``CommandView`` does the rest, in this order:

1. authentication and ``required_scopes`` (DRF: ``ApiKeyAuthentication``, ``HasScopes``), then a scope that
   depends on the body (``scope_by_field``: the wallet's posting type);
2. idempotent commands: the ``Idempotency-Key`` header (400 ``idempotency_key_required`` or ``invalid``), the
   body parsed and validated (a 400 here is not stored under the key: the client fixes the body and retries
   with the same key), then one transaction (``apps.wallet.idempotency.run_idempotent``): the key's record,
   the player among the client's brands, the service call. Same key and body: the stored status and body
   (``Idempotent-Replayed: true``); same key, another body: 409 ``idempotency_conflict``. A refusal is stored
   and replayed too;
3. other commands: a body that is not a JSON object is refused, the player is found among the client's
   brands (404 ``player_not_found`` before the body's fields are read), then the body is parsed and the
   service called (each service is its own transaction);
4. ``perform`` returns the body (answered with the lowest 2xx of ``responses``) or ``(status, body)``;
   ``ApplicationError`` codes become the one error shape through ``apps.api.exceptions``.

Client scoping lives here: ``self.player`` is the URL's player among the calling client's brands (another
brand's player is the same 404 as one that does not exist), ``self.brand_ids`` is what a service that finds its
player itself (the wallet's lock statement) filters on, and reads use ``client_player``.

A request serializer is either a ``CommandInput`` (validated by the plan compiled from its declared fields:
cheap enough for the bet path, with the wallet's messages) or a plain DRF serializer (``is_valid``, DRF's
messages). Either way the same class is what drf-spectacular documents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.fields import empty
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from rest_framework.views import APIView

from apps.api.authentication import ClientIdentity, client_of
from apps.api.schema import IDEMPOTENCY_KEY, error_responses
from apps.core.errors import AmountInvalid, ValidationFailed
from apps.players.selectors import player_get
from apps.players.validation import CONTROL_MESSAGE, has_control_characters, normalise_line_breaks
from apps.wallet.idempotency import check_key, run_idempotent

if TYPE_CHECKING:
    from apps.players.models import Player

Body = dict[str, Any]
Result = Body | tuple[int, Body]
REPLAYED = {"Idempotent-Replayed": "true"}


def client_player(request: Request, external_id: str) -> Player:
    """The player with this external id among the calling client's brands; 404 ``player_not_found`` otherwise
    (another brand's player included)."""
    return player_get(external_id=external_id, brand_ids=client_of(request).brand_ids)


def require_scope(client: ClientIdentity, *choices: str) -> None:
    """403 ``missing_scope`` unless the client holds one of ``choices``."""
    if not any(scope in client.scopes for scope in choices):
        raise exceptions.PermissionDenied(
            f"This API client lacks the scope(s): {' or '.join(choices)}.", code="missing_scope"
        )


def require_object(raw: Any) -> Body:
    if not isinstance(raw, dict):
        raise ValidationFailed("Send a JSON object.", fields={"non_field_errors": ["Expected an object."]})
    return raw


class AmountField(serializers.CharField):
    """A decimal string ("12.50"). A JSON number is refused before anything else, 400 ``amount_invalid``:
    binary floats cannot say 0.10 exactly. The service parses the string against the currency's minor unit."""

    def __init__(self, *, number_message: str = "Amounts are decimal strings.", **kwargs: Any) -> None:
        self.number_message = number_message
        super().__init__(**kwargs)


def refuse_amount_numbers(serializer_class: type[serializers.Serializer], raw: Any) -> None:
    if not isinstance(raw, dict):
        return
    for name, field in _amount_fields(serializer_class):
        if name in raw and not isinstance(raw[name], str):
            raise AmountInvalid(field.number_message, fields={name: ["Send a decimal string."]})


_AMOUNTS: dict[type, tuple[tuple[str, AmountField], ...]] = {}


def _amount_fields(serializer_class: type[serializers.Serializer]) -> tuple[tuple[str, AmountField], ...]:
    found = _AMOUNTS.get(serializer_class)
    if found is None:
        declared = serializer_class._declared_fields.items()  # type: ignore[attr-defined]
        found = _AMOUNTS[serializer_class] = tuple((n, f) for n, f in declared if isinstance(f, AmountField))
    return found


# The compiled plan: one step per declared field, checked in declaration order.
_TEXT, _CHOICE, _INTEGER, _BOOLEAN = range(4)
_MISSING = object()
_NO_LIMIT = 2**63


class _Step:
    """One declared field, its rule and its messages resolved once."""

    __slots__ = (
        "blank",
        "checked",
        "choices",
        "default",
        "kind",
        "max",
        "messages",
        "min",
        "multiline",
        "name",
        "trim",
    )

    def __init__(self, name: str, field: serializers.Field) -> None:
        self.name = name
        self.default = None if field.default is empty else field.default
        messages = dict(field.error_messages)
        self.blank, self.trim, self.multiline = bool(getattr(field, "allow_blank", False)), False, False
        self.min: Any = None
        self.max: Any = None
        self.choices: frozenset[Any] = frozenset()
        if isinstance(field, serializers.ChoiceField):
            self.kind = _CHOICE
            self.choices = frozenset(field.choices)
            if messages["invalid_choice"] == serializers.ChoiceField.default_error_messages["invalid_choice"]:
                messages["invalid_choice"] = f"Must be one of: {', '.join(map(str, field.choices))}."
        elif isinstance(field, serializers.CharField):
            self.kind = _TEXT
            self.default = "" if self.default is None else self.default
            self.trim, self.min, self.max = field.trim_whitespace, field.min_length, field.max_length
            self.multiline = bool(getattr(field, "multiline", False))
            messages["max_length"] = str(messages["max_length"]).format(max_length=self.max)
            messages["min_length"] = str(messages["min_length"]).format(min_length=self.min)
        elif isinstance(field, serializers.BooleanField):
            self.kind = _BOOLEAN
        elif isinstance(field, serializers.IntegerField):
            self.kind = _INTEGER
            self.min, self.max = field.min_value, field.max_value
            messages["min_value"] = str(messages["min_value"]).format(min_value=self.min)
            messages["max_value"] = str(messages["max_value"]).format(max_value=self.max)
        else:
            raise TypeError(
                f"CommandInput compiles text, choice, integer and boolean fields, not {type(field).__name__} "
                f"({name}): use a DRF serializer for this body"
            )
        _refuse_what_would_not_run(name, field)
        self.messages = {key: str(message) for key, message in messages.items()}
        self.checked = self.min is not None or "length" in messages  # rules beyond the maximum length

    def text_error(self, value: str) -> str | None:
        n = len(value)
        if "length" in self.messages:  # a fixed length (a currency code): one message whichever way it is off
            return self.messages["length"] if value and not (self.min or 0) <= n <= (self.max or n) else None
        if self.max is not None and n > self.max:
            return self.messages["max_length"]
        if self.min is not None and value and n < self.min:
            return self.messages["min_length"]
        return None

    def other_error(self, value: Any) -> str | None:
        if self.kind == _CHOICE:
            if value == "" and self.blank:
                return None
            return None if isinstance(value, str) and value in self.choices else self.messages["invalid_choice"]
        if self.kind == _BOOLEAN:
            return None if isinstance(value, bool) else self.messages["invalid"]
        if not isinstance(value, int) or isinstance(value, bool):
            return self.messages["invalid"]
        if self.min is not None and value < self.min:
            return self.messages["min_value"]
        if self.max is not None and value > self.max:
            return self.messages["max_value"]
        return None


_BUILT_IN_VALIDATORS = (
    MaxLengthValidator,
    MinLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
)
_BASES = (serializers.ChoiceField, serializers.CharField, serializers.BooleanField, serializers.IntegerField)


def _refuse_what_would_not_run(name: str, field: serializers.Field) -> None:
    """The plan runs no field code: a field whose own parsing or validators would be skipped is refused when the
    class is made, never silently under-checked (a text field that only refuses control characters, as the
    players' ``TextField``, says ``compiles_as_text``)."""
    base = next(b for b in _BASES if isinstance(field, b))
    if type(field).to_internal_value is not base.to_internal_value and not getattr(field, "compiles_as_text", False):
        raise TypeError(f"{name}: {type(field).__name__} parses values itself; use a DRF serializer for this body")
    extra = [v for v in field.validators if not isinstance(v, _BUILT_IN_VALIDATORS)]
    if extra:
        raise TypeError(f"{name}: validators {extra} would not run; put the rule in check()")


class CommandInput(serializers.Serializer):
    # A request body validated by a plan compiled once per class from its declared DRF fields, which are also
    # its OpenAPI schema. No DRF field object runs per request: on the bet path a serializer's is_valid costs
    # about as much as the posting's SQL. (No docstring here: drf-spectacular would show it on every body.)
    #
    # Phase 1, each field in declaration order: a missing field takes its default ("" for text, else None);
    # text must be a JSON string (stripped, then its length: max_length, or a "length" error message for a
    # fixed length; no control characters, one scan of all text); a choice one of its choices (a blank one if
    # allow_blank); an integer a JSON integer (not a boolean) within min_value/max_value; a boolean a JSON
    # boolean. Then ``check(data, errors)``: by default, when phase 1 found nothing, each required field that is
    # missing or blank. Errors are 400 ``invalid`` with ``invalid_message`` and the fields' messages.
    invalid_message: ClassVar[str] = "The input is not valid."
    # (name, kind, default, trim, one-line, max length, other length rules, the step)
    _plan: ClassVar[tuple[tuple[str, int, Any, bool, bool, int, bool, _Step], ...]] = ()
    _required: ClassVar[tuple[tuple[str, str], ...]] = ()
    _amounts: ClassVar[tuple[tuple[str, AmountField], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = cls._declared_fields.items()  # type: ignore[attr-defined]
        hooks = [n for n in vars(cls) if n == "validate" or n.startswith("validate_")]
        if hooks:
            raise TypeError(f"{cls.__name__}.{hooks[0]} would not run: put the rule in check()")
        steps = [_Step(name, field) for name, field in fields]
        cls._plan = tuple(
            (s.name, s.kind, s.default, s.trim, not s.multiline, _NO_LIMIT if s.max is None else s.max, s.checked, s)
            for s in steps
        )
        cls._amounts = _amount_fields(cls)
        cls._required = tuple((name, str(field.error_messages["required"])) for name, field in fields if field.required)

    @classmethod
    def parse(cls, raw: Any) -> Body:
        """The validated body, or ValidationFailed."""
        body = require_object(raw)
        for name, field in cls._amounts:
            if name in body and not isinstance(body[name], str):
                raise AmountInvalid(field.number_message, fields={name: ["Send a decimal string."]})
        data: Body = {}
        errors: dict[str, list[str]] = {}
        one_line: list[str] = []  # the names of well-formed one-line texts, for the control-character scan
        get, missing, text = body.get, _MISSING, _TEXT
        for name, kind, default, trim, plain, limit, checked, step in cls._plan:
            value = get(name, missing)
            if kind == text:  # the common case, inline
                if value is missing:
                    data[name] = default
                    continue
                if value.__class__ is not str and not isinstance(value, str):
                    errors[name] = [step.messages["invalid"]]
                    continue
                if trim:
                    value = value.strip()
                if not plain:
                    value = normalise_line_breaks(value)
                data[name] = value
                error = step.text_error(value) if len(value) > limit or checked else None
                if error is not None:
                    errors[name] = [error]
                elif plain:
                    one_line.append(name)
                else:
                    error = _text_refusal(value, multiline=True)
                    if error is not None:
                        errors[name] = [error]
                continue
            if value is missing:
                if kind != _CHOICE or default is not None:
                    data[name] = default
                    continue
                value = None  # a choice with no default: missing is not one of the choices
            error = step.other_error(value)
            if error is not None:
                errors[name] = [error]
            data[name] = value
        # One scan over every one-line text; which fields, only if it finds anything.
        if one_line and _text_refusal("".join([data[name] for name in one_line])) is not None:
            for name in one_line:
                error = _text_refusal(data[name])
                if error is not None:
                    errors[name] = [error]
        cls.check(data, errors)
        if errors:
            raise ValidationFailed(cls.invalid_message, fields=errors)
        return data

    @classmethod
    def check(cls, data: Body, errors: dict[str, list[str]]) -> None:
        """Rules across fields, after phase 1 (``errors`` holds its findings); by default the required ones."""
        if not errors:
            for name, message in cls._required:
                if data.get(name) in (None, ""):
                    errors[name] = [message]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_refusal(value: str, *, multiline: bool = False) -> str | None:
    """Control characters (the API's text rule), then lone surrogates (JSON can escape one, "\\ud800"; UTF-8,
    and so PostgreSQL, cannot hold it), with DRF's message for them."""
    if has_control_characters(value, multiline=multiline):
        return CONTROL_MESSAGE
    surrogate = _SURROGATE.search(value)
    if surrogate is not None:
        return f"Surrogate characters are not allowed: U+{ord(surrogate.group()):X}."
    return None


class CommandView(APIView):
    # The base of every API write; see the module docstring. A subclass that defines ``perform`` gets its
    # handler (``method``) and its OpenAPI operation from its declarations. (No docstring: drf-spectacular
    # would make it the description of every operation that has none.)

    required_scopes: ClassVar[frozenset[str] | Mapping[str, frozenset[str]]]
    request_serializer: ClassVar[type[serializers.Serializer] | None] = None
    responses: ClassVar[Mapping[int, Any]] = {}
    errors: ClassVar[Mapping[int, tuple[str, ...]]] = {}
    openapi: ClassVar[Mapping[str, Any]] = {}  # operation_id, summary, description, examples
    idempotent: ClassVar[bool] = False
    savepoint: ClassVar[bool] = True  # False: the service refuses before its first write (saves two round trips)
    scope_by_field: ClassVar[tuple[str, Mapping[str, str]] | None] = None  # (field, value -> scope)
    method: ClassVar[str] = "post"
    player_kwarg: ClassVar[str] = "external_id"
    _success: ClassVar[int] = 200

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "perform" not in cls.__dict__:
            return

        def handler(self: CommandView, request: Request, *args: Any, **kwargs: Any) -> Response:
            return self.run_command(request)

        handler.__name__ = handler.__qualname__ = cls.method
        schema = extend_schema(
            request=cls.request_serializer,
            parameters=[IDEMPOTENCY_KEY] if cls.idempotent else None,
            responses={**cls.responses, **error_responses(cls.errors)},
            **cls.openapi,
        )
        setattr(cls, cls.method, schema(handler))
        cls._success = min((s for s in cls.responses if 200 <= s < 300), default=200)

    def perform(self, data: Body) -> Result:
        """The service call: ``data`` is the validated body ({} without a request serializer)."""
        raise NotImplementedError

    @property
    def client(self) -> ClientIdentity:
        return client_of(self.request)

    @property
    def brand_ids(self) -> frozenset[int]:
        return self.client.brand_ids

    @cached_property
    def player(self) -> Player:
        return client_player(self.request, self.kwargs[self.player_kwarg])

    def answered(self, status: int, body: Any) -> None:
        """Called once the idempotent write's answer is committed (a refusal included), outside its transaction,
        and not for a replay: what follows from the answer and must outlive a refusal's rollback."""

    def idempotency_payload(self, request: Request) -> Any:
        """What one key stands for: the body; with the path too when the path names the player or object (and
        only the path when there is no body)."""
        if not self.kwargs:
            return request.data
        if self.request_serializer is None:
            return {"path": request.path}
        return {"path": request.path, "body": request.data}

    def run_command(self, request: Request) -> Response:
        client = self.client
        if self.scope_by_field is not None:
            self._require_body_scope(client, request.data)
        if self.idempotent:
            key = check_key(request.headers.get("Idempotency-Key"))
            data = self._parse(request)
            status, body, replayed = run_idempotent(
                client=client.prefix,
                key=key,
                payload=self.idempotency_payload(request),
                write=lambda: self._write(data),
                savepoint=self.savepoint,
            )
            if not replayed:
                self.answered(status, body)
            return Response(body, status=status, headers=REPLAYED if replayed else None)
        serializer = self.request_serializer
        if serializer is not None and issubclass(serializer, CommandInput):
            require_object(request.data)
        if self.player_kwarg in self.kwargs:
            self.player  # noqa: B018 (404 before anything is said about the body)
        status, body = self._result(self.perform(self._parse(request)))
        return Response(body, status=status)

    def _require_body_scope(self, client: ClientIdentity, raw: Any) -> None:
        field, scopes = self.scope_by_field  # type: ignore[misc]
        value = raw.get(field) if isinstance(raw, dict) else None
        if isinstance(value, str) and value in scopes:
            require_scope(client, scopes[value])
        else:  # the value is refused by the body's validation; a client with none of the scopes learns only that
            require_scope(client, *dict.fromkeys(scopes.values()))

    def _parse(self, request: Request) -> Body:
        serializer = self.request_serializer
        if serializer is None:
            return {}
        if issubclass(serializer, CommandInput):
            return serializer.parse(request.data)
        refuse_amount_numbers(serializer, request.data)
        validated = serializer(data=request.data)
        validated.is_valid(raise_exception=True)
        return dict(validated.validated_data)

    def _write(self, data: Body) -> tuple[int, Body]:
        if self.player_kwarg in self.kwargs:
            self.player  # noqa: B018 (inside the key's transaction: a 404 is stored and replayed)
        return self._result(self.perform(data))

    def _result(self, result: Result) -> tuple[int, Body]:
        return result if isinstance(result, tuple) else (self._success, result)
