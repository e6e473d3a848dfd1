"""The 分类分色 care registry: due dates (working days honoured), visits, overdue first, the overdue sweep
(once per due date, also under two sweeps), photos cleaned and served in scope, re-planning when a level
changes, and the retention job (PI-3)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from PIL import Image

from linli.notifications.models import Notification
from linli.people.errors import PeopleError
from linli.people.models import CareLevel, CareRecord, CareRecordEvent, CareStatus, CareVisit, CareVisitPhoto
from linli.people.selectors.care import care_due_date
from linli.people.services import (
    care_level_update,
    care_overdue_sweep,
    care_record_close,
    care_record_open,
    care_visit_record,
    people_retention_sweep,
)
from linli.people.tests.factories import People
from linli.security.models import AuditEvent
from linli.workdays.models import DayKind
from linli.workdays.rules import calendar_invalidate
from linli.workdays.services import calendar_day_set

TZ = timezone.get_default_timezone()


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


@pytest.mark.django_db
def test_a_due_date_on_a_weekend_or_holiday_moves_to_the_next_working_day() -> None:
    for day in (dt.date(2025, 10, d) for d in range(1, 9)):
        calendar_day_set(day=day, kind=DayKind.HOLIDAY, name="国庆节")
    calendar_day_set(day=dt.date(2025, 9, 28), kind=DayKind.MAKEUP_WORKDAY, name="国庆调休")
    calendar_invalidate()

    assert care_due_date(base=dt.date(2025, 3, 3), interval_days=7) == dt.date(2025, 3, 10)  # Monday + 7
    assert care_due_date(base=dt.date(2025, 3, 7), interval_days=1) == dt.date(
        2025, 3, 10
    )  # Saturday → Monday
    assert care_due_date(base=dt.date(2025, 9, 27), interval_days=1) == dt.date(
        2025, 9, 28
    )  # 调休 Sunday works
    assert care_due_date(base=dt.date(2025, 9, 30), interval_days=1) == dt.date(2025, 10, 9)  # after 国庆


@pytest.mark.django_db
def test_a_visit_moves_the_plan_on_and_a_late_entry_never_moves_it_back(people: People) -> None:
    record = people.care[0]
    worker = people.users["grid0"]
    first = at(dt.date(2025, 3, 3))

    care_visit_record(actor=worker, record_id=record.pk, kind="door", visited_at=first, notes="身体尚可")
    record.refresh_from_db()
    assert record.next_visit_due == dt.date(2025, 3, 10)  # red: weekly

    care_visit_record(
        actor=worker, record_id=record.pk, kind="phone", visited_at=first - dt.timedelta(days=20)
    )
    record.refresh_from_db()
    assert (record.last_visit_at, record.next_visit_due) == (first, dt.date(2025, 3, 10))
    assert CareVisit.objects.filter(record=record).count() == 2


@pytest.mark.django_db
def test_overdue_records_come_first_on_the_workers_list_and_are_flagged(
    client: Client, people: People
) -> None:
    worker = people.users["secretary0"]
    second = people.care[1]  # grid 1, same community: the secretary sees both
    CareRecord.objects.filter(pk=people.care[0].pk).update(
        next_visit_due=timezone.localdate() + dt.timedelta(days=20)
    )
    CareRecord.objects.filter(pk=second.pk).update(next_visit_due=timezone.localdate() - dt.timedelta(days=3))
    client.force_login(worker)

    items = client.get("/api/people/care").json()["items"]
    page = client.get("/people/care/").content.decode()

    assert [i["id"] for i in items] == [second.pk, people.care[0].pk]
    assert (items[0]["due_state"], items[0]["due_days"]) == ("overdue", 3)
    assert "超期 3 天" in page
    assert [i["id"] for i in client.get("/api/people/care?overdue=true").json()["items"]] == [second.pk]


@pytest.mark.django_db
def test_the_overdue_sweep_notifies_the_plan_owner_once_per_due_date(people: People) -> None:
    record = people.care[0]
    due = timezone.localdate() - dt.timedelta(days=2)
    CareRecord.objects.exclude(pk=record.pk).update(
        next_visit_due=timezone.localdate() + dt.timedelta(days=30)
    )
    CareRecord.objects.filter(pk=record.pk).update(next_visit_due=due)

    first = care_overdue_sweep()
    second = care_overdue_sweep()  # a second (or concurrent) sweep finds nothing left to claim

    mine = Notification.objects.filter(recipient=people.users["grid0"], kind="care.visit_overdue")
    assert (first.notified, second.notified, mine.count()) == (1, 0, 1)
    assert record.resident.name not in mine.get().body  # masked in the stored message
    digest = Notification.objects.filter(recipient=people.users["secretary0"], kind="care.overdue_digest")
    assert digest.count() == 1 and first.digests == 1

    # A visit, then overdue again later: a new due date, a new reminder.
    care_visit_record(
        actor=people.users["grid0"],
        record_id=record.pk,
        kind="door",
        visited_at=timezone.now() - dt.timedelta(days=30),
    )
    later = care_overdue_sweep(now=timezone.now() + dt.timedelta(days=1))
    assert later.notified == 1 and mine.count() == 2


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 24.0, 0.0), 3: "E", 4: (104.0, 36.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.django_db
def test_a_visit_photo_loses_its_gps_and_is_served_only_to_those_who_see_the_record(
    client: Client, people: People
) -> None:
    record = people.care[0]
    client.force_login(people.users["grid0"])

    answer = client.post(
        f"/api/people/care/{record.pk}/visits",
        {"kind": "door", "notes": "送米面油", "photos": [io.BytesIO(_jpeg_with_gps())]},
    )

    assert answer.status_code == 201, answer.content
    photo = CareVisitPhoto.objects.get(visit_id=answer.json()["id"])
    with default_storage.open(photo.file, "rb") as stored:
        assert not Image.open(stored).getexif()
    url = answer.json()["photos"][0]["url"]
    served = client.get(url)
    assert served.status_code == 200 and served["Cache-Control"] == "private, no-store"
    client.force_login(people.users["grid1"])
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_record_keeps_its_legal_basis_and_a_person_is_on_the_registry_once(people: People) -> None:
    record = people.care[0]
    assert "老年人权益保障法" in record.legal_reference and "独居老人" in record.legal_basis
    assert CareRecordEvent.objects.filter(record=record, action="open").count() == 1

    with pytest.raises(PeopleError) as exc:
        care_record_open(
            actor=None,
            resident=record.resident,
            category_ids=[record.categories.first().pk],
            level_code="green",
        )  # type: ignore[union-attr]
    assert exc.value.code == "care_already_active"

    with pytest.raises(PeopleError) as exc:  # the plan owner must be able to see the record
        care_record_open(
            actor=None,
            resident=people.residents[1],
            category_ids=[record.categories.first().pk],  # type: ignore[union-attr]
            level_code="green",
            worker=people.users["grid5"],
        )
    assert exc.value.code == "worker_out_of_scope"


@pytest.mark.django_db
def test_a_new_interval_for_a_level_replans_its_active_records(people: People) -> None:
    red = CareLevel.objects.get(code="red")
    record = people.care[0]
    care_visit_record(
        actor=people.users["grid0"], record_id=record.pk, kind="door", visited_at=at(dt.date(2025, 3, 3))
    )

    care_level_update(level_id=red.pk, changes={"visit_interval_days": 14})

    record.refresh_from_db()
    assert record.next_visit_due == dt.date(2025, 3, 17)


@pytest.mark.django_db
def test_the_retention_job_deletes_closed_records_past_their_period_with_one_audit_row_each(
    people: People,
) -> None:
    record = people.care[0]
    visit = care_visit_record(
        actor=people.users["grid0"], record_id=record.pk, kind="door", photos=[_jpeg_with_gps()]
    )
    stored = visit.photos.get().file
    care_record_close(
        actor=people.users["grid0"], record_id=record.pk, reason="已迁往外地", closed_on=dt.date(2020, 1, 1)
    )
    record.refresh_from_db()
    assert record.status == CareStatus.CLOSED and record.retention_until == dt.date(
        2020, 1, 1
    ) + dt.timedelta(days=3 * 365)

    result = people_retention_sweep()

    assert result.deleted["care_records"] == 1
    assert (
        not CareRecord.objects.filter(pk=record.pk).exists()
        and not CareVisit.objects.filter(pk=visit.pk).exists()
    )
    rows = AuditEvent.objects.filter(action="data.delete", object_type="people.carerecord")
    assert rows.count() == 1 and rows.get().object_id == str(record.pk)
    assert people_retention_sweep().deleted["care_records"] == 0  # idempotent
    assert default_storage.exists(stored)  # the file goes after commit (the test transaction never commits)
