"""The escalation ladder as data: which rung a new case starts on, which is next, whose region owns a rung."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from linli.cases.models import EscalationLevel, LadderLevel

# How many segments of a region path ("/D/S/C/E/") name the region of each rung.
LEVEL_DEPTH: dict[str, int] = {
    LadderLevel.DISTRICT: 1,
    LadderLevel.STREET: 2,
    LadderLevel.COMMUNITY: 3,
    LadderLevel.ESTATE: 4,
}


@dataclass(frozen=True)
class Rung:
    code: str
    name: str
    rank: int


@dataclass(frozen=True)
class Ladder:
    rungs: tuple[Rung, ...]  # active rungs, lowest first

    def rank(self, level: str) -> int:
        """Rank of a level; the blank "not located yet" level is below every rung."""
        for rung in self.rungs:
            if rung.code == level:
                return rung.rank
        return -1

    def next(self, level: str) -> str | None:
        """The next active rung above ``level`` (None at the top)."""
        current = self.rank(level)
        for rung in self.rungs:
            if rung.rank > current:
                return rung.code
        return None

    def entry(self, *, has_estate: bool, has_community: bool) -> str:
        """Where a new case starts: the lowest active rung its location reaches (blank = not located)."""
        if not has_community:
            return ""
        for rung in self.rungs:
            if rung.code == LadderLevel.ESTATE and not has_estate:
                continue
            return rung.code
        return ""

    def codes_bottom_up(self) -> list[str]:
        return [rung.code for rung in self.rungs]


def ladder_load() -> Ladder:
    rows = EscalationLevel.objects.filter(is_active=True).order_by("rank").values_list("code", "name", "rank")
    return Ladder(rungs=tuple(Rung(code, name, rank) for code, name, rank in rows))


@lru_cache(maxsize=65536)  # pure, and called per case by the sweep's notifications
def level_region_path(region_path: str, level: str) -> str:
    """The path of the region owning ``level`` for a case at ``region_path``; blank level → the district."""
    depth = LEVEL_DEPTH.get(level, 1)
    parts = [p for p in region_path.split("/") if p]
    return "/" + "/".join(parts[:depth]) + "/" if parts else ""
