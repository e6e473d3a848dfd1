"""Matching: the ranking equals a brute-force scorer (pure and through the database), and staff decisions
(accept reserves capacity, reject records the reason and is never suggested again, release gives back)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.needs.errors import NeedsError
from linli.needs.matching import (
    CAPACITY_SATURATION,
    RANGE_M,
    UNKNOWN_PROXIMITY,
    NeedFacts,
    ResourceFacts,
    need_suggestions,
    rank,
)
from linli.needs.models import (
    CapacityUnit,
    Category,
    MatchStatus,
    Need,
    NeedEvent,
    NeedMatch,
    NeedStatus,
    ProviderKind,
    Resource,
    ResourceKind,
    category_affinity,
)
from linli.needs.services import match_accept, match_reject, match_release
from linli.needs.tests.factories import NeedsWorld, make_need, make_resource
from linli.places.geometry import local_transformer
from linli.places.models import Region
from linli.places.tests.factories import LAT0, LNG0, SmallDistrict, build_small_district

pytestmark = pytest.mark.django_db


def brute_force(need: NeedFacts, resources: list[ResourceFacts]) -> list[tuple[int, float, float | None]]:
    """The documented score, one resource at a time: (resource id, score, distance), best first."""
    out = []
    for r in resources:
        affinity = category_affinity(need.category, r.category)
        if affinity == 0:
            continue
        amount = max(1, need.beneficiaries) if r.capacity_unit == CapacityUnit.PEOPLE else 1
        if r.remaining < amount:
            continue
        distance = None
        proximity = UNKNOWN_PROXIMITY
        if r.lat is not None and r.lng is not None and need.lat is not None and need.lng is not None:
            t = local_transformer(round(need.lng, 6), round(need.lat, 6))
            x, y = t.transform(r.lng, r.lat)
            x0, y0 = t.transform(need.lng, need.lat)
            dx, dy = x - x0, y - y0
            distance = math.sqrt(dx * dx + dy * dy)
            if distance > RANGE_M:
                continue
            proximity = 1.0 - distance / RANGE_M
        capacity = min(1.0, r.remaining / (CAPACITY_SATURATION * amount))
        out.append((r.id, round((0.5 * affinity + 0.3 * proximity + 0.2 * capacity) * 1e9) / 1e9, distance))
    out.sort(key=lambda t: (-t[1], t[0]))
    return out


# A few shared spots make exact ties (same distance, same score) likely.
SPOTS = [(LAT0 + 0.005, LNG0 + 0.01), (LAT0 + 0.002, LNG0 + 0.03), (LAT0 + 0.009, LNG0 + 0.06)]
points = st.one_of(
    st.none(),
    st.sampled_from(SPOTS),
    st.tuples(st.floats(LAT0 - 0.06, LAT0 + 0.07), st.floats(LNG0 - 0.06, LNG0 + 0.14)),
)
categories = st.sampled_from(
    [Category.ELDERLY, Category.HEALTH, Category.HOUSEKEEPING, Category.CULTURE, Category.EDUCATION]
)


@st.composite
def resource_facts(draw: Any, rid: int) -> ResourceFacts:
    point = draw(points)
    return ResourceFacts(
        id=rid,
        category=draw(categories),
        remaining=draw(st.integers(0, 12)),
        capacity_unit=draw(st.sampled_from(CapacityUnit.values)),
        lat=point[0] if point else None,
        lng=point[1] if point else None,
    )


@st.composite
def instances(draw: Any) -> tuple[NeedFacts, list[ResourceFacts]]:
    point = draw(st.one_of(st.sampled_from(SPOTS), st.none()))
    need = NeedFacts(
        category=draw(categories),
        beneficiaries=draw(st.integers(1, 6)),
        lat=point[0] if point else None,
        lng=point[1] if point else None,
    )
    n = draw(st.integers(0, 25))
    ids = draw(st.permutations(range(1, n + 1)))
    return need, [draw(resource_facts(rid)) for rid in ids]


@settings(max_examples=150, deadline=None)
@given(instances())
def test_the_ranking_equals_a_brute_force_scorer(instance: tuple[NeedFacts, list[ResourceFacts]]) -> None:
    need, resources = instance
    got = [(s.resource_id, s.score, s.distance_m) for s in rank(need, resources)]
    assert got == brute_force(need, resources)


def test_nearer_and_emptier_resources_rank_as_documented() -> None:
    need = NeedFacts(Category.ELDERLY, 1, *SPOTS[0])
    near = ResourceFacts(1, Category.ELDERLY, 5, CapacityUnit.NEEDS, *SPOTS[0])
    related = ResourceFacts(2, Category.HEALTH, 5, CapacityUnit.NEEDS, *SPOTS[0])
    far = ResourceFacts(3, Category.ELDERLY, 5, CapacityUnit.NEEDS, SPOTS[0][0], SPOTS[0][1] + 0.04)
    unrelated = ResourceFacts(4, Category.CULTURE, 5, CapacityUnit.NEEDS, *SPOTS[0])
    too_far = ResourceFacts(5, Category.ELDERLY, 5, CapacityUnit.NEEDS, SPOTS[0][0], SPOTS[0][1] + 0.2)
    ranked = rank(need, [near, related, far, unrelated, too_far])
    assert [s.resource_id for s in ranked] == [1, 3, 2]
    assert ranked[0].score == 1.0 and ranked[0].distance_m == pytest.approx(0, abs=1e-6)
    assert 3700 < ranked[1].distance_m < 3900  # 0.04° of longitude at 31.4°N


# --- through the database --------------------------------------------------------------------------
@pytest.fixture
def other_district(small_district: SmallDistrict) -> SmallDistrict:
    return build_small_district(code="U")


near_points = st.one_of(
    st.none(),
    st.sampled_from(SPOTS),
    st.tuples(st.floats(LAT0 - 0.01, LAT0 + 0.02), st.floats(LNG0 - 0.01, LNG0 + 0.07)),
)


def _resource_row(region: Region, draw: Any, today: dt.date) -> Resource:
    point = draw(st.one_of(near_points, points))
    capacity = draw(st.integers(1, 12))
    starts = today + dt.timedelta(days=draw(st.sampled_from([-30, -30, -1, 0, 3])))
    ends = draw(st.sampled_from([None, starts, starts + dt.timedelta(days=10)]))
    return Resource(
        name="r", kind=ResourceKind.SERVICES, category=draw(categories), provider_kind=ProviderKind.VOLUNTEERS,
        provider_name="队", region=region, region_path=region.path, lat=point[0] if point else None,
        lng=point[1] if point else None, capacity=capacity, remaining=capacity - draw(st.integers(0, capacity)),
        capacity_unit=draw(st.sampled_from(CapacityUnit.values)), valid_from=starts, valid_until=ends,
        is_active=draw(st.integers(0, 4)) > 0,
    )  # fmt: skip


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_suggestions_from_the_database_equal_the_brute_force(
    world: NeedsWorld, other_district: SmallDistrict, data: Any
) -> None:
    d = world.d
    today = timezone.localdate()
    with transaction.atomic():
        need = make_need(
            world.secretary0,
            data.draw(st.sampled_from([d.estates[0], d.estates[1], d.communities[0]])),
            category=data.draw(st.sampled_from([Category.ELDERLY, Category.HEALTH, Category.CULTURE])),
            beneficiaries=data.draw(st.integers(1, 6)),
        )
        regions = [
            d.district,
            d.streets[0],
            d.streets[1],
            d.communities[0],
            d.communities[3],
            d.estates[5],
            other_district.communities[0],
        ]
        rows = Resource.objects.bulk_create(
            [
                _resource_row(data.draw(st.sampled_from(regions)), data.draw, today)
                for _ in range(data.draw(st.integers(6, 20)))
            ]
        )
        decided = (
            data.draw(st.lists(st.sampled_from(rows), unique_by=lambda r: r.pk, max_size=3)) if rows else []
        )
        NeedMatch.objects.bulk_create(
            [NeedMatch(need=need, resource=r, status=MatchStatus.REJECTED, reason="不合适") for r in decided]
        )
        need = Need.objects.select_related("region", "community").get(pk=need.pk)
        eligible = [
            ResourceFacts(r.pk, r.category, r.remaining, r.capacity_unit, r.lat, r.lng)
            for r in rows
            if r.is_active
            and r.valid_from <= today
            and (r.valid_until is None or r.valid_until >= today)
            and r.region_path.startswith(d.district.path)
            and r not in decided
        ]
        point = need.region.lat, need.region.lng
        expected = brute_force(NeedFacts(need.category, need.beneficiaries, *point), eligible)
        got = [(s.resource_id, s.score, s.distance_m) for s, _ in need_suggestions(need=need, limit=None)]
        assert got == expected
        transaction.set_rollback(True)


# --- decisions -------------------------------------------------------------------------------------
def test_accepting_reserves_capacity_and_marks_the_need_matched(world: NeedsWorld) -> None:
    need = make_need(world.secretary0, world.d.estates[0], beneficiaries=3)
    resource = make_resource(
        world.secretary0, world.d.communities[0], capacity=10, capacity_unit=CapacityUnit.PEOPLE
    )
    match = match_accept(actor=world.secretary0, need_id=need.pk, resource_id=resource.pk)
    resource.refresh_from_db()
    need.refresh_from_db()
    assert (match.status, match.amount, resource.remaining) == (MatchStatus.ACCEPTED, 3, 7)
    assert need.status == NeedStatus.MATCHED
    event = NeedEvent.objects.get(need=need, action="match")
    assert (event.from_state, event.to_state, event.actor) == ("open", "matched", world.secretary0)
    assert [s for s, _ in need_suggestions(need=need)] == []  # decided: not suggested again


def test_a_rejection_records_the_reason_and_the_resource_is_not_suggested_again(world: NeedsWorld) -> None:
    need = make_need(world.secretary0, world.d.estates[0])
    resource = make_resource(world.secretary0, world.d.communities[0])
    assert [r.pk for _, r in need_suggestions(need=need)] == [resource.pk]
    with pytest.raises(NeedsError) as refused:
        match_reject(actor=world.secretary0, need_id=need.pk, resource_id=resource.pk, reason="  ")
    assert refused.value.code == "required"
    match = match_reject(
        actor=world.secretary0, need_id=need.pk, resource_id=resource.pk, reason="服务时间不合适"
    )
    assert (match.status, match.reason, match.amount) == (MatchStatus.REJECTED, "服务时间不合适", 0)
    assert need_suggestions(need=need) == []
    with pytest.raises(NeedsError) as again:
        match_accept(actor=world.secretary0, need_id=need.pk, resource_id=resource.pk)
    assert again.value.code == "already_decided"
    resource.refresh_from_db()
    assert resource.remaining == resource.capacity


def test_accepting_a_resource_that_is_not_a_candidate_is_refused(world: NeedsWorld) -> None:
    need = make_need(world.secretary0, world.d.estates[0], category=Category.ELDERLY)
    culture = make_resource(world.secretary0, world.d.communities[0], category=Category.CULTURE)
    with pytest.raises(NeedsError) as refused:
        match_accept(actor=world.secretary0, need_id=need.pk, resource_id=culture.pk)
    assert refused.value.code == "not_a_candidate" and refused.value.status == 409
    assert not NeedMatch.objects.exists()
    need.refresh_from_db()
    assert need.status == NeedStatus.OPEN and not NeedEvent.objects.filter(action="match").exists()


def test_releasing_the_last_resource_gives_capacity_back_and_reopens_the_need(world: NeedsWorld) -> None:
    need = make_need(world.secretary0, world.d.estates[0])
    resource = make_resource(world.secretary0, world.d.communities[0], capacity=1)
    match = match_accept(actor=world.secretary0, need_id=need.pk, resource_id=resource.pk)
    released = match_release(actor=world.secretary0, match_id=match.pk, reason="志愿者临时有事")
    resource.refresh_from_db()
    need.refresh_from_db()
    assert released.status == MatchStatus.RELEASED and resource.remaining == 1
    assert need.status == NeedStatus.OPEN
    assert NeedEvent.objects.filter(need=need, action="unmatch", note="志愿者临时有事").count() == 1


def test_closing_a_need_releases_its_reservations(world: NeedsWorld) -> None:
    from linli.needs.services import need_act

    need = make_need(world.secretary0, world.d.estates[0])
    resource = make_resource(world.secretary0, world.d.communities[0], capacity=2)
    match_accept(actor=world.secretary0, need_id=need.pk, resource_id=resource.pk)
    need_act(actor=world.secretary0, need_id=need.pk, action="close", note="居民已搬离")
    resource.refresh_from_db()
    need.refresh_from_db()
    assert resource.remaining == 2 and need.status == NeedStatus.CLOSED and need.closed_at is not None
    assert NeedMatch.objects.get(need=need).status == MatchStatus.RELEASED


def test_a_capacity_edit_keeps_what_is_reserved(world: NeedsWorld) -> None:
    from linli.needs.services import resource_update

    resource = make_resource(world.secretary0, world.d.communities[0], capacity=3)
    for i in range(2):
        need = make_need(world.secretary0, world.d.estates[i % 2])
        match_accept(actor=world.secretary0, need_id=need.pk, resource_id=resource.pk)
    with pytest.raises(NeedsError) as refused:
        resource_update(actor=world.secretary0, resource_id=resource.pk, changes={"capacity": 1})
    assert refused.value.code == "capacity_below_reserved"
    resource_update(actor=world.secretary0, resource_id=resource.pk, changes={"capacity": 6})
    resource.refresh_from_db()
    assert (resource.capacity, resource.remaining, resource.reserved) == (6, 4, 2)
