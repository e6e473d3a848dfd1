"""The PostgreSQL ``COPY`` path of ``cases_bulk_create`` writes exactly what the portable path writes.

PostgreSQL only: on SQLite there is no ``COPY`` and the portable path is the one in use (every other test
of the hotline import and the demo history exercises it there).
"""

from __future__ import annotations

import csv
import functools
import io
from datetime import datetime
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from linli.cases.contact import cases_with_contact_phone
from linli.cases.models import Case, CaseEvent, CaseNumberCounter, Channel
from linli.cases.services import case_submit
from linli.cases.tests.factories import category, grid_point
from linli.integrations import bulk, demo
from linli.integrations.hotline import services as hotline
from linli.integrations.hotline.read import COLUMNS
from linli.places.tests.factories import SmallDistrict
from linli.security import crypto

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="COPY is PostgreSQL's; SQLite uses the ORM path"
    ),
]

_SKIP = {"id", "updated_at"}


def _orders(d: SmallDistrict, n: int) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS)
    writer.writeheader()
    for i in range(n):
        lat, lng = grid_point(d, i % len(d.grids))
        done = i % 3 != 0
        writer.writerow(
            {
                "工单编号": f"P{i:04d}",
                "来电时间": f"2026-03-{1 + i % 5:02d} {8 + i % 9:02d}:{i % 60:02d}:07",
                "诉求类型": "" if i % 4 == 0 else "投诉",
                "问题分类": "井盖缺失" if i % 2 else "暴露垃圾",
                "诉求内容": f"第{i}件:人民路井盖缺失",
                "地址": "人民路12号",
                "经度": "" if i % 7 == 0 else f"{lng}",
                "纬度": "" if i % 7 == 0 else f"{lat}",
                "联系人": "李四",
                "联系电话": "" if i % 5 == 0 else f"139{i:08d}",
                "办理状态": "已办结" if done else "办理中",
                "办结时间": "2026-03-09 17:00" if done else "",
                "满意度": ["满意", "", "不满意"][i % 3] if done else "",
            }
        )
    return buf.getvalue().encode("utf-8-sig")


def _snapshot() -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    names = [f.attname for f in Case._meta.concrete_fields if f.attname not in _SKIP]
    cases = [
        {name: getattr(c, name) for name in names} for c in Case.objects.order_by("external_id")
    ]  # contact_phone decrypted by the field: the plaintexts must match
    events = list(
        CaseEvent.objects.order_by("case__external_id", "created_at", "id").values_list(
            "case__external_id",
            "actor_id",
            "actor_role",
            "action",
            "from_status",
            "to_status",
            "from_level",
            "to_level",
            "note",
            "data",
            "is_public",
            "created_at",
        )
    )
    return cases, events


def _wipe() -> None:
    CaseEvent.objects.all().delete()
    Case.objects.all().delete()
    CaseNumberCounter.objects.all().delete()


def test_copy_path_writes_what_the_orm_path_writes(
    district: SmallDistrict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given one file imported through COPY, then (after wiping) through the ORM path
    data = _orders(district, 60)
    report = hotline.hotline_import(data=data, filename="o.csv")
    assert report.ok and report.created == 60
    copied = _snapshot()
    _wipe()
    monkeypatch.setattr(hotline, "cases_bulk_write", functools.partial(bulk.cases_bulk_write, copy=False))
    assert hotline.hotline_import(data=data, filename="o.csv").created == 60
    # then every field of every case and every event row is the same
    orm = _snapshot()
    assert len(copied[1]) == 60 + 2 * 40
    assert copied[0] == orm[0]
    assert copied[1] == orm[1]


def test_copied_phones_are_ciphertext_found_by_the_blind_index_and_numbers_unique(
    district: SmallDistrict,
) -> None:
    hotline.hotline_import(data=_orders(district, 30), filename="o.csv")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_phone, contact_phone_index FROM cases_case WHERE external_id = 'P0001'"
        )
        stored, index = cursor.fetchone()
    assert crypto.is_ciphertext(stored) and "13900000001" not in stored
    assert index == crypto.blind_index("phone", "13900000001")
    assert Case.objects.get(external_id="P0001").contact_phone == "13900000001"
    assert list(cases_with_contact_phone("139-0000-0001").values_list("external_id", flat=True)) == ["P0001"]
    assert Case.objects.get(external_id="P0000").contact_phone == ""  # empty stays empty, unindexed
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 30
    # the per-day counters moved on: a case filed normally afterwards gets the next number and a new id
    when = timezone.make_aware(datetime(2026, 3, 1, 12, 0))
    last = CaseNumberCounter.objects.get(day=when.date()).last
    lat, lng = grid_point(district, 1)
    single = case_submit(
        text="路灯不亮",
        channel=Channel.OPEN311,
        category_id=category("road.manhole").pk,
        lat=lat,
        lng=lng,
        client_id="x",
        now=when,
    ).case
    assert single.number == f"20260301-{last + 1:06d}"
    assert single.pk > max(Case.objects.exclude(pk=single.pk).values_list("pk", flat=True))
    assert single.events.count() == 1  # the event sequence moved on too


def test_a_failure_inside_the_copy_leaves_nothing(district: SmallDistrict) -> None:
    # given two orders with the same external id (the file check would catch it; here the database does)
    lat, lng = grid_point(district, 2)
    place = bulk.places_locate([(lat, lng)])[0]
    assert place is not None
    when = timezone.make_aware(datetime(2026, 3, 2, 9, 30))
    item = bulk.BulkCase(
        channel=Channel.HOTLINE,
        kind="complaint",
        category_id=category("road.manhole").pk,
        text="井盖缺失",
        created_at=when,
        place=place,
        lat=lat,
        lng=lng,
        contact_phone="13900139000",
        external_id="SAME",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.cases_bulk_create([item, item])
    # then no case, no event, and the day's counter is where it was
    assert Case.objects.count() == 0 and CaseEvent.objects.count() == 0
    assert not CaseNumberCounter.objects.filter(day=when.date(), last__gt=0).exists()


def test_demo_history_through_copy_equals_the_orm_path(
    district: SmallDistrict, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert demo.cases_seed_history(size=200, seed=9).created == 200
    copied = _snapshot()
    _wipe()
    monkeypatch.setattr(demo, "cases_bulk_create", functools.partial(bulk.cases_bulk_create, copy=False))
    assert demo.cases_seed_history(size=200, seed=9).created == 200
    orm = _snapshot()
    # created_at and the steps count back from "now", which moved between the two runs by a few
    # milliseconds at most; everything else is the same
    assert [{k: v for k, v in c.items() if not k.endswith("_at")} for c in copied[0]] == [
        {k: v for k, v in c.items() if not k.endswith("_at")} for c in orm[0]
    ]
    assert [e[:-1] for e in copied[1]] == [e[:-1] for e in orm[1]]
