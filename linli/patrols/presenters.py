"""Patrols as plain dicts for the API and the pages (masked names, rounded figures, GeoJSON)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from linli.patrols.models import Patrol
from linli.patrols.selectors import TrackView


def patrol_dict(p: Patrol) -> dict[str, Any]:
    duration = p.duration_s if p.ended_at else int((timezone.now() - p.started_at).total_seconds())
    return {
        "id": p.pk,
        "status": p.status,
        "status_label": str(p.get_status_display()),
        "worker": str(p.worker),
        "grid_id": p.grid_id,
        "grid": p.grid.name,
        "started_at": p.started_at,
        "ended_at": p.ended_at,
        "duration_s": max(duration, 0),
        "distance_m": p.distance_m,
        "point_count": p.point_count,
        "flagged_count": p.flagged_count,
        "building_count": p.building_count,
        "track_purged": p.track_purged_at is not None,
    }


def track_dict(view: TrackView) -> dict[str, Any]:
    patrol = view.patrol
    fixes = view.track.accepted
    return {
        "patrol": patrol_dict(patrol) | {"duration_s": view.duration_s},
        "live": view.live,
        "distance_m": view.distance_m,
        "point_count": view.track.point_count,
        "flagged": [{"seq": s, "code": c} for s, c in sorted(view.track.flagged.items())],
        "jumps": view.track.jumps,
        "track": {
            "type": "Feature",
            "geometry": view.track.geojson() if fixes else None,
            "properties": {"kind": "track"},
        },
        "start": {"lat": fixes[0].lat, "lng": fixes[0].lng} if fixes else None,
        "finish": {"lat": fixes[-1].lat, "lng": fixes[-1].lng} if fixes else None,
        "buildings": [
            {
                "id": b.building_id,
                "name": b.name,
                "lat": b.lat,
                "lng": b.lng,
                "passed_at": b.passed_at.isoformat(),
            }
            for b in view.passes
        ],
        "cases": [
            {
                "id": c.pk,
                "number": c.number,
                "title": c.title,
                "status": c.status,
                "status_label": str(c.get_status_display()),
                "lat": c.lat,
                "lng": c.lng,
                "created_at": c.created_at.isoformat(),
            }
            for c in view.cases
        ],
        "visits": [{"at": v.at.isoformat(), "label": v.label, "source": v.source} for v in view.visits],
    }
