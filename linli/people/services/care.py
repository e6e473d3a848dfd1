"""Writes to the care registry: open, change and close a record (each with a history row), record a visit
(photos through the upload pipeline), and keep ``next_visit_due`` in step when a level's interval changes.
The caller has checked ``care.edit`` scope on the record or resident; these check state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.people.access import may
from linli.people.errors import PeopleError
from linli.people.models import (
    CareCategory,
    CareLevel,
    CareRecord,
    CareRecordEvent,
    CareStatus,
    CareVisit,
    CareVisitPhoto,
    Resident,
    ResidentStatus,
    VisitKind,
)
from linli.people.selectors.care import care_next_due
from linli.people.uploads import uploads_delete
from linli.security.uploads import StoredUpload, UploadError, upload_ingest

MAX_PHOTOS = 6
NOTES_MAX = 2000
INTERVAL_MAX = 366


def _categories(category_ids: Iterable[int]) -> list[CareCategory]:
    ids = sorted(set(category_ids))
    found = list(CareCategory.objects.filter(pk__in=ids, is_active=True))
    if not ids or len(found) != len(ids):
        raise PeopleError("category_invalid", _("请至少选择一个有效的关爱类别"))
    return found


def _level(code: str) -> CareLevel:
    level = CareLevel.objects.filter(code=code).first()
    if level is None:
        raise PeopleError("level_invalid", _("关爱等级只能是红色、黄色或绿色"))
    return level


def _check_worker(worker: User | None, record: CareRecord) -> None:
    # The visit plan's owner must be able to open the record: a worker of that grid (or the community).
    if worker is not None and not (worker.is_active and may(worker, Capability.CARE_VIEW, record)):
        raise PeopleError("worker_out_of_scope", _("走访责任人须是该网格(或社区)有关爱权限的工作人员"))


def _check_interval(interval: int | None) -> None:
    if interval is not None and not 1 <= interval <= INTERVAL_MAX:
        raise PeopleError("interval_invalid", _("走访间隔应为1到366天"))


def _basis(categories: Sequence[CareCategory]) -> tuple[str, str]:
    ordered = sorted(categories, key=lambda c: (c.sort_order, c.code))
    basis = ";".join(f"{c.name}:{c.legal_basis}" for c in ordered)
    reference = ";".join(dict.fromkeys(c.legal_reference for c in ordered))
    return basis, reference[:400]


def _event(
    record: CareRecord, action: str, actor: User | None, old: str = "", new: str = "", note: str = ""
) -> None:
    CareRecordEvent.objects.create(
        record=record, action=action, from_value=old[:200], to_value=new[:200], note=note[:200], actor=actor
    )


def _names(categories: Iterable[CareCategory]) -> str:
    return "、".join(c.name for c in sorted(categories, key=lambda c: (c.sort_order, c.code)))


def care_record_open(
    *,
    actor: User | None,
    resident: Resident,
    category_ids: Iterable[int],
    level_code: str,
    worker: User | None = None,
    situation: str = "",
    interval_days_override: int | None = None,
    opened_on: dt.date | None = None,
) -> CareRecord:
    """Put a present resident on the registry, with the legal basis of their categories recorded."""
    categories = _categories(category_ids)
    level = _level(level_code)
    _check_interval(interval_days_override)
    if resident.status != ResidentStatus.PRESENT:
        raise PeopleError("resident_not_present", _("只能为在住居民登记关爱对象"))
    basis, reference = _basis(categories)
    record = CareRecord(
        resident=resident,
        level=level,
        worker=worker,
        interval_days_override=interval_days_override,
        opened_on=opened_on or timezone.localdate(),
        legal_basis=basis,
        legal_reference=reference,
        situation=situation[:NOTES_MAX],
        grid_id=resident.grid_id,
        region_path=resident.region_path,
    )
    _check_worker(worker, record)
    record.next_visit_due = care_next_due(record)
    try:
        with transaction.atomic():
            record.save()
            record.categories.set(categories)
            _event(record, "open", actor, new=f"{level.name} · {_names(categories)}")
    except IntegrityError as exc:  # care_one_active_per_resident
        raise PeopleError("care_already_active", _("该居民已在关爱名单中,请修改原记录"), status=409) from exc
    return record


def care_record_update(
    *,
    actor: User | None,
    record_id: int,
    level_code: str | None = None,
    category_ids: Iterable[int] | None = None,
    worker: User | bool | None = False,  # False: unchanged; None: nobody
    interval_days_override: int | bool | None = False,
    situation: str | None = None,
    note: str = "",
) -> CareRecord:
    """Change the level, categories, visit-plan owner, interval or situation; one history row per change."""
    with transaction.atomic():
        record = CareRecord.objects.select_for_update().select_related("level").filter(pk=record_id).first()
        if record is None:
            raise PeopleError("not_found", _("对象不存在或无权访问"), status=404)
        if record.status != CareStatus.ACTIVE:
            raise PeopleError("care_closed", _("该关爱记录已结束"), status=409)
        fields: list[str] = []
        if level_code is not None and level_code != record.level.code:
            level = _level(level_code)
            _event(record, "level", actor, record.level.name, level.name, note)
            record.level = level
            fields.append("level")
        if interval_days_override is not False and interval_days_override != record.interval_days_override:
            assert not isinstance(interval_days_override, bool)
            _check_interval(interval_days_override)
            _event(
                record,
                "interval",
                actor,
                str(record.interval_days_override or ""),
                str(interval_days_override or ""),
                note,
            )
            record.interval_days_override = interval_days_override
            fields.append("interval_days_override")
        if worker is not False and worker != record.worker:
            assert not isinstance(worker, bool)
            _check_worker(worker, record)
            _event(record, "worker", actor, str(record.worker or ""), str(worker or ""), note)
            record.worker = worker
            fields.append("worker")
        if situation is not None and situation != record.situation:
            _event(record, "situation", actor, note=note)
            record.situation = situation[:NOTES_MAX]
            fields.append("situation")
        if category_ids is not None:
            categories = _categories(category_ids)
            old = list(record.categories.all())
            if {c.pk for c in old} != {c.pk for c in categories}:
                basis, reference = _basis(categories)
                record.categories.set(categories)
                record.legal_basis, record.legal_reference = basis, reference
                fields += ["legal_basis", "legal_reference"]
                _event(record, "categories", actor, _names(old), _names(categories), note)
        if fields:
            record.next_visit_due = care_next_due(record)
            record.save(update_fields=[*fields, "next_visit_due", "updated_at"])
    return record


def care_record_close(
    *, actor: User | None, record_id: int, reason: str, closed_on: dt.date | None = None
) -> CareRecord:
    """End care (moved away, no longer in need, deceased); kept until the longest retention of its categories."""
    reason = (reason or "").strip()
    if not reason:
        raise PeopleError("reason_required", _("请填写结束原因"))
    closed_on = closed_on or timezone.localdate()
    with transaction.atomic():
        record = CareRecord.objects.select_for_update().filter(pk=record_id).first()
        if record is None:
            raise PeopleError("not_found", _("对象不存在或无权访问"), status=404)
        if record.status != CareStatus.ACTIVE:
            raise PeopleError("care_closed", _("该关爱记录已结束"), status=409)
        keep = max((c.retention_days for c in record.categories.all()), default=3 * 365)
        record.status = CareStatus.CLOSED
        record.closed_on = closed_on
        record.close_reason = reason[:200]
        record.retention_until = closed_on + dt.timedelta(days=keep)
        record.next_visit_due = None
        record.save(
            update_fields=[
                "status",
                "closed_on",
                "close_reason",
                "retention_until",
                "next_visit_due",
                "updated_at",
            ]
        )
        _event(record, "close", actor, new=reason)
    return record


def _ingest(photos: Sequence[bytes | IO[bytes]]) -> list[StoredUpload]:
    if len(photos) > MAX_PHOTOS:
        raise PeopleError("too_many_photos", _("每次走访最多上传%(n)d张照片") % {"n": MAX_PHOTOS})
    stored: list[StoredUpload] = []
    try:
        for photo in photos:
            stored.append(upload_ingest(photo, purpose="care-visit"))
    except UploadError as exc:
        uploads_delete([s.name for s in stored])
        raise PeopleError(exc.code, exc.message) from exc
    return stored


def care_visit_record(
    *,
    actor: User,
    record_id: int,
    kind: str,
    notes: str = "",
    visited_at: dt.datetime | None = None,
    photos: Sequence[bytes | IO[bytes]] = (),
) -> CareVisit:
    """Record a door or phone visit; the next due date moves on from it. Photos are cleaned (EXIF/GPS
    stripped) and stored before the transaction (slow I/O outside it) and removed again if it fails."""
    if kind not in VisitKind.values:
        raise PeopleError("visit_kind_invalid", _("走访方式只能是入户走访或电话问候"))
    now = timezone.now()
    visited_at = visited_at or now
    if timezone.is_naive(visited_at):
        raise PeopleError("naive_datetime", _("走访时间须带时区"))
    if visited_at > now + dt.timedelta(minutes=5):
        raise PeopleError("date_in_future", _("走访时间不能晚于现在"))
    if len(notes) > NOTES_MAX:
        raise PeopleError("notes_too_long", _("走访情况不能超过2000字"))
    stored = _ingest(photos)
    try:
        with transaction.atomic():
            record = (
                CareRecord.objects.select_for_update().select_related("level").filter(pk=record_id).first()
            )
            if record is None:
                raise PeopleError("not_found", _("对象不存在或无权访问"), status=404)
            if record.status != CareStatus.ACTIVE:
                raise PeopleError("care_closed", _("该关爱记录已结束,不能再登记走访"), status=409)
            if visited_at.date() < record.opened_on - dt.timedelta(days=1):
                raise PeopleError("visit_before_open", _("走访时间早于登记日期"))
            visit = CareVisit.objects.create(
                record=record,
                worker=actor,
                kind=kind,
                visited_at=visited_at,
                notes=notes,
                grid_id=record.grid_id,
                region_path=record.region_path,
            )
            CareVisitPhoto.objects.bulk_create(
                [
                    CareVisitPhoto(
                        visit=visit, file=s.name, content_type=s.content_type, size=s.size, sha256=s.sha256
                    )
                    for s in stored
                ]
            )
            # A visit entered late (yesterday's, recorded today) must not move the plan backwards.
            if record.last_visit_at is None or visited_at > record.last_visit_at:
                record.last_visit_at = visited_at
                record.next_visit_due = care_next_due(record)
                record.save(update_fields=["last_visit_at", "next_visit_due", "updated_at"])
    except BaseException:
        uploads_delete(s.name for s in stored)
        raise
    return visit


def care_level_update(*, level_id: int, changes: dict[str, Any]) -> CareLevel:
    """Edit a level (the admin calls this); a new interval re-plans every active record on that level."""
    allowed = {"name", "visit_interval_days", "description", "sort_order"}
    with transaction.atomic():
        level = CareLevel.objects.select_for_update().get(pk=level_id)
        old_interval = level.visit_interval_days
        for field in set(changes) & allowed:
            setattr(level, field, changes[field])
        _check_interval(level.visit_interval_days)
        level.save()
        if level.visit_interval_days != old_interval:
            care_due_recompute(level_id=level.pk)
    return level


def care_due_recompute(*, level_id: int | None = None) -> int:
    """Recompute ``next_visit_due`` of active records (of one level); returns how many changed."""
    qs = CareRecord.objects.filter(status=CareStatus.ACTIVE).select_related("level")
    if level_id is not None:
        qs = qs.filter(level_id=level_id)
    changed = []
    for record in qs.iterator(chunk_size=2000):
        due = care_next_due(record)
        if due != record.next_visit_due:
            record.next_visit_due = due
            changed.append(record)
    CareRecord.objects.bulk_update(changed, ["next_visit_due"], batch_size=1000)
    return len(changed)
