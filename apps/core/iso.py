"""ISO 3166 and ISO 4217 code sets (from pycountry), built once and shared by every app that validates codes."""

from __future__ import annotations

import pycountry

COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
REGIONS = frozenset(s.code for s in pycountry.subdivisions)
CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)
