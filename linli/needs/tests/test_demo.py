"""The demo lists load once, through the services, with every workflow represented."""

from __future__ import annotations

import pytest

from linli.needs.demo import needs_seed_demo
from linli.needs.models import (
    IncubationStage,
    MatchStatus,
    Need,
    NeedMatch,
    NeedStatus,
    Organisation,
    Project,
    ProjectStatus,
    Resource,
)
from linli.places.demo.geography import SMALL_SIZE
from linli.places.demo.loader import demo_load

pytestmark = pytest.mark.django_db


def test_the_demo_lists_are_plausible_and_load_once(settings: object) -> None:
    assert needs_seed_demo().created == 0  # no demo district yet: nothing, and a clear message
    demo_load(size=SMALL_SIZE)
    result = needs_seed_demo()
    assert result.created > 0
    assert Organisation.objects.count() == 11
    stages = set(Organisation.objects.values_list("incubation_stage", flat=True))
    assert {IncubationStage.SERVICES_PURCHASED, IncubationStage.REGISTERED, IncubationStage.APPLIED} <= stages
    assert Resource.objects.count() >= 30 and Need.objects.count() >= 24
    assert NeedMatch.objects.filter(status=MatchStatus.ACCEPTED).exists()
    assert NeedMatch.objects.filter(status=MatchStatus.REJECTED).exclude(reason="").exists()
    assert Need.objects.filter(status=NeedStatus.MET).exists()
    statuses = set(Project.objects.values_list("status", flat=True))
    assert {ProjectStatus.OPEN, ProjectStatus.IN_PROGRESS, ProjectStatus.EVALUATED} <= statuses
    assert Need.objects.filter(grid__isnull=False).exists()  # the demo grid worker filed visit needs
    assert needs_seed_demo().created == 0  # idempotent
    assert Organisation.objects.count() == 11
