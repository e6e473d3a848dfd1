"""Which unit is responsible for a case: RoutingRule rows, the deepest region first, then the nearest category.

The rules and the category tree come from the process's snapshot (``linli.cases.rules_cache``): routing a
case costs no query.
"""

from __future__ import annotations

from collections.abc import Mapping


def category_ancestry(parents: Mapping[int, int | None], category_id: int | None) -> list[int]:
    """The category and its ancestors in the tree ``parents`` (id → parent id), nearest first."""
    chain: list[int] = []
    current = category_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def category_chain(category_id: int | None) -> list[int]:
    """The category and its ancestors, nearest first."""
    from linli.cases.rules_cache import case_rules  # lazy: rules_cache imports the models via this package

    return case_rules().category_chain(category_id)


def path_prefixes(region_path: str) -> list[str]:
    """ "/D/S/C/" → ["/D/", "/D/S/", "/D/S/C/"]: the paths of every region containing it."""
    parts = [p for p in region_path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def route_unit(*, category_id: int | None, region_path: str) -> int | None:
    """The id of the responsible unit, or None (the dispatcher of the case's level decides at triage)."""
    from linli.cases.rules_cache import case_rules

    rules = case_rules()
    chain = rules.category_chain(category_id)
    prefixes = set(path_prefixes(region_path))
    best: tuple[tuple[int, int], int] | None = None
    for route in rules.routes:
        if route.region_path is not None and route.region_path not in prefixes:
            continue
        if route.category_id is not None and route.category_id not in chain:
            continue
        region_score = len(route.region_path) if route.region_path else 0
        cat_score = 0 if route.category_id is None else len(chain) - chain.index(route.category_id)
        score = (region_score, cat_score)
        if best is None or score > best[0]:
            best = (score, route.unit_id)
    return best[1] if best else None
