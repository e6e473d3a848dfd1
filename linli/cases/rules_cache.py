"""The case rules held in process: active categories and their tree, routing rules, the SLA policy book, the ladder.

Submission reads all of them for every case; they change a few times a year through the admin. Each
process keeps one snapshot and re-reads a version stamp at most every ``LINLI_CASE_RULES_RECHECK_SECONDS``
(default 2), rebuilding only when the stamp moved (``linli.core.snapshot``) — the pattern of ``linli.places.locator`` and
``linli.workdays.rules``. The stamp is computed from the tables themselves (row count, highest id and latest
``updated_at`` of categories, policies, routing rules, units and the regions the rules name; the few ladder
rows in full), so every write path moves it — admin, services, data migrations, a shell — without each one
having to remember to bump a counter. (A ``QuerySet.update()`` does not touch ``updated_at``: callers that
change rules that way must call ``case_rules_invalidate()`` in this process and accept the re-check delay
elsewhere; nothing in the code base does.)

Within the process a change is seen at once: saving or deleting any of these models drops the snapshot
(the receivers below), and a snapshot built inside a transaction that later rolled back is dropped too
(the same on_commit bookkeeping as ``locator_geometry_changed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models.signals import post_delete, post_save

from linli.cases.ladder import Ladder, ladder_from_rows
from linli.cases.models import Category, EscalationLevel, RoutingRule, SlaPolicy
from linli.cases.routing import category_ancestry
from linli.cases.sla import PolicyBook, policy_rows_load
from linli.core.snapshot import TransactionWatch, VersionedSnapshot


class Route(NamedTuple):
    """One active routing rule whose unit is active: ``region_path`` None = the whole jurisdiction."""

    unit_id: int
    region_path: str | None
    category_id: int | None


@dataclass(frozen=True)
class CaseRules:
    version: str
    categories: dict[int, Category]  # the active ones (instances shared read-only between threads)
    parents: dict[int, int | None]  # every category, active or not: the tree
    routes: tuple[Route, ...]
    book: PolicyBook
    ladder: Ladder
    unit_names: dict[int, str]  # every unit, for the names in a submission's answer

    def category_chain(self, category_id: int | None) -> list[int]:
        """The category and its ancestors, nearest first."""
        return category_ancestry(self.parents, category_id)


def _recheck_seconds() -> float:
    return float(getattr(settings, "LINLI_CASE_RULES_RECHECK_SECONDS", 2))


def _current_version() -> str:
    """One round trip for the tables with ``updated_at``, one for the ladder's few rows."""
    from linli.accounts.models import Unit
    from linli.places.models import Region

    def agg(table: str) -> str:
        return f"(SELECT COUNT(*) FROM {table}), (SELECT MAX(id) FROM {table}), (SELECT MAX(updated_at) FROM {table})"  # noqa: S608 - table names from model meta

    rules = RoutingRule._meta.db_table
    regions = Region._meta.db_table
    tables = [Category._meta.db_table, SlaPolicy._meta.db_table, rules, Unit._meta.db_table]
    # Routing compares region paths: a rule's region moved in the tree must move the stamp too.
    moved = f"(SELECT MAX(updated_at) FROM {regions} WHERE id IN (SELECT region_id FROM {rules}))"  # noqa: S608 - table names from model meta
    sql = "SELECT " + ", ".join([*(agg(t) for t in tables), moved])
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    ladder = EscalationLevel.objects.order_by("id").values_list("id", "code", "name", "rank", "is_active")
    return "|".join(str(value) for value in row) + "|" + repr(list(ladder))


def _build(version: str) -> CaseRules:
    from linli.accounts.models import Unit

    categories: dict[int, Category] = {}
    parents: dict[int, int | None] = {}
    for category in Category.objects.all():
        parents[category.pk] = category.parent_id
        if category.is_active:
            categories[category.pk] = category
    routes = tuple(
        Route(unit_id, path, category_id)
        for unit_id, path, category_id in RoutingRule.objects.filter(
            is_active=True, unit__is_active=True
        ).values_list("unit_id", "region__path", "category_id")
    )
    rungs = EscalationLevel.objects.values_list("code", "name", "rank", "is_active")
    return CaseRules(
        version=version,
        categories=categories,
        parents=parents,
        routes=routes,
        book=PolicyBook(policy_rows_load(), parents),
        ladder=ladder_from_rows(rungs),
        unit_names=dict(Unit.objects.values_list("id", "name")),
    )


_snapshot: VersionedSnapshot[CaseRules] = VersionedSnapshot(
    version=_current_version, build=_build, recheck=_recheck_seconds
)


def case_rules() -> CaseRules:
    """The current snapshot; re-reads the stamp at most every few seconds, rebuilds when it moved."""
    _watch.check()  # a change of this thread committed or rolled back since: re-read
    return _snapshot.get()


def case_rules_invalidate() -> None:
    """Drop the snapshot: the next call rebuilds it (this process changed the rules, or a test rolled back).

    Dropped rather than re-checked: a change and its rollback can leave the stamp where it was (same count,
    same latest time under a frozen test clock) while the snapshot holds the rolled-back rows."""
    _snapshot.drop()


_watch = TransactionWatch(case_rules_invalidate)


def case_rules_changed(using: str | None = None) -> None:
    """The rules changed in this process: drop the snapshot now, and again when the transaction ends
    (commit or rollback), so a snapshot built from an uncommitted change cannot outlive it."""
    _watch.changed(using)


def _changed(sender: type, **kwargs: Any) -> None:
    case_rules_changed(using=kwargs.get("using"))


def _connect() -> None:
    from linli.accounts.models import Unit

    for model in (Category, EscalationLevel, RoutingRule, SlaPolicy, Unit):
        post_save.connect(_changed, sender=model, dispatch_uid=f"case_rules_{model.__name__}_save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"case_rules_{model.__name__}_delete")


_connect()
