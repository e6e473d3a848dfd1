"""Submission of a new case and "me too" (following an existing one).

Creation is the one write that does not go through ``case_transition`` (there is no row to lock yet); it
writes the first event itself. Everything slow or fallible (photo re-encoding, locating, routing, deadline
arithmetic) happens before the transaction opens, from the process's snapshots (no query); inside it only
the number, the case and event rows (hand-built INSERTs, ``linli.core.fastsql``) and one task row that
tells the reporter and the dispatchers (``case_submitted_task``). On PostgreSQL those four rows are one
statement in autocommit (``_write_in_one_statement``); on SQLite the transaction joins the process's group
commit (``linli.core.groupcommit``); with photos the rows are written one by one in a transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.cases.attachments import PreparedImage, attachment_ingest, images_prepare
from linli.cases.contact import contact_phone_set
from linli.cases.errors import CaseError
from linli.cases.location import case_location_resolve
from linli.cases.models import (
    CASE_KINDS,
    CHANNELS,
    RESIDENT_CHANNELS,
    STAFF_INTAKE_CHANNELS,
    STATUS_INFO,
    AttachmentKind,
    Case,
    CaseEvent,
    CaseFollower,
    CaseKind,
    LadderLevel,
    Status,
)
from linli.cases.notify import case_submitted_task
from linli.cases.numbering import (
    case_number_assign,
    case_number_next,
    case_number_parts,
    case_number_provisional,
)
from linli.cases.routing import route_unit
from linli.cases.rules_cache import case_rules
from linli.cases.sla import deadlines_compute
from linli.cases.transitions import case_transition
from linli.core import fastsql
from linli.core.fastsql import PreparedInsert, insert_prepare
from linli.core.groupcommit import group_commit

if TYPE_CHECKING:
    from linli.accounts.models import User
    from linli.core.tasks_backend import PreparedTaskRow

TEXT_MAX = 2000
_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{8,64}$")
# Kinds published (公示) by default once solved; tip-offs never (they protect the reporter).
PUBLIC_BY_DEFAULT = frozenset({CaseKind.COMPLAINT, CaseKind.SUGGESTION, CaseKind.INQUIRY, CaseKind.PRAISE})


@dataclass(frozen=True)
class SubmitResult:
    case: Case
    created: bool  # False: an earlier submission with the same idempotency key (or external id) is returned


def client_scope(*, channel: str, client_id: str) -> str:
    """The scope of a machine client's submissions (an Open311 API key, an import batch)."""
    return f"c:{channel}:{client_id}"[:80]


def _idempotency_scope(*, reporter: User | None, filed_by: User | None, channel: str, client_id: str) -> str:
    if reporter is not None:
        return f"u:{reporter.pk}"
    if filed_by is not None:
        return f"s:{filed_by.pk}"
    return client_scope(channel=channel, client_id=client_id)


def _existing(*, scope: str, key: str, channel: str, external_id: str, text: str) -> Case | None:
    """The earlier case this submission repeats, or None.

    A key already used for a *different* report is refused (422 ``idempotency_key_reused``, as the IETF
    Idempotency-Key draft asks) instead of silently answering the other case: a resident who went back and
    rewrote the form would otherwise lose the new text without a word. An external id (a 12345 work
    order) is the same work order whatever its text says now.
    """
    if key:
        found = Case.objects.filter(idempotency_scope=scope, idempotency_key=key).first()
        if found is not None:
            if found.text != (text or "").strip():
                raise CaseError(
                    "idempotency_key_reused",
                    f"这份表单已提交过(工单编号{found.number}),内容与本次不同;"
                    "如要反映另一个问题,请重新打开上报页面",
                    status=422,
                    details={"number": found.number},
                )
            return found
    if external_id:
        return Case.objects.filter(channel=channel, external_id=external_id).first()
    return None


def case_submit(
    *,
    text: str,
    channel: str,
    reporter: User | None = None,
    filed_by: User | None = None,
    kind: str | None = None,
    category_id: int | None = None,
    title: str = "",
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    building_id: int | None = None,
    community_id: int | None = None,
    district_id: int | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    photos: Sequence[bytes | PreparedImage] = (),
    is_public: bool | None = None,
    idempotency_key: str = "",
    client_id: str = "",
    external_id: str = "",
    now: datetime | None = None,
) -> SubmitResult:
    """File a case. Retries with the same ``idempotency_key`` return the first case (REL-1).

    ``reporter``: the resident's account (None: anonymous, hotline, Open311). ``filed_by``: staff filing it
    for someone (代客, needs cases.intake). ``client_id`` scopes the key when neither is given (an Open311
    API key, an import batch). ``now`` lets history imports keep the original submission time.
    """
    if channel not in CHANNELS:
        raise CaseError("invalid_channel", "来源渠道不正确")
    if idempotency_key and not _KEY.match(idempotency_key):
        raise CaseError("invalid_idempotency_key", "幂等键应为8–64位字母、数字或 _ . : -")
    scope = _idempotency_scope(reporter=reporter, filed_by=filed_by, channel=channel, client_id=client_id)
    # The unique keys, not a read, decide whether this is a retry (REL-1): a retry's INSERT fails and the
    # earlier case is answered (below), so a first submission pays no lookup. Photos are the exception:
    # re-encoding them only to find the case already filed would waste a retried upload's time.
    if photos:
        existing = _existing(
            scope=scope, key=idempotency_key, channel=channel, external_id=external_id, text=text
        )
        if existing is not None:
            return SubmitResult(case=existing, created=False)
    try:
        text = (text or "").strip()
        if not text:
            raise CaseError("text_required", "请描述您遇到的问题")
        if len(text) > TEXT_MAX:
            raise CaseError("text_too_long", f"问题描述不能超过{TEXT_MAX}字")
        if channel in STAFF_INTAKE_CHANNELS and (
            filed_by is None or not user_has_capability(filed_by, Capability.CASES_INTAKE)
        ):
            raise CaseError("intake_not_allowed", "只有窗口、网格等工作人员可以代为登记", status=403)
        if channel in RESIDENT_CHANNELS and reporter is None and not contact_phone.strip():
            raise CaseError("contact_required", "匿名反映请留下联系电话,以便告知办理结果")
        rules = case_rules()  # categories, routing, policies, ladder: the process's snapshot, no query
        category = None
        if category_id is not None:
            category = rules.categories.get(category_id)
            if category is None:
                raise CaseError("unknown_category", "分类不存在或已停用")
        kind = kind or (category.default_kind if category else CaseKind.COMPLAINT)
        if kind not in CASE_KINDS:
            raise CaseError("invalid_kind", "诉求类型不正确")
        prepared = images_prepare(photos)

        place = case_location_resolve(
            lat=lat, lng=lng, building_id=building_id, community_id=community_id, district_id=district_id
        )
        level = rules.ladder.entry(
            has_estate=place.estate_id is not None, has_community=place.community_id is not None
        )
        unit_id = route_unit(category_id=category_id, region_path=place.region_path)
        now = now or timezone.now()
        # An unlocated case gets the community's terms: it will be placed in one at triage.
        terms = rules.book.terms(kind=kind, category_id=category_id, level=level or LadderLevel.COMMUNITY)
        due = deadlines_compute(start=now, terms=terms)
        public = (
            (kind in PUBLIC_BY_DEFAULT) if is_public is None else (is_public and kind != CaseKind.TIP_OFF)
        )

        case = Case(
            kind=kind,
            category=category,
            channel=channel,
            title=(title.strip() or text.splitlines()[0])[:100],
            text=text,
            reporter=reporter,
            filed_by=filed_by,
            contact_name=contact_name.strip()[:50],
            address=address.strip()[:200],
            unit_id=unit_id,
            status=Status.SUBMITTED,
            status_category=STATUS_INFO[Status.SUBMITTED].category,
            level=level,
            level_started_at=now,
            triage_due_at=due.triage_due_at,
            triage_warn_at=due.triage_warn_at,
            resolve_due_at=due.resolve_due_at,
            warn_at=due.warn_at,
            is_public=public,
            # Stored with or without a key: it also records which client filed the case (Open311 updates).
            idempotency_scope=scope,
            idempotency_key=idempotency_key,
            external_id=external_id[:64],
            created_at=now,
            **place.fields(),
        )
        contact_phone_set(case, contact_phone)
        # The day's counter row is every submission's lock: taken last where the database allows (on
        # PostgreSQL the number is written by the last statement), and the case's INSERT is prepared
        # before the transaction, so the writer holds the lock for executing statements only.
        late_number = connection.vendor == "postgresql"
        if late_number:
            case.number = case_number_provisional()
        row = insert_prepare(case)
        event = CaseEvent(
            case=case,  # its id is set once the case row is in
            actor=reporter or filed_by,
            actor_role=("reporter" if reporter is not None else "intake" if filed_by else "system"),
            action="submit",
            from_status="",
            to_status=case.status,
            from_level="",
            to_level=case.level,
            data={"channel": channel, "unit_id": unit_id, "snapped": place.snapped},
            is_public=True,
            created_at=now,
        )
        event_row = insert_prepare(event)
        notice = case_submitted_task()
    except CaseError:
        # A retry of an earlier submission gets that case even if its body no longer passes (a category
        # since deactivated, a point since outside the grids): it was accepted once.
        earlier = (
            _existing(scope=scope, key=idempotency_key, channel=channel, external_id=external_id, text=text)
            if idempotency_key or external_id
            else None
        )
        if earlier is None:
            raise
        return SubmitResult(case=earlier, created=False)

    def write() -> None:
        if not late_number:
            row.set("number", case_number_next(at=now))
        row.execute()
        event_row.set("case_id", case.pk)
        event_row.execute()
        uploader = reporter or filed_by
        for image in prepared:
            attachment_ingest(
                case=case,
                upload=image,
                kind=AttachmentKind.REPORT,
                uploaded_by_id=uploader.pk if uploader is not None else None,
                event=event,
            )
        notice.enqueue(case.pk, event.pk)
        if late_number:
            case.number = case_number_assign(case_id=case.pk, at=now)

    try:
        if prepared:  # photos: stored files and their rows, in this thread's own transaction
            with transaction.atomic():
                write()
        elif late_number and notice.row is not None:
            # PostgreSQL: the four rows in one statement (one round trip; autocommit: its own COMMIT).
            if connection.in_atomic_block:
                with transaction.atomic():  # a savepoint: a duplicate key must not break the caller's
                    _write_in_one_statement(row, event_row, notice.row, at=now)
            else:
                _write_in_one_statement(row, event_row, notice.row, at=now)
        else:  # statements only: may share a COMMIT with concurrent submissions (linli.core.groupcommit)
            group_commit().run(write)
    except IntegrityError:
        # A concurrent identical submission won the unique key; theirs is the case (REL-1).
        again = _existing(
            scope=scope, key=idempotency_key, channel=channel, external_id=external_id, text=text
        )
        if again is None:
            raise
        return SubmitResult(case=again, created=False)
    notice.announce()
    return SubmitResult(case=case, created=True)


# The task's arguments as the queue stores them ({"args": [case_id, event_id], "kwargs": {}}), from the ids
# the statement's own rows get.
_NOTICE_ARGS_SQL = (
    "(SELECT jsonb_build_object('args', jsonb_build_array(c.id, e.id), 'kwargs', '{}'::jsonb) FROM c, e)"
)


def _write_in_one_statement(
    case_row: PreparedInsert, event_row: PreparedInsert, task_row: PreparedTaskRow, *, at: datetime
) -> None:
    """PostgreSQL: the day's number, the case, its event and the notice's task row in one statement of
    data-modifying CTEs. Each row's values are those prepared for it; the number, the event's case id and
    the task's arguments are computed by the database from the rows before them. All or nothing: a
    duplicate idempotency key fails the statement (and the counter's increment with it)."""
    counter, counter_params, number, number_params = case_number_parts(at=at)
    case_sql, case_params = case_row.values_sql({"number": (number, number_params)})
    event_sql, event_params = event_row.values_sql({"case_id": ("(SELECT id FROM c)", [])})
    task_sql, task_params = task_row.values_sql(_NOTICE_ARGS_SQL, [])
    sql = (
        f"WITH {counter}, c AS ({case_sql} RETURNING id, number), e AS ({event_sql} RETURNING id), "  # noqa: S608 - names from model meta, values as parameters
        f"t AS ({task_sql} RETURNING 1) SELECT c.id, c.number, e.id FROM c, e, t"
    )
    row, _ = fastsql.execute(sql, [*counter_params, *case_params, *event_params, *task_params], fetchone=True)
    case_id, case_number, event_id = row
    case_row.done(case_id, number=case_number)
    event_row.done(event_id, case_id=case_id)
    task_row.written([case_id, event_id], {})


@dataclass(frozen=True)
class FollowResult:
    case: Case
    created: bool  # False: already following


class _AlreadyFollowing(Exception):
    pass


def case_follow(*, case_id: int, user: User) -> FollowResult:
    """ "Me too": follow a public open case instead of filing the same problem again."""
    try:
        with transaction.atomic():
            result = case_transition(
                case_id=case_id,
                action="follow",
                actor=user,
                effect=lambda c: {"follower_count": c.follower_count + 1},
            )
            try:
                with transaction.atomic():
                    CaseFollower.objects.create(case_id=case_id, user=user)
            except IntegrityError as exc:
                raise _AlreadyFollowing from exc
    except _AlreadyFollowing:
        return FollowResult(case=Case.objects.get(pk=case_id), created=False)
    return FollowResult(case=result.case, created=True)
