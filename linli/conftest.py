from __future__ import annotations

import pytest

from linli.places.tests.factories import SmallDistrict, build_small_district


@pytest.fixture
def small_district(db: None) -> SmallDistrict:
    return build_small_district()
