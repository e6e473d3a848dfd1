"""The periodic sweeps of the people app (run by ``people/tasks.py``), each idempotent over stored state.

- ``care_overdue_sweep``: tells each visit-plan owner about records whose visit is overdue, once per due
  date (compare-and-set on ``overdue_notified_due``, so two concurrent sweeps notify once), and gives each
  community's secretaries one digest per day.
- ``people_retention_sweep``: deletes what is past its retention period (PI-3): closed care records after
  their ``retention_until`` (with visits and photo files), residents who moved out more than three years
  ago (with their move history), stewards who left more than a year ago. One audit row per deletion.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import Membership
from linli.accounts.roles import Role
from linli.notifications.services import notification_send
from linli.people.models import (
    RESIDENT_RETENTION_DAYS,
    STEWARD_RETENTION_DAYS,
    CareRecord,
    CareStatus,
    CareVisitPhoto,
    Resident,
    ResidentStatus,
    Steward,
    StewardStatus,
)
from linli.people.uploads import uploads_delete
from linli.places.models import Region
from linli.security.audit import audit_record
from linli.security.masking import mask_name
from linli.security.models import AuditResult

SWEEP_BATCH = 5000


@dataclass
class SweepResult:
    notified: int = 0
    digests: int = 0
    deleted: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"notified": self.notified, "digests": self.digests, "deleted": dict(self.deleted)}


def _overdue(today: dt.date) -> Q:
    # Never notified, or notified about an earlier due date (a visit since moved the due date on).
    return Q(status=CareStatus.ACTIVE, next_visit_due__lt=today) & (
        Q(overdue_notified_due__isnull=True) | ~Q(overdue_notified_due=F("next_visit_due"))
    )


def care_overdue_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    today = timezone.localdate(now)
    result = SweepResult()
    ids = list(
        CareRecord.objects.filter(_overdue(today))
        .order_by("next_visit_due")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    per_community: dict[str, int] = defaultdict(int)
    for record_id in ids:
        with transaction.atomic():
            # Compare-and-set: only the sweep whose UPDATE matched notifies.
            won = CareRecord.objects.filter(_overdue(today), pk=record_id).update(
                overdue_notified_due=F("next_visit_due")
            )
            if not won:
                continue
            record = CareRecord.objects.select_related(
                "resident__household__building", "level", "worker"
            ).get(pk=record_id)
            community_path = "/".join(record.region_path.split("/")[:4]) + "/"  # /district/street/community/
            per_community[community_path] += 1
            if record.worker is None or not record.worker.is_active:
                continue
            days = (today - record.next_visit_due).days if record.next_visit_due else 0
            notification_send(
                recipients=[record.worker],
                kind="care.visit_overdue",
                title=_("关爱走访已超期"),
                # Masked: notification bodies are stored and shown in lists (PI-2).
                body=_("%(name)s(%(level)s,%(address)s)走访已超期%(days)d天,请尽快走访。")
                % {
                    "name": mask_name(record.resident.name),
                    "level": record.level.name,
                    "address": record.resident.household.address_label,
                    "days": days,
                },
                link=f"/people/care/{record.pk}/",
                dedup_key=f"care:{record.pk}:overdue:{record.next_visit_due}",
            )
            result.notified += 1
    result.digests = _community_digests(per_community, today)
    return result


def _community_digests(per_community: dict[str, int], today: dt.date) -> int:
    """One message per community per day to its secretaries: how many records became overdue."""
    sent = 0
    for path, count in sorted(per_community.items()):
        community = Region.objects.filter(path=path, level="community").first()
        if community is None:
            continue
        secretaries = [
            m.user
            for m in Membership.objects.filter(
                region=community, role=Role.COMMUNITY_SECRETARY, is_active=True
            ).select_related("user")
        ]
        if not secretaries:
            continue
        with transaction.atomic():
            notification_send(
                recipients=secretaries,
                kind="care.overdue_digest",
                title=_("关爱走访超期提醒"),
                body=_("%(community)s今日新增%(n)d位关爱对象走访超期,请在“关爱走访”中查看。")
                % {"community": community.name, "n": count},
                link="/people/care/?overdue=1",
                dedup_key=f"care:digest:{community.pk}:{today.isoformat()}",
            )
        sent += 1
    return sent


def people_retention_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    today = timezone.localdate(now or timezone.now())
    result = SweepResult(deleted={"care_records": 0, "residents": 0, "stewards": 0})
    for record_id in CareRecord.objects.filter(
        status=CareStatus.CLOSED, retention_until__lt=today
    ).values_list("id", flat=True)[:SWEEP_BATCH]:
        result.deleted["care_records"] += _delete_care_record(record_id, today)
    cutoff = today - dt.timedelta(days=RESIDENT_RETENTION_DAYS)
    for resident_id in (
        Resident.objects.filter(status=ResidentStatus.MOVED_OUT, moved_out_on__lt=cutoff)
        .exclude(care_records__isnull=False)  # a closed care record keeps its own (longer) period first
        .values_list("id", flat=True)[:SWEEP_BATCH]
    ):
        result.deleted["residents"] += _delete_resident(resident_id, cutoff)
    left_before = timezone.now() - dt.timedelta(days=STEWARD_RETENTION_DAYS)
    for steward_id in Steward.objects.filter(
        status=StewardStatus.LEFT, status_changed_at__lt=left_before
    ).values_list("id", flat=True)[:SWEEP_BATCH]:
        result.deleted["stewards"] += _delete_steward(steward_id, left_before)
    return result


def _audit_delete(obj: Model, data: dict[str, object]) -> None:
    audit_record(
        action="data.delete", actor=None, obj=obj, result=AuditResult.OK, data={"reason": "retention", **data}
    )


def _delete_care_record(record_id: int, today: dt.date) -> int:
    with transaction.atomic():
        record = (
            CareRecord.objects.select_for_update()
            .filter(pk=record_id, status=CareStatus.CLOSED, retention_until__lt=today)
            .first()
        )
        if record is None:
            return 0  # a concurrent sweep took it
        files = list(CareVisitPhoto.objects.filter(visit__record=record).values_list("file", flat=True))
        visits = record.visits.count()
        _audit_delete(record, {"visits": visits, "photos": len(files)})
        record.delete()
        transaction.on_commit(lambda: uploads_delete(files))
    return 1


def _delete_resident(resident_id: int, cutoff: dt.date) -> int:
    with transaction.atomic():
        resident = (
            Resident.objects.select_for_update()
            .filter(pk=resident_id, status=ResidentStatus.MOVED_OUT, moved_out_on__lt=cutoff)
            .first()
        )
        if resident is None or resident.care_records.exists():
            return 0
        _audit_delete(resident, {"moves": resident.moves.count()})
        resident.delete()
    return 1


def _delete_steward(steward_id: int, left_before: dt.datetime) -> int:
    with transaction.atomic():
        steward = (
            Steward.objects.select_for_update()
            .filter(pk=steward_id, status=StewardStatus.LEFT, status_changed_at__lt=left_before)
            .first()
        )
        if steward is None:
            return 0
        photo = steward.photo
        _audit_delete(steward, {"events": steward.events.count()})
        steward.delete()
        if photo:
            transaction.on_commit(lambda: uploads_delete([photo]))
    return 1
