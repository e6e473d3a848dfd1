"""Who may see what: the one scoping helper every list, detail, export, map layer and API goes through.

A model opts in by using ``ScopedQuerySet`` as its manager and naming, in ``scope``, the fields that
anchor its rows: a materialised region path (``/district/street/community/...``), a grid, a unit, or an
owner. A user's memberships (role + anchor) that grant the model's capability become a filter; anything
outside it is simply absent, so views answer 404 for it.

``may_view`` is the same rule evaluated in Python on one loaded object; tests compare the two for
generated users and objects (QUALITY AC-2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from linli.accounts.models import User

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class ScopeFields:
    """Names of the fields that place a row in the scope tree (any may be empty)."""

    capability: str
    region_path: str = ""
    grid: str = ""
    unit: str = ""
    owner: str = ""


@dataclass(frozen=True)
class Scope:
    """The anchors a user holds for one capability."""

    is_global: bool = False
    region_paths: tuple[str, ...] = ()
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    unit_ids: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.is_global or self.region_paths or self.grid_ids or self.unit_ids)


def scope_for(user: User | AnonymousUser | None, capability: str) -> Scope:
    """Compute (and memoise on the user object, i.e. per request) the scope for a capability."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope()
    from linli.accounts.scopes import build_scope  # accounts depends on core, not the reverse

    cache: dict[str, Scope] = user.__dict__.setdefault("_linli_scope_cache", {})
    if capability not in cache:
        cache[capability] = build_scope(user, capability)
    return cache[capability]


def _scope_q(fields: ScopeFields, scope: Scope) -> Q | None:
    parts: list[Q] = []
    if fields.region_path:
        parts.extend(Q(**{f"{fields.region_path}__startswith": p}) for p in scope.region_paths)
    if fields.grid and scope.grid_ids:
        parts.append(Q(**{f"{fields.grid}__in": sorted(scope.grid_ids)}))
    if fields.unit and scope.unit_ids:
        parts.append(Q(**{f"{fields.unit}__in": sorted(scope.unit_ids)}))
    if fields.owner and scope.user_id is not None:
        parts.append(Q(**{fields.owner: scope.user_id}))
    if not parts:
        return None
    return reduce(lambda a, b: a | b, parts)


class ScopedQuerySet(models.QuerySet[M], Generic[M]):
    def for_user(self, user: User | AnonymousUser | None) -> ScopedQuerySet[M]:
        fields: ScopeFields = self.model.scope  # type: ignore[attr-defined]
        scope = scope_for(user, fields.capability)
        if scope.is_global:
            return self.all()
        if fields.owner and user is not None and user.is_authenticated:
            scope = Scope(
                region_paths=scope.region_paths,
                grid_ids=scope.grid_ids,
                unit_ids=scope.unit_ids,
                user_id=user.pk,
            )
        q = _scope_q(fields, scope)
        if q is None:
            return self.none()
        return self.filter(q)


def _resolve(obj: Any, dotted: str) -> Any:
    value = obj
    for part in dotted.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


def _resolve_id(obj: Any, dotted: str) -> Any:
    """The primary key a foreign-key path points at, without loading the related row when direct."""
    if dotted == "id":
        return obj.pk
    if "__" not in dotted:
        return getattr(obj, dotted + "_id")
    value = _resolve(obj, dotted)
    return value.pk if isinstance(value, models.Model) else value


def may_view(user: User | AnonymousUser | None, obj: models.Model) -> bool:
    """The scope rule in Python, for one object (used by tests and by object-level checks)."""
    fields: ScopeFields = type(obj).scope  # type: ignore[attr-defined]
    scope = scope_for(user, fields.capability)
    if scope.is_global:
        return True
    if fields.region_path:
        path = _resolve(obj, fields.region_path)
        if path and any(str(path).startswith(p) for p in scope.region_paths):
            return True
    if fields.grid:
        grid_id = _resolve_id(obj, fields.grid)
        if grid_id is not None and grid_id in scope.grid_ids:
            return True
    if fields.unit:
        unit_id = _resolve_id(obj, fields.unit)
        if unit_id is not None and unit_id in scope.unit_ids:
            return True
    if fields.owner and user is not None and user.is_authenticated:
        owner_id = _resolve_id(obj, fields.owner)
        if owner_id == user.pk:
            return True
    return False


class Scoped:
    """Mixin marker for models using the scoping helper (documentation and type checks)."""

    scope: ClassVar[ScopeFields]
