"""A rung switched off in the admin: new cases and escalations skip it, cases already on it move *up* from
it (by hand or by the sweep) and are never stranded or sent down; the admin keeps the order geographic."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from linli.cases.ladder import ladder_from_rows, ladder_load
from linli.cases.models import Case, CaseEvent, EscalationLevel
from linli.cases.services import case_escalate, cases_sweep_sla
from linli.cases.tests.factories import World
from linli.cases.tests.test_sweep_passes import NOW, PAST, quiet_case

ROWS = [
    ("estate", "小区", 10, True),
    ("community", "社区", 20, True),
    ("street", "街道", 30, False),
    ("district", "区", 40, True),
]


def test_a_switched_off_rung_keeps_its_place_in_the_order() -> None:
    ladder = ladder_from_rows(reversed(ROWS))
    assert ladder.codes_bottom_up() == ["estate", "community", "district"]
    assert ladder.rank("street") == 30 and ladder.rank("") == -1
    assert ladder.next("community") == "district"
    assert ladder.next("street") == "district"  # up from where it sits, not back to the bottom
    assert ladder.steps() == {"estate": "community", "community": "district", "street": "district"}


def street_off() -> None:
    EscalationLevel.objects.filter(code="street").update(is_active=False)


def test_a_hand_escalation_from_a_switched_off_rung_goes_up(world: World) -> None:
    case = quiet_case(world)
    Case.objects.filter(pk=case.pk).update(level="street")
    street_off()
    moved = case_escalate(case_id=case.pk, actor=world.district_staff, note="需区级协调")
    assert moved.level == "district"
    assert CaseEvent.objects.filter(case=case, action="escalate").values_list("from_level", "to_level")[
        0
    ] == ("street", "district")


def test_the_sweep_moves_overdue_cases_off_a_switched_off_rung(world: World) -> None:
    on_street = quiet_case(world)
    on_community = quiet_case(world)
    Case.objects.filter(pk=on_street.pk).update(level="street", resolve_due_at=PAST, warn_at=PAST)
    Case.objects.filter(pk=on_community.pk).update(level="community", resolve_due_at=PAST, warn_at=PAST)
    street_off()
    assert cases_sweep_sla(now=NOW).escalated == 2
    assert Case.objects.get(pk=on_street.pk).level == "district"
    assert Case.objects.get(pk=on_community.pk).level == "district"  # skips the switched-off rung
    assert cases_sweep_sla(now=NOW).escalated == 0


def test_the_admin_keeps_the_order_geographic_and_one_rung_on(world: World) -> None:
    street = EscalationLevel.objects.get(code="street")
    district_rank = EscalationLevel.objects.get(code="district").rank
    street.rank = district_rank + 1  # 街道 above 区
    with pytest.raises(ValidationError) as err:
        street.full_clean()
    assert "rank" in err.value.message_dict
    street.refresh_from_db()
    street.is_active = False  # switching off with cases on it is fine: they move up from it
    street.full_clean()
    street.save()
    EscalationLevel.objects.exclude(code="district").update(is_active=False)
    last = EscalationLevel.objects.get(code="district")
    last.is_active = False
    with pytest.raises(ValidationError) as err:
        last.full_clean()
    assert "至少保留一个启用的层级" in err.value.message_dict["is_active"][0]
    assert ladder_load().codes_bottom_up() == ["district"]
