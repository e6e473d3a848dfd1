"""Who may manage what in the party app: ``party.manage`` over a region path, through the scoping helper."""

from __future__ import annotations

from typing import Any

from linli.accounts.roles import Capability
from linli.core.scoping import scope_for


def party_manages(user: Any, region_path: str) -> bool:
    """True when ``user`` holds ``party.manage`` in a membership whose region covers ``region_path``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    scope = scope_for(user, Capability.PARTY_MANAGE)
    return scope.is_global or any(region_path.startswith(p) for p in scope.region_paths)


def party_views(user: Any, region_path: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    scope = scope_for(user, Capability.PARTY_VIEW)
    return scope.is_global or any(region_path.startswith(p) for p in scope.region_paths)
