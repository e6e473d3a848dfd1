"""Suggesting resources for a need, ranked by category, distance and remaining capacity.

A resource is a candidate for a need when (all of):
1. it is active and today lies in its valid period;
2. its category matches the need's (``category_affinity`` > 0: the same category, or a related one);
3. its remaining capacity covers what the need would take (``amount``: 1 for a resource counted in
   needs, the need's beneficiaries for one counted in people);
4. nobody decided on this (need, resource) pair before (accepted, rejected or released pairs are never
   suggested again: a rejection's reason stands);
5. it belongs to the need's district;
6. it lies within ``RANGE_M`` of the need's point, or has no location (funds, online services).

Score (0..1, rounded to 9 decimals as rint(score · 1e9) / 1e9), higher first, ties by resource id::

    score = 0.5 · category + 0.3 · proximity + 0.2 · capacity
    category  = 1 (same category) or 0.5 (related)
    proximity = 1 − d / RANGE_M   (d: metres between the need's and the resource's points in a transverse
                                   Mercator centred on the need — places.geometry.local_transformer)
              = 0.5 when the resource has no location, or the need's region has no point
    capacity  = min(1, remaining / (5 · amount))   (a resource that could serve this need five more
                                                    times scores 1)

The need's point is its region's representative point (estate, else community): no household address
is stored or used. Everything runs in process over the prefiltered rows (category, capacity, validity and
a bounding box in SQL), vectorised with numpy; the test compares it with a brute-force scorer.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Q, QuerySet
from django.utils import timezone

from linli.needs.models import (
    CapacityUnit,
    Need,
    NeedMatch,
    Resource,
    categories_matching,
    category_affinity,
)
from linli.needs.permissions import district_prefix
from linli.places.geometry import local_transformer

RANGE_M = 5000.0
W_CATEGORY, W_PROXIMITY, W_CAPACITY = 0.5, 0.3, 0.2
UNKNOWN_PROXIMITY = 0.5
CAPACITY_SATURATION = 5
SCORE_SCALE = 1e9  # scores are rounded to 9 decimals: rint(score · 1e9) / 1e9
# Degrees per metre, with a 10% margin, for the SQL bounding box (the exact test is in metres after).
_LAT_DEG_PER_M = 1.1 / 110_574.0


@dataclass(frozen=True)
class NeedFacts:
    category: str
    beneficiaries: int
    lat: float | None
    lng: float | None


@dataclass(frozen=True)
class ResourceFacts:
    id: int
    category: str
    remaining: int
    capacity_unit: str
    lat: float | None
    lng: float | None


@dataclass(frozen=True)
class Suggestion:
    resource_id: int
    score: float
    category: float
    proximity: float
    capacity: float
    distance_m: float | None
    amount: int


def rank(
    need: NeedFacts, resources: Sequence[ResourceFacts], *, limit: int | None = None
) -> list[Suggestion]:
    """Score and order the candidates among ``resources`` (conditions 2, 3 and 6 above are checked here;
    the others belong to the query)."""
    if not resources:
        return []
    by_category = {c: category_affinity(need.category, c) for c in {r.category for r in resources}}
    affinity = np.array([by_category[r.category] for r in resources])
    people = np.array([r.capacity_unit == CapacityUnit.PEOPLE for r in resources])
    amount = np.where(people, max(1, need.beneficiaries), 1).astype(np.int64)
    remaining = np.array([r.remaining for r in resources], dtype=np.int64)
    located = np.array([r.lat is not None and r.lng is not None for r in resources])
    distance = np.full(len(resources), np.nan)
    proximity = np.full(len(resources), UNKNOWN_PROXIMITY)
    if need.lat is not None and need.lng is not None and located.any():
        transformer = local_transformer(round(need.lng, 6), round(need.lat, 6))
        idx = np.flatnonzero(located)
        lngs = np.array([resources[int(i)].lng for i in idx], dtype=np.float64)
        lats = np.array([resources[int(i)].lat for i in idx], dtype=np.float64)
        x, y = transformer.transform(lngs, lats)
        x0, y0 = transformer.transform(need.lng, need.lat)
        dx, dy = np.asarray(x) - x0, np.asarray(y) - y0
        d = np.sqrt(dx * dx + dy * dy)
        distance[idx] = d
        proximity[idx] = 1.0 - d / RANGE_M
    capacity = np.minimum(1.0, remaining / (CAPACITY_SATURATION * amount))
    keep = (affinity > 0) & (remaining >= amount) & ~(distance > RANGE_M)
    raw = W_CATEGORY * affinity + W_PROXIMITY * proximity + W_CAPACITY * capacity
    # Rounded to whole nano-points (half to even), so equal scores tie exactly and sort by id.
    score = np.rint(raw * SCORE_SCALE) / SCORE_SCALE
    ids = np.array([r.id for r in resources], dtype=np.int64)
    kept = np.flatnonzero(keep)
    # Best score first, then the smaller id; only the rows returned become objects.
    order = kept[np.lexsort((ids[kept], -score[kept]))]
    if limit is not None:
        order = order[:limit]
    return [
        Suggestion(
            resource_id=int(ids[i]),
            score=float(score[i]),
            category=float(affinity[i]),
            proximity=float(proximity[i]),
            capacity=float(capacity[i]),
            distance_m=None if math.isnan(distance[i]) else float(distance[i]),
            amount=int(amount[i]),
        )
        for i in map(int, order)
    ]


def need_point(need: Need) -> tuple[float | None, float | None]:
    """The need's region point (estate, else community): never a household's address."""
    for region in (need.region, need.community):
        if region.lat is not None and region.lng is not None:
            return region.lat, region.lng
    return None, None


def candidates_query(need: Need, *, today: dt.date | None = None) -> QuerySet[Resource]:
    """Conditions 1–6 in SQL (6 as a bounding box): a superset of the candidates ``rank`` keeps."""
    today = today or timezone.localdate()
    amount_people = max(1, need.beneficiaries)
    qs = (
        Resource.objects.filter(
            is_active=True,
            category__in=categories_matching(need.category),
            valid_from__lte=today,
            region_path__startswith=district_prefix(need.region_path),
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .filter(Q(capacity_unit=CapacityUnit.NEEDS, remaining__gte=1) | Q(remaining__gte=amount_people))
        .exclude(pk__in=NeedMatch.objects.filter(need=need).values("resource_id"))
    )
    lat, lng = need_point(need)
    if lat is not None and lng is not None:
        dlat = RANGE_M * _LAT_DEG_PER_M
        # Longitude degrees shrink with the cosine of the latitude; take the box's pole-ward edge.
        edge = min(89.0, abs(lat) + dlat)
        dlng = dlat / math.cos(math.radians(edge))
        qs = qs.filter(
            Q(lat__isnull=True)
            | Q(lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng)
        )
    return qs


def facts_of_need(need: Need) -> NeedFacts:
    lat, lng = need_point(need)
    return NeedFacts(category=need.category, beneficiaries=need.beneficiaries, lat=lat, lng=lng)


def facts_of_resource(r: Resource) -> ResourceFacts:
    return ResourceFacts(
        id=r.pk,
        category=r.category,
        remaining=r.remaining,
        capacity_unit=r.capacity_unit,
        lat=r.lat,
        lng=r.lng,
    )


def need_suggestions(
    *, need: Need, limit: int | None = 20, today: dt.date | None = None
) -> list[tuple[Suggestion, Resource]]:
    """The ranked candidates for ``need`` with their resource rows (one query for the rows)."""
    rows = {r.pk: r for r in candidates_query(need, today=today).select_related("organisation", "station")}
    ranked = rank(facts_of_need(need), [facts_of_resource(r) for r in rows.values()], limit=limit)
    return [(s, rows[s.resource_id]) for s in ranked]


def suggestion_for(*, need: Need, resource: Resource, today: dt.date | None = None) -> Suggestion | None:
    """The suggestion for one pair, or None when the resource is not a candidate for the need now."""
    if not candidates_query(need, today=today).filter(pk=resource.pk).exists():
        return None
    ranked = rank(facts_of_need(need), [facts_of_resource(resource)])
    return ranked[0] if ranked else None
