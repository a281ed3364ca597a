"""The player page's profile and tags fields are not rendered through their widget templates on every view
(apps.players.admin.field_markup): their markup must stay exactly Django's."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from apps.players.admin import PROFILE_FIELDS, field_markup, form_fields_markup
from apps.players.choices import VipTier
from apps.players.forms import ProfileForm, TagsForm

VALUES = [
    {},  # nothing: every value left out
    {
        "first_name": "Zoë",
        "last_name": 'O\'Brien <b>&amp;</b> "quoted"',
        "date_of_birth": datetime.date(1990, 2, 28),
        "email": "zoe+tag@example.com",
        "phone": "",
        "address_line": "1 High St\nFlat 2 & 3\n<script>alert(1)</script>",
        "city": None,
        "postal_code": "SW1A 1AA",
        "vip_tier": VipTier.values[-1],
    },
    {"first_name": "  spaced  ", "address_line": "", "vip_tier": "", "date_of_birth": None, "city": "Köln"},
]


@pytest.mark.parametrize("initial", VALUES)
def test_the_profile_fields_are_djangos_markup(initial):
    for _ in range(2):  # the first call fills the markup kept per process, the second reads it
        form = ProfileForm(initial=initial, auto_id="profile-%s")
        fields = form_fields_markup(form)
        assert [f.id_for_label for f in fields] == [form[name].id_for_label for name in form.fields]
        assert [f.label for f in fields] == [form[name].label for name in form.fields]
        assert [str(f) for f in fields] == [str(form[name]) for name in form.fields]
    assert set(PROFILE_FIELDS) <= set(form.fields)


@pytest.mark.parametrize("tags", ["", "bench, vip-watch", 'a<b, "c" & d'])
def test_the_tags_field_is_djangos_markup(tags):
    for _ in range(2):
        form = TagsForm(initial={"tags": tags})
        assert field_markup(form, "tags") == str(form["tags"])


def test_the_markup_is_kept_per_language():
    form = ProfileForm(auto_id="profile-%s")
    with translation.override("en"):
        english = field_markup(form, "vip_tier")
    with translation.override("de"):
        assert field_markup(form, "vip_tier") == str(form["vip_tier"])
    with translation.override("en"):
        assert field_markup(form, "vip_tier") == english == str(form["vip_tier"])
