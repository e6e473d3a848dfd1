"""Who may do what with the three lists, through the scoping helper (``linli.core.scoping``).

- Reading: ``Model.objects.for_user(user)`` with ``needs.view`` (needs also by grid for grid workers).
- Writing (matching, projects, resources, organisations, incubation): ``needs.manage`` over the row's
  region path. Anything outside answers 404, like a row that does not exist.
- Filing a need: ``needs.manage`` or ``needs.report`` over the need's region (grid workers: their grid).
- The pool: resources and organisations are shared across a district (资源共享). A user may *pick* (for
  matching, claiming) those in their view scope and those anchored on an ancestor of it (a street-level
  共建单位 serves every community of the street). Picking shows names, never contacts.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from django.db.models import Q

from linli.accounts.roles import Capability
from linli.core.scoping import Scope, scope_for


def paths_q(field: str, paths: tuple[str, ...] | list[str]) -> Q | None:
    if not paths:
        return None
    return reduce(lambda a, b: a | b, (Q(**{f"{field}__startswith": p}) for p in paths))


def manage_q(user: Any, *, field: str = "region_path") -> Q | None:
    """Rows whose ``field`` lies in the user's ``needs.manage`` scope; None: no row at all."""
    scope = scope_for(user, Capability.NEEDS_MANAGE)
    if scope.is_global:
        return Q()
    return paths_q(field, scope.region_paths)


def may_manage(user: Any, region_path: str) -> bool:
    """The same rule in Python, for one path."""
    scope = scope_for(user, Capability.NEEDS_MANAGE)
    return scope.is_global or any(region_path.startswith(p) for p in scope.region_paths)


def may_report(user: Any, *, region_path: str, grid_id: int | None) -> bool:
    """May file a need in this region (and grid): ``needs.manage`` or ``needs.report`` covering it."""
    if may_manage(user, region_path):
        return True
    scope = scope_for(user, Capability.NEEDS_REPORT)
    if scope.is_global or any(region_path.startswith(p) for p in scope.region_paths):
        return True
    return grid_id is not None and grid_id in scope.grid_ids


def anchor_paths(scope: Scope) -> list[str]:
    """The region paths a scope is anchored on, grids counted by their community."""
    paths = list(scope.region_paths)
    if scope.grid_ids:
        from linli.places.models import Grid

        paths += list(
            Grid.objects.filter(pk__in=sorted(scope.grid_ids)).values_list("region_path", flat=True)
        )
    return paths


def ancestors(path: str) -> list[str]:
    """ "/D/S/C/" → ["/D/", "/D/S/"] (strict ancestors, shortest first)."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


def district_prefix(path: str) -> str:
    """The district's path of any path below it: "/D/S/C/" → "/D/"."""
    parts = [p for p in path.split("/") if p]
    return f"/{parts[0]}/" if parts else "/"


def pool_q(user: Any, *, field: str = "region_path") -> Q | None:
    """Rows a user may pick from the shared pool: in view scope, or on an ancestor of it."""
    scope = scope_for(user, Capability.NEEDS_VIEW)
    if scope.is_global:
        return Q()
    anchors = anchor_paths(scope)
    inside = paths_q(field, anchors)
    above = sorted({a for p in anchors for a in ancestors(p)})
    parts = [q for q in (inside, Q(**{f"{field}__in": above}) if above else None) if q is not None]
    if not parts:
        return None
    return reduce(lambda a, b: a | b, parts)
