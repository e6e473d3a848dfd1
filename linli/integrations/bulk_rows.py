"""The rows of the bulk path (``linli.integrations.bulk``): what a batch of cases needs without a query.

``Preparer`` turns ``BulkCase`` items into the values the cases and events tables receive, computed as
``case_submit`` computes them (entry rung, unit by ``Router``, deadlines from each case's own time,
masked phone, public flag), and for ``COPY`` the phone encrypted and blind-indexed. Everything it reads
from the database it reads when built, in the importing thread; calling it queries nothing, so the
PostgreSQL path runs it in a helper thread (``linli.integrations.pgcopy``). Numbers and ids are given
when a batch is stored.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from linli.cases.contact import phone_mask
from linli.cases.ladder import ladder_load
from linli.cases.models import STATUS_INFO, CaseKind, Category, RoutingRule, Status
from linli.cases.numbering import NUMBER_DIGITS, case_number_prefix
from linli.cases.routing import best_route, category_ancestry
from linli.cases.services.submit import PUBLIC_BY_DEFAULT
from linli.cases.sla import deadlines_compute_many, policy_book_load
from linli.workdays.rules import work_calendar

if TYPE_CHECKING:
    from linli.integrations.bulk import BulkCase


class Router:
    """``route_unit`` for many cases: the rules and the category tree loaded once, then pure Python.

    The scoring is ``linli.cases.routing.best_route``, as for ``route_unit``.
    """

    def __init__(self) -> None:
        self.parents = dict(Category.objects.values_list("id", "parent_id"))
        self.rules = list(
            RoutingRule.objects.filter(is_active=True, unit__is_active=True).values_list(
                "unit_id", "region__path", "category_id"
            )
        )
        self._cache: dict[tuple[int | None, str], int | None] = {}

    def unit(self, category_id: int | None, region_path: str) -> int | None:
        key = (category_id, region_path)
        if key in self._cache:
            return self._cache[key]
        chain = category_ancestry(self.parents, category_id)
        self._cache[key] = best_route(self.rules, chain=chain, region_path=region_path)
        return self._cache[key]


def case_numbers(days: Sequence[date], first: dict[date, int]) -> list[str]:
    """The case numbers for cases on ``days`` (in that order), from each day's reserved block."""
    nxt = dict(first)
    prefix = {day: case_number_prefix(day) for day in first}
    out: list[str] = []
    for day in days:
        v = nxt[day]
        nxt[day] = v + 1
        out.append(f"{prefix[day]}{v:0{NUMBER_DIGITS}d}")
    return out


# The case columns the bulk path sets, in the order of the rows it builds; every other column gets the
# model's default (``_case_tail``). ``contact_phone`` is plaintext here; each writer stores it encrypted.
CASE_SET = (
    "number",
    "kind",
    "category_id",
    "channel",
    "title",
    "text",
    "contact_name",
    "contact_phone",
    "contact_phone_masked",
    "lat",
    "lng",
    "address",
    "grid_id",
    "estate_id",
    "community_id",
    "street_id",
    "district_id",
    "region_path",
    "unit_id",
    "assignee_id",
    "status",
    "status_category",
    "level",
    "resolved_level",
    "escalation_count",
    "level_started_at",
    "triage_due_at",
    "triage_warn_at",
    "resolve_due_at",
    "warn_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "result_text",
    "rating",
    "rated_at",
    "is_public",
    "external_id",
    "created_at",
)

EVENT_COLUMNS = (
    "case_id",
    "actor_role",
    "action",
    "from_status",
    "to_status",
    "from_level",
    "to_level",
    "note",
    "data",
    "is_public",
    "created_at",
)


def _json(data: dict[str, Any], cache: dict[tuple[Any, ...], str]) -> str:
    """``data`` as the JSON text ``JSONField`` stores; the many equal small dicts are encoded once. The
    key keeps the items' order and each value's type (``True == 1`` but they encode differently)."""
    if not data:
        return "{}"
    try:
        key = tuple((k, type(v), v) for k, v in data.items())
        text = cache.get(key)
    except TypeError:  # an unhashable value (a list): encode it as it is
        return json.dumps(data, ensure_ascii=False)
    if text is None:
        text = cache[key] = json.dumps(data, ensure_ascii=False)
    return text


@dataclass
class PreparedBatch:
    """A batch ready to store. ``rows``: per case the values of ``CASE_SET`` after ``number`` (which is
    given when the batch is stored); sealed, the phone is its ciphertext and the row ends with its blind
    index and the model's defaults for the other columns (the COPY row after id and number).
    ``events``: per case its event rows, ``EVENT_COLUMNS`` after ``case_id``."""

    items: Sequence[BulkCase]
    rows: list[tuple[Any, ...]]
    days: list[date]
    events: list[list[tuple[Any, ...]]]


class Preparer:
    """What a batch needs without a query: the entry rung, the unit (``Router``), the deadlines, the row
    values and event rows, computed as ``case_submit`` computes them; sealed, also the phone encrypted
    and blind-indexed. Everything read from the database is read here, in the caller's thread."""

    def __init__(self, *, sealed: bool) -> None:
        self.ladder = ladder_load()
        self.book = policy_book_load()
        self.router = Router()
        self.tz = timezone.get_default_timezone()
        work_calendar()  # the deadlines' calendar, read now by this thread's connection
        self.entry_terms: dict[tuple[str, int | None, bool, bool], tuple[str, Any]] = {}
        self.masks: dict[str, str] = {}
        self.encoded: dict[tuple[Any, ...], str] = {}
        self.submit_data: dict[tuple[str, int | None, bool], str] = {}
        self.seal: Callable[[Sequence[str]], list[tuple[str, str]]] | None = None
        self.tail: tuple[Any, ...] = ()
        if sealed:
            from linli.integrations.pgcopy import PhoneSealer, case_tail

            self.seal = PhoneSealer()
            self.tail = case_tail(timezone.now())[1]

    def _entry(self, it: BulkCase) -> tuple[str, Any]:
        """The entry rung and the policy terms, per distinct (kind, category, has estate, has community)."""
        p = it.place
        key = (it.kind, it.category_id, p.estate_id is not None, p.community_id is not None)
        got = self.entry_terms.get(key)
        if got is None:
            level = self.ladder.entry(has_estate=key[2], has_community=key[3])
            terms = self.book.terms(kind=it.kind, category_id=it.category_id, level=level or "community")
            got = self.entry_terms[key] = (level, terms)
        return got

    def __call__(self, items: Sequence[BulkCase]) -> PreparedBatch:
        entries = [self._entry(it) for it in items]
        due = deadlines_compute_many([it.created_at for it in items], [e[1] for e in entries])
        tz, tail, masks = self.tz, self.tail, self.masks
        sealed = self.seal([it.contact_phone for it in items]) if self.seal else None
        rows: list[tuple[Any, ...]] = []
        events: list[list[tuple[Any, ...]]] = []
        for k, (it, (entry, _terms), d) in enumerate(zip(items, entries, due, strict=True)):
            p = it.place
            unit_id = (
                it.unit_id if it.unit_id is not None else self.router.unit(it.category_id, p.region_path)
            )
            status = it.status or Status.SUBMITTED
            info = STATUS_INFO[status]
            level = entry if it.level is None else it.level
            text = it.text.strip()
            phone = it.contact_phone
            masked = masks.get(phone)
            if masked is None:
                masked = phone_mask(phone)
                if len(masks) < 10_000:
                    masks[phone] = masked
            head = (
                it.kind,
                it.category_id,
                it.channel,
                (it.title.strip() or text.splitlines()[0])[:100],
                text,
                it.contact_name[:50],
            )
            body = (
                masked,
                it.lat,
                it.lng,
                it.address[:200],
                p.grid_id,
                p.estate_id,
                p.community_id,
                p.street_id,
                p.district_id,
                p.region_path,
                unit_id,
                it.assignee_id,
                status,
                info.category,
                level,
                (level or "district") if info.solved else "",
                it.escalation_count,
                it.created_at,
                d.triage_due_at,
                d.triage_warn_at,
                d.resolve_due_at,
                d.warn_at,
                it.accepted_at,
                it.resolved_at,
                it.closed_at,
                it.result_text,
                it.rating,
                it.rated_at,
                it.kind in PUBLIC_BY_DEFAULT and it.kind != CaseKind.TIP_OFF,
                it.external_id[:64],
                it.created_at,
            )
            if sealed is None:
                rows.append((*head, phone, *body))
            else:
                stored, index = sealed[k]
                rows.append((*head, stored, *body, index, *tail))
            events.append(self._events(it, unit_id, entry, level))
        days = [it.created_at.astimezone(tz).date() for it in items]
        return PreparedBatch(items=items, rows=rows, days=days, events=events)

    def _events(self, it: BulkCase, unit_id: int | None, entry: str, level: str) -> list[tuple[Any, ...]]:
        """The ``submit`` row ``case_submit`` writes, then the history's later steps."""
        data = {"channel": it.channel, "unit_id": unit_id, "snapped": it.place.snapped}
        out: list[tuple[Any, ...]] = [
            (
                "system",
                "submit",
                "",
                Status.SUBMITTED,
                "",
                entry,
                "",
                _json(data, self.encoded),
                True,
                it.created_at,
            )
        ]
        for step in it.steps:
            out.append(
                (
                    "system",
                    step.action,
                    step.from_status,
                    step.to_status,
                    step.from_level or level,
                    step.to_level or level,
                    step.note,
                    _json(step.data, self.encoded),
                    step.is_public,
                    step.at,
                )
            )
        return out


def known_positions(batch: PreparedBatch, stored: Callable[[str, list[str]], set[str]]) -> list[int]:
    """The positions in ``batch`` of items not stored before; ``stored(channel, external_ids)`` says which
    of those external ids the database already holds for that channel."""
    wanted: dict[str, list[str]] = defaultdict(list)
    for it in batch.items:
        if it.external_id:
            wanted[it.channel].append(it.external_id[:64])
    found = {(channel, ext) for channel, exts in wanted.items() for ext in stored(channel, exts)}
    return [i for i, it in enumerate(batch.items) if (it.channel, it.external_id[:64]) not in found]
