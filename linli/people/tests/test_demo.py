"""The demo register: plausible, valid (synthetic) ID numbers, a care sample, stewards; idempotent."""

from __future__ import annotations

import pytest

from linli.accounts.roles import Role
from linli.accounts.tests.factories import staff_with_role
from linli.people.demo import people_seed_demo
from linli.people.models import CareRecord, Household, Resident, Steward, StewardKind, StewardStatus
from linli.people.tests.factories import care_config_ensure
from linli.places.models import Region
from linli.places.tests.factories import SmallDistrict
from linli.security.validation import is_valid_id_number


@pytest.mark.django_db
def test_the_demo_fills_a_community_once_with_valid_synthetic_people(small_district: SmallDistrict) -> None:
    care_config_ensure()
    Region.objects.filter(level="building").update(households=12)
    for i in (0, 1, 6):  # grid 6 lies in a community the demo does not fill
        staff_with_role(Role.GRID_WORKER, district=small_district, index=i)
    name = small_district.communities[0].name

    first = people_seed_demo(communities=(name,))
    second = people_seed_demo(communities=(name,))

    assert first.households == Household.objects.count() == 4 * 12 and second.households == 0
    residents = list(Resident.objects.all())
    assert len(residents) == first.residents > first.households
    assert all(is_valid_id_number(r.id_number) for r in residents)
    assert len({r.id_number for r in residents}) == len(residents)
    assert CareRecord.objects.count() == first.care_records >= 2
    assert Steward.objects.filter(status=StewardStatus.ACTIVE).count() >= 2
    assert "已生成演示居民登记" in first.message
    # Every grid's worker is on the 三亮 register with a duty phone (the posters of the whole district),
    # once: the second run registers nobody again.
    workers = Steward.objects.filter(kind=StewardKind.GRID_WORKER, status=StewardStatus.ACTIVE)
    assert set(workers.values_list("grid_id", flat=True)) == {small_district.grids[i].pk for i in (0, 1, 6)}
    assert all(w.duty_phone for w in workers) and second.stewards == 0
