"""A problem found on patrol becomes a case of the closed loop (channel ``grid_patrol``), linked here.

The case is filed through ``linli.cases.services.case_submit`` (the one way a case is born: locate, route,
deadline, event, notifications), with the worker as ``filed_by``. The phone sends an idempotency key with
each report, so a report replayed from its offline queue files one case and one link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from linli.cases.errors import CaseError
from linli.cases.models import Case, Channel
from linli.cases.services import case_submit
from linli.patrols.errors import PatrolError
from linli.patrols.models import Patrol, PatrolCase

if TYPE_CHECKING:
    from linli.accounts.models import User


@dataclass(frozen=True)
class ProblemResult:
    case: Case
    created: bool


def patrol_problem_report(
    *,
    patrol_id: int,
    worker: User,
    text: str,
    lat: float | None,
    lng: float | None,
    category_id: int | None = None,
    kind: str | None = None,
    address: str = "",
    photos: Sequence[bytes] = (),
    idempotency_key: str = "",
    now: datetime | None = None,
) -> ProblemResult:
    """``now``: the time of the report when it is replayed from history (demo data, imports)."""
    patrol = Patrol.objects.filter(pk=patrol_id, worker=worker).first()
    if patrol is None:
        raise PatrolError("not_found", "巡查不存在", status=404)
    if patrol.track_purged_at is not None:
        raise PatrolError("track_purged", "该巡查已过保存期限", status=409)
    if lat is None or lng is None:
        raise PatrolError("location_required", "请允许定位后再上报(需要问题所在位置)")
    try:
        result = case_submit(
            text=text,
            channel=Channel.GRID_PATROL,
            filed_by=worker,
            kind=kind,
            category_id=category_id,
            lat=lat,
            lng=lng,
            address=address,
            photos=photos,
            idempotency_key=idempotency_key,
            now=now,
        )
    except CaseError as exc:
        raise PatrolError(exc.code, exc.message, status=exc.status, details=exc.details) from exc
    try:
        with transaction.atomic():
            PatrolCase.objects.get_or_create(patrol=patrol, case=result.case)
    except IntegrityError:
        pass  # a concurrent replay linked it first
    return ProblemResult(case=result.case, created=result.created)
