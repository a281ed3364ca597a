from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.screening.index import clear_cache

OFAC_SDN = "/work/shared/data/sanctions/ofac-sdn-2024-05-03.csv"


@pytest.fixture(autouse=True)
def fresh_index() -> Iterator[None]:
    """The process-wide index is keyed by snapshot ids, which a rolled-back test database hands out again."""
    clear_cache()
    yield
    clear_cache()
