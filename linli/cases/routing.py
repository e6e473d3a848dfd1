"""Which unit is responsible for a case: RoutingRule rows, the deepest region first, then the nearest category."""

from __future__ import annotations

from django.db.models import Q

from linli.cases.models import Category, RoutingRule


def category_chain(category_id: int | None) -> list[int]:
    """The category and its ancestors, nearest first (the tree is small; one query)."""
    if category_id is None:
        return []
    parents = dict(Category.objects.values_list("id", "parent_id"))
    chain: list[int] = []
    current: int | None = category_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def path_prefixes(region_path: str) -> list[str]:
    """ "/D/S/C/" → ["/D/", "/D/S/", "/D/S/C/"]: the paths of every region containing it."""
    parts = [p for p in region_path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def route_unit(*, category_id: int | None, region_path: str) -> int | None:
    """The id of the responsible unit, or None (the dispatcher of the case's level decides at triage)."""
    chain = category_chain(category_id)
    prefixes = path_prefixes(region_path)
    rules = (
        RoutingRule.objects.filter(is_active=True, unit__is_active=True)
        .filter(Q(region__isnull=True) | Q(region__path__in=prefixes))
        .filter(Q(category__isnull=True) | Q(category_id__in=chain))
        .values_list("unit_id", "region__path", "category_id")
    )
    best: tuple[tuple[int, int], int] | None = None
    for unit_id, path, cat_id in rules:
        region_score = len(path) if path else 0
        cat_score = 0 if cat_id is None else len(chain) - chain.index(cat_id)
        score = (region_score, cat_score)
        if best is None or score > best[0]:
            best = (score, unit_id)
    return best[1] if best else None
