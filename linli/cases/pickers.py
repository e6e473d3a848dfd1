"""Reads behind the screens' pickers: which categories, units, people and communities a form may offer.

Every list is already narrowed to what the acting user may choose for this case; the services check
again on the locked row (an assignee must see the case, a unit must be active), so a tampered form gets a
clear error, never a silent success.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

from linli.accounts.models import Membership, Unit
from linli.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from linli.cases.models import Case, Category
from linli.cases.routing import path_prefixes
from linli.core.scoping import scope_for
from linli.places.models import Level, Region

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from linli.accounts.models import User

Choice = tuple[str, str]
GroupedChoices = list[tuple[str, list[Choice]]]

HANDLER_ROLES = sorted(r for r, caps in ROLE_CAPABILITIES.items() if Capability.CASES_HANDLE in caps)


@dataclass(frozen=True)
class CategoryLeaf:
    id: int
    name: str
    group: str
    default_kind: str


def category_leaves() -> list[CategoryLeaf]:
    """Active leaves grouped under their active top-level group, in the admin's order (one query)."""
    rows = list(Category.objects.filter(is_active=True).order_by("sort", "code"))
    by_id = {c.pk: c for c in rows}
    parents = {c.parent_id for c in rows if c.parent_id is not None}
    out = []
    for c in rows:
        if c.pk in parents:
            continue
        group = by_id.get(c.parent_id) if c.parent_id is not None else None
        if c.parent_id is not None and group is None:
            continue  # its group was switched off
        out.append(CategoryLeaf(c.pk, c.name, group.name if group else "", c.default_kind))
    return out


def category_choices(leaves: list[CategoryLeaf] | None = None) -> GroupedChoices:
    """``<optgroup>`` per group, leaves inside; leaves without a group under an unnamed group."""
    groups: dict[str, list[Choice]] = {}
    for leaf in leaves if leaves is not None else category_leaves():
        groups.setdefault(leaf.group, []).append((str(leaf.id), leaf.name))
    return list(groups.items())


def units_for_case(case: Case) -> list[Unit]:
    """Active units anchored on the case's region or one above it (its community's property company,
    the street's and the district's departments)."""
    prefixes = path_prefixes(case.region_path)
    return list(Unit.objects.filter(is_active=True, region_path__in=prefixes).order_by("region_path", "name"))


def units_for_user(user: User | AnonymousUser, capability: str) -> list[Unit]:
    """Active units a dispatcher may hand cases to: those anchored inside the user's regions for
    ``capability``, or on a region above them (street and district departments)."""
    scope = scope_for(user, capability)
    qs = Unit.objects.filter(is_active=True)
    if not scope.is_global:
        q = Q(pk__in=[])
        for path in scope.region_paths:
            q |= Q(region_path__startswith=path) | Q(region_path__in=path_prefixes(path))
        qs = qs.filter(q)
    return list(qs.order_by("region_path", "name"))


def units_all() -> list[Unit]:
    """Every active unit: a rejection names the right unit wherever it sits."""
    return list(Unit.objects.filter(is_active=True).order_by("region_path", "name"))


@dataclass(frozen=True)
class Assignee:
    user_id: int
    label: str


def assignees_for_case(case: Case, units: list[Unit] | None = None) -> list[Assignee]:
    """People with cases.handle whose anchor covers the case: its grid's workers, the staff of its
    community and above, the handlers of its candidate units. One query."""
    units = units if units is not None else units_for_case(case)
    anchor = Q(region__path__in=path_prefixes(case.region_path)) | Q(unit_id__in=[u.pk for u in units])
    if case.grid_id is not None:
        anchor |= Q(grid_id=case.grid_id)
    rows = (
        Membership.objects.filter(anchor, role__in=HANDLER_ROLES, is_active=True, user__is_active=True)
        .select_related("user", "region", "grid", "unit")
        .order_by("role", "user__display_name", "user_id")
    )
    seen: dict[int, Assignee] = {}
    for m in rows:
        if m.user_id in seen:
            continue
        where = m.grid.name if m.grid else m.unit.name if m.unit else m.region.name if m.region else ""
        seen[m.user_id] = Assignee(m.user_id, f"{m.user} · {Role(m.role).label} · {where}")
    return list(seen.values())


def communities_for_user(user: User | AnonymousUser, capability: str) -> list[Region]:
    """Communities inside the user's scope for ``capability`` (for intake and placing a case)."""
    scope = scope_for(user, capability)
    qs = Region.objects.filter(level=Level.COMMUNITY)
    if not scope.is_global:
        q = Q(pk__in=[])
        for path in scope.region_paths:
            # Anchored at or under a community: that community; above one: all communities below.
            q |= Q(path__startswith=path) | Q(path__in=path_prefixes(path))
        if scope.grid_ids:
            q |= Q(grids__in=sorted(scope.grid_ids))
        qs = qs.filter(q)
    return list(qs.distinct().order_by("path"))


def communities_all() -> list[Region]:
    """Every community, for a resident who reports by address only."""
    return list(Region.objects.filter(level=Level.COMMUNITY).only("id", "name", "path").order_by("path"))
