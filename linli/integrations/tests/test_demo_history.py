"""Demo history: deterministic, idempotent, every case with its events and an honest final state."""

from __future__ import annotations

import pytest

from linli.cases.models import STATUS_INFO, Case, CaseEvent, Channel
from linli.integrations.demo import cases_seed_history
from linli.places.tests.factories import SmallDistrict

pytestmark = pytest.mark.django_db


def test_history_is_deterministic_idempotent_and_consistent(district: SmallDistrict) -> None:
    first = cases_seed_history(size=300, seed=5)
    assert first.created == 300
    snapshot = list(
        Case.objects.order_by("external_id").values_list(
            "external_id", "category_id", "status", "level", "grid_id"
        )
    )
    again = cases_seed_history(size=300, seed=5)
    assert (again.created, again.skipped) == (0, 300)
    assert Case.objects.count() == 300
    for case in Case.objects.all():
        assert case.status_category == STATUS_INFO[case.status].category
        assert case.grid_id is not None and case.region_path.startswith(district.district.path)
        if STATUS_INFO[case.status].solved:
            assert case.resolved_level == case.level and case.resolved_at is not None
    # the first event of every case is its submission, and the last one reaches the final status
    firsts = CaseEvent.objects.filter(action="submit").count()
    assert firsts == 300
    for case in Case.objects.all()[:50]:
        events = list(case.events.order_by("created_at", "id"))
        assert events[0].action == "submit" and events[-1].to_status == case.status
    channels = set(Case.objects.values_list("channel", flat=True))
    assert {Channel.RESIDENT, Channel.HOTLINE} <= channels
    Case.objects.all().delete()
    cases_seed_history(size=300, seed=5)
    assert snapshot == list(
        Case.objects.order_by("external_id").values_list(
            "external_id", "category_id", "status", "level", "grid_id"
        )
    )


def test_about_seventy_twenty_ten_per_cent_are_resolved_at_community_street_district(
    district: SmallDistrict,
) -> None:
    cases_seed_history(size=1500, seed=6)
    from datetime import timedelta

    from django.utils import timezone

    from linli.cases.selectors import resolution_level_shares

    now = timezone.now()
    shares = resolution_level_shares(region_path="/", start=now - timedelta(days=400), end=now).shares_721
    assert 0.64 < shares["community"] < 0.76
    assert 0.15 < shares["street"] < 0.25
    assert 0.06 < shares["district"] < 0.14
