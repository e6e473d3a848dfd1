"""Which unit is responsible for a case: RoutingRule rows, the deepest region first, then the nearest category.

The rules and the category tree come from the process's snapshot (``linli.cases.rules_cache``): routing a
case costs no query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


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
    return best_route(rules.routes, chain=rules.category_chain(category_id), region_path=region_path)


def best_route(
    routes: Iterable[tuple[int, str | None, int | None]], *, chain: list[int], region_path: str
) -> int | None:
    """Of ``(unit_id, region_path, category_id)`` rules, the unit of the one for the deepest region
    containing ``region_path``, then the nearest category in ``chain`` (the case's category first);
    None (any region, any category) matches everything, least specifically."""
    prefixes = set(path_prefixes(region_path))
    best: tuple[tuple[int, int], int] | None = None
    for unit_id, path, cat_id in routes:
        if path is not None and path not in prefixes:
            continue
        if cat_id is not None and cat_id not in chain:
            continue
        score = (len(path) if path else 0, 0 if cat_id is None else len(chain) - chain.index(cat_id))
        if best is None or score > best[0]:
            best = (score, unit_id)
    return best[1] if best else None
