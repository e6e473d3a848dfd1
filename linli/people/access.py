"""Scope checks for a capability other than a model's own (``people.edit`` on a resident, ``care.edit`` on
a care record, ``stewards.manage`` on a steward), with the same anchors as ``linli.core.scoping``.

``Model.objects.for_user(user)`` answers "may see"; ``for_capability(qs, user, cap)`` narrows a queryset to
the rows where the user holds ``cap``. Views use both: what you cannot see answers 404, and what you see
but may not change answers 404 on the change URL too (nothing learned from the difference).
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q, QuerySet

from linli.core.scoping import ScopeFields, scope_for

M = TypeVar("M", bound=models.Model)


def _value(obj: Any, dotted: str) -> Any:
    value = obj
    for part in dotted.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value.pk if isinstance(value, models.Model) else value


def for_capability(qs: QuerySet[M], user: Any, capability: str) -> QuerySet[M]:
    fields: ScopeFields = qs.model.scope  # type: ignore[attr-defined]
    scope = scope_for(user, capability)
    if scope.is_global:
        return qs
    parts: list[Q] = []
    if fields.region_path:
        parts += [Q(**{f"{fields.region_path}__startswith": p}) for p in scope.region_paths]
    if fields.grid and scope.grid_ids:
        parts.append(Q(**{f"{fields.grid}__in": sorted(scope.grid_ids)}))
    if not parts:
        return qs.none()
    return qs.filter(reduce(or_, parts))


def may(user: Any, capability: str, obj: models.Model) -> bool:
    """``for_capability`` for one loaded object (no query beyond the memoised scope)."""
    fields: ScopeFields = type(obj).scope  # type: ignore[attr-defined]
    scope = scope_for(user, capability)
    if scope.is_global:
        return True
    if fields.region_path:
        path = _value(obj, fields.region_path)
        if path and any(str(path).startswith(p) for p in scope.region_paths):
            return True
    return bool(fields.grid and _value(obj, fields.grid) in scope.grid_ids)
