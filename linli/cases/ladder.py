"""The escalation ladder as data: which rung a new case starts on, which is next, whose region owns a rung."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
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
    """The active rungs, lowest first, and the rank of every rung (switched-off ones too).

    A rung switched off in the admin is skipped by new cases and escalations, but cases already sitting on
    it keep their place in the order: they move *up* from it to the next active rung (by hand or by the
    sweep), never down, and are never forgotten by the sweep.
    """

    rungs: tuple[Rung, ...]  # active rungs, lowest first
    ranks: dict[str, int] = field(default_factory=dict)  # every rung's rank, active or not

    def rank(self, level: str) -> int:
        """Rank of a level; the blank "not located yet" level is below every rung."""
        if level in self.ranks:
            return self.ranks[level]
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

    def steps(self) -> dict[str, str]:
        """Every rung a case may sit on (switched-off ones included) → the active rung it escalates to."""
        codes = set(self.ranks) | {rung.code for rung in self.rungs}
        return {code: nxt for code in codes if (nxt := self.next(code)) is not None}


def ladder_from_rows(rows: Iterable[tuple[str, str, int, bool]]) -> Ladder:
    """The ladder from (code, name, rank, is_active) rows in any order."""
    ordered = sorted(rows, key=lambda row: row[2])
    return Ladder(
        rungs=tuple(Rung(code, name, rank) for code, name, rank, active in ordered if active),
        ranks={code: rank for code, _, rank, _ in ordered},
    )


def ladder_load() -> Ladder:
    return ladder_from_rows(EscalationLevel.objects.values_list("code", "name", "rank", "is_active"))


@lru_cache(maxsize=65536)  # pure, and called per case by the sweep's notifications
def level_region_path(region_path: str, level: str) -> str:
    """The path of the region owning ``level`` for a case at ``region_path``; blank level → the district."""
    depth = LEVEL_DEPTH.get(level, 1)
    parts = [p for p in region_path.split("/") if p]
    return "/" + "/".join(parts[:depth]) + "/" if parts else ""
