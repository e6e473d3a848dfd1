"""Stations as plain dicts for the API and the pages (one shape, so both always agree)."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from django.urls import reverse

from linli.stations.hours import WEEKDAY_LABELS, Period, Schedule, schedule_is_open, schedule_of
from linli.stations.models import ChecklistItem, Station, StationKind
from linli.stations.walking import DETOUR_FACTOR, WALK_SPEED_M_PER_MIN, walk_metres, walk_minutes

if TYPE_CHECKING:
    from linli.stations.index import Hit, StationEntry


def station_summary_dict(
    station: Station, now: dt.datetime, schedule: Schedule | None = None
) -> dict[str, Any]:
    schedule = schedule or schedule_of(station)
    return {
        "id": station.id,
        "code": station.code,
        "name": station.name,
        "kind": station.kind,
        "kind_label": str(StationKind(station.kind).label),
        "address": station.address,
        "phone": station.phone,
        "lat": station.lat,
        "lng": station.lng,
        "open_now": schedule_is_open(schedule, now),
        "weekend_open": schedule.weekend_open,
        "extended_hours": schedule.extended,
        "is_24h": schedule.is_24h,
        "url": reverse("stations:detail", kwargs={"station_id": station.id}),
    }


def hours_table(schedule: Schedule) -> list[dict[str, Any]]:
    """One row per weekday (and 节假日 when set): label and the periods' text, "休息" when none."""
    rows = []
    for weekday, periods in enumerate(schedule.by_weekday):
        if weekday == 7 and not periods:
            continue
        text = "00:00–24:00" if schedule.is_24h and weekday < 7 else "、".join(p.label() for p in periods)
        rows.append({"weekday": weekday, "label": WEEKDAY_LABELS[weekday], "text": text or "休息"})
    return rows


def _period_dict(p: Period) -> dict[str, Any]:
    return {
        "weekday": p.weekday,
        "weekday_label": WEEKDAY_LABELS[p.weekday],
        "opens": p.opens.strftime("%H:%M"),
        "closes": p.closes.strftime("%H:%M"),
        "overnight": p.overnight,
    }


def station_detail_dict(station: Station, now: dt.datetime) -> dict[str, Any]:
    schedule = schedule_of(station)
    menu = getattr(station, "active_menu", None)
    if menu is None:
        menu = list(station.menu.filter(is_active=True, item__is_active=True).select_related("item"))
    checklist = {c.item: c for c in station.checklist.all()}
    return {
        **station_summary_dict(station, now, schedule),
        "description": station.description,
        "contact_name": station.contact_name,
        "hours_note": station.hours_note,
        "open_on_holidays": station.open_on_holidays,
        "periods": [_period_dict(p) for day in schedule.by_weekday for p in day],
        "menu": [
            {
                "item_code": line.item.code,
                "item_name": line.item.name,
                "category": line.item.category,
                "tier": line.tier,
                "note": line.note,
            }
            for line in menu
        ],
        "checklist": [
            {
                "item": value,
                "label": str(label),
                "met": bool(checklist.get(value) and checklist[value].met),
                "evidence": checklist[value].evidence if value in checklist else "",
            }
            for value, label in ChecklistItem.choices
        ],
        "partners": [
            {"name": p.name, "kind_label": p.get_kind_display(), "services": p.services}
            for p in station.partners.all()
            if p.is_active
        ],
        "photos": [
            reverse("stations:photo", kwargs={"station_id": station.id, "photo_id": ph.id})
            for ph in station.photos.all()
        ],
        "office_area_m2": station.office_area_m2,
        "public_area_m2": station.public_area_m2,
        "office_share": round(station.office_share, 4) if station.office_share is not None else None,
    }


# --- the nearest endpoint's answer -----------------------------------------------------------------------
# ``GET /api/stations/nearest`` answers a list of ``NearestOut`` (linli/stations/api.py). Most of each item
# depends only on the station and the language, so it is rendered to JSON once per index version and
# language (``nearest_fragments``) and each request only fills in the distance and whether it is open.
# ``nearest_hit_dict`` is the same item as a dict: the tests check that both agree.


def _station_head(e: StationEntry, kind_label: str) -> dict[str, Any]:
    """The keys of a nearest item before the per-request ones (same for every request)."""
    return {
        "id": e.id,
        "code": e.code,
        "name": e.name,
        "kind": e.kind,
        "kind_label": kind_label,
        "address": e.address,
        "phone": e.phone,
        "lat": e.lat,
        "lng": e.lng,
    }


def _station_tail(e: StationEntry) -> dict[str, Any]:
    """The keys of a nearest item after the per-request ones."""
    return {
        "weekend_open": e.schedule.weekend_open,
        "extended_hours": e.schedule.extended,
        "is_24h": e.schedule.is_24h,
    }


def nearest_hit_dict(hit: Hit, kind_label: str) -> dict[str, Any]:
    e, d = hit.entry, hit.distance_m
    return {
        **_station_head(e, kind_label),
        "distance_m": round(d),
        "walk_m": round(walk_metres(d)),
        "walk_minutes": max(1, round(walk_minutes(d))),
        "open_now": hit.open_now,
        **_station_tail(e),
    }


def nearest_fragments(entry: StationEntry, kind_label: str) -> tuple[str, str]:
    """The JSON text of a ``nearest_hit_dict`` before and after its per-request keys (``distance_m`` to
    ``open_now``), with ``json.dumps``'s default separators."""
    head = json.dumps(_station_head(entry, kind_label), ensure_ascii=False)
    tail = json.dumps(_station_tail(entry))
    return head[:-1] + ", ", tail[1:]


def nearest_json(
    hits: list[Hit], fragments: dict[int, tuple[str, str]], kind_labels: dict[str, str]
) -> bytes:
    """The answer's body: a JSON array of ``nearest_hit_dict`` items. ``fragments`` (station id ->
    ``nearest_fragments``) is the caller's cache for this index version and language; filled as needed."""
    parts = []
    for entry, d, open_now in hits:
        pieces = fragments.get(entry.id)
        if pieces is None:
            pieces = fragments[entry.id] = nearest_fragments(entry, kind_labels[entry.kind])
        # walk_metres and walk_minutes written out (the same arithmetic): two calls less per station.
        walk = d * DETOUR_FACTOR
        minutes = round(walk / WALK_SPEED_M_PER_MIN)
        parts.append(
            f'{pieces[0]}"distance_m": {round(d)}, "walk_m": {round(walk)}, '
            f'"walk_minutes": {minutes if minutes > 1 else 1}, '
            f'"open_now": {"true" if open_now else "false"}, {pieces[1]}'
        )
    return ("[" + ", ".join(parts) + "]").encode()
