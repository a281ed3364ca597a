"""``control_characters``: the code every one-line text field of the API's input serializers refuses control
characters with. The API answers it as 400 ``invalid`` naming the field (tests/players/test_hostile_input.py);
here every such field, found by type in every input serializer, is held to the code itself."""

from __future__ import annotations

import inspect

import pytest
from rest_framework import serializers

from apps.players.api import serializers as player_serializers
from apps.players.api.serializers import TextField
from apps.wallet.api import views as wallet_views

MODULES = (player_serializers, wallet_views)


def text_fields() -> list[tuple[type[serializers.Serializer], str, bool]]:
    found = []
    for module in MODULES:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, serializers.Serializer) and cls.__module__ == module.__name__:
                for name, field in cls().fields.items():
                    if isinstance(field, TextField):
                        found.append((cls, name, field.multiline))
    return found


FIELDS = text_fields()
ONE_LINE = ["A\x1b[31mB", "A\x07", "A\rB", "A\nB", "A\u2028B"]
MULTILINE = ["A\x1b[31mB", "A\x07", "A\u2028B"]  # line breaks are kept there


def test_it_finds_the_text_fields():
    names = {(cls.__name__, name) for cls, name, _ in FIELDS}
    assert {("PlayerRegisterInput", "first_name"), ("WithdrawalInput", "reference")} <= names


@pytest.mark.parametrize(("serializer", "field", "multiline"), FIELDS, ids=[f"{c.__name__}.{n}" for c, n, _ in FIELDS])
def test_it_refuses_control_characters_with_the_code(serializer, field, multiline):
    text = serializer().fields[field]
    for value in MULTILINE if multiline else ONE_LINE:
        with pytest.raises(serializers.ValidationError) as refused:
            text.run_validation(value)
        assert [error.code for error in refused.value.detail] == ["control_characters"], repr(value)
    assert text.run_validation("A") == "A"
