"""Turn a user's active memberships into a Scope for one capability."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linli.accounts.roles import ROLE_CAPABILITIES, ROLE_SCOPE_KIND, ScopeKind
from linli.core.scoping import Scope

if TYPE_CHECKING:
    from linli.accounts.models import Membership, User


def active_memberships(user: User) -> list[Membership]:
    """Loaded once per request (memoised on the user object the auth middleware made)."""
    cached: list[Membership] | None = user.__dict__.get("_linli_memberships")
    if cached is None:
        from linli.accounts.models import Membership

        cached = list(Membership.objects.filter(user=user, is_active=True).select_related("region", "grid"))
        user.__dict__["_linli_memberships"] = cached
    return cached


def build_scope(user: User, capability: str) -> Scope:
    paths: set[str] = set()
    grids: set[int] = set()
    units: set[int] = set()
    is_global = False
    for m in active_memberships(user):
        if capability not in ROLE_CAPABILITIES.get(m.role, frozenset()):
            continue
        kind = ROLE_SCOPE_KIND[m.role]
        if kind == ScopeKind.GLOBAL:
            is_global = True
        elif kind == ScopeKind.REGION and m.region is not None:
            paths.add(m.region.path)
        elif kind == ScopeKind.GRID and m.grid_id is not None:
            grids.add(m.grid_id)
        elif kind == ScopeKind.UNIT and m.unit_id is not None:
            units.add(m.unit_id)
    # Drop paths already covered by a shorter one, so the SQL stays small.
    minimal = tuple(sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths)))
    return Scope(
        is_global=is_global, region_paths=minimal, grid_ids=frozenset(grids), unit_ids=frozenset(units)
    )


def user_roles(user: User) -> set[str]:
    return {m.role for m in active_memberships(user)}


def user_has_capability(user: User, capability: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return any(capability in ROLE_CAPABILITIES.get(m.role, frozenset()) for m in active_memberships(user))
