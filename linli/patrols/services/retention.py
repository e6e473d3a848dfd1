"""Deleting tracks after their retention period (PI-3): a periodic, idempotent sweep.

A patrol's points and building passes are deleted ``LINLI_PATROL_RETENTION_DAYS`` after it ended; the
patrol row stays as a work record (grid, times, distance, counts) with ``track_purged_at`` set, and one
``track_purge`` event. Each chunk claims its patrols under a row lock and re-checks ``track_purged_at``,
so two concurrent sweeps purge (and record) each patrol once. One audit row per run that deleted anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from linli.patrols.models import Patrol, PatrolBuildingPass, PatrolEvent, PatrolPoint
from linli.security.audit import audit_record
from linli.security.models import AuditResult

CHUNK = 200


@dataclass(frozen=True)
class PurgeReport:
    patrols: int
    points: int
    passes: int


def patrol_tracks_purge(*, now: datetime | None = None, retention_days: int | None = None) -> PurgeReport:
    now = now or timezone.now()
    days = settings.LINLI_PATROL_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = now - timedelta(days=days)
    patrols = points = passes = 0
    while True:
        candidates = list(
            Patrol.objects.filter(track_purged_at__isnull=True, ended_at__lt=cutoff)
            .order_by("ended_at", "pk")
            .values_list("pk", flat=True)[:CHUNK]
        )
        if not candidates:
            break
        with transaction.atomic():
            claimed = list(
                Patrol.objects.select_for_update()
                .filter(pk__in=candidates, track_purged_at__isnull=True, ended_at__lt=cutoff)
                .values_list("pk", flat=True)
            )
            if claimed:
                points += PatrolPoint.objects.filter(patrol_id__in=claimed).delete()[0]
                passes += PatrolBuildingPass.objects.filter(patrol_id__in=claimed).delete()[0]
                Patrol.objects.filter(pk__in=claimed).update(track_purged_at=now, updated_at=now)
                PatrolEvent.objects.bulk_create(
                    PatrolEvent(
                        patrol_id=pk,
                        action="track_purge",
                        from_status="ended",
                        to_status="ended",
                        note=f"轨迹超过保存期限({days}天),已删除",
                    )
                    for pk in claimed
                )
                patrols += len(claimed)
        if len(candidates) < CHUNK:
            break
    if patrols:
        audit_record(
            action="data.delete",
            actor=None,
            obj=None,
            object_type="patrols.patrolpoint",
            result=AuditResult.OK,
            data={"reason": "retention", "retention_days": days, "patrols": patrols, "points": points},
        )
    return PurgeReport(patrols=patrols, points=points, passes=passes)
