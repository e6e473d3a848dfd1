"""Visits made during a patrol: an extension point, so the patrol page lists them without owning them.

A visit source is a callable ``(viewer, worker_id, start, end) -> list[VisitRef]`` that returns the
visits the worker recorded in that time window *which the viewer may see* (the source applies its own
scope: care visits are care-registry data, PI-3). Sources register with ``patrol_visit_source_register``
(from an ``AppConfig.ready``). Until the people app registers its own, ``care_visits_source`` reads its
``CareVisit`` model (``worker``, ``visited_at``, ``kind``, scoped by ``for_user``) when it is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist


@dataclass(frozen=True)
class VisitRef:
    at: datetime
    label: str  # e.g. "入户走访"; never the visited person's name
    source: str


VisitSource = Callable[[Any, int, datetime, datetime], list[VisitRef]]
_sources: dict[str, VisitSource] = {}


def patrol_visit_source_register(name: str, source: VisitSource) -> None:
    """Add (or replace, by name) a source of visits."""
    _sources[name] = source


def care_visits_source(viewer: Any, worker_id: int, start: datetime, end: datetime) -> list[VisitRef]:
    try:
        model = apps.get_model("people", "CareVisit")
        for name in ("worker", "visited_at", "kind"):
            model._meta.get_field(name)
    except (LookupError, FieldDoesNotExist):
        return []
    manager = model._default_manager
    if not hasattr(manager, "for_user"):
        return []
    rows = (
        manager.for_user(viewer)
        .filter(worker_id=worker_id, visited_at__gte=start, visited_at__lte=end)
        .order_by("visited_at")[:200]
    )
    return [VisitRef(at=v.visited_at, label=str(v.get_kind_display()), source="care") for v in rows]


patrol_visit_source_register("care", care_visits_source)


def visits_during(*, viewer: Any, worker_id: int, start: datetime, end: datetime) -> list[VisitRef]:
    found: list[VisitRef] = []
    for source in _sources.values():
        found.extend(source(viewer, worker_id, start, end))
    return sorted(found, key=lambda v: v.at)
