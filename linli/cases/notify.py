"""Who hears about what in the closed loop. The only module that calls ``linli.notifications``.

Messages are written inside the transition's transaction (outbox, REL-2) and are idempotent by a dedup key
naming the event, so a retried request or a re-run sweep sends nothing twice (REL-5). The reporter is told
at each public step (in-app, plus SMS on the steps that matter: accepted for handling, resolved, rejected,
escalated by the sweep, closed by the sweep); an anonymous reporter, who has no inbox, by SMS to their
contact mobile at every public step. The
sweep tells reporters a batch at a time (``cases_notify_reporters``) and staff one summary each
(``cases_notify_bulk``). SMS texts carry the case number only, no content.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from linli.accounts.models import Membership, User
from linli.accounts.roles import ROLE_CAPABILITIES, Capability
from linli.accounts.services import AccountError, phone_normalize
from linli.cases.contact import caller_phones_reveal, contact_phone_reveal, contact_phones_reveal
from linli.cases.ladder import level_region_path
from linli.cases.models import Case, CaseFollower
from linli.notifications.outbox import TaskInTransaction

if TYPE_CHECKING:
    from linli.cases.transitions import TransitionResult


@dataclass(frozen=True)
class Rule:
    reporter: bool = False
    reporter_sms: bool = False
    handler: bool = False
    handler_sms: bool = False
    dispatchers: bool = False
    followers: bool = False
    title: str = ""
    reporter_title: str = ""  # what the reporter reads, where it differs from the staff's title
    caller: str = ""  # the outcome told by SMS to callers following the case (services.callers); "" none


RULES: dict[str, Rule] = {
    "submit": Rule(reporter=True, reporter_sms=True, dispatchers=True, title="诉求已受理"),
    "assign": Rule(handler=True, handler_sms=True, reporter=True, title="有新的交办工单"),
    "reassign": Rule(handler=True, handler_sms=True, title="有转派给您的工单"),
    # Reopen/review/rate are the reporter's own steps, or staff recording the reporter's answer on the
    # phone (回访): then the reporter is told what was recorded (the actor is never told of their own step).
    "reopen": Rule(
        handler=True,
        dispatchers=True,
        reporter=True,
        title="群众不满意,工单需重办",
        reporter_title="您的不满意评价已记录,诉求将重新办理",
    ),
    "rate": Rule(reporter=True, title="您的评价已记录,工单已结案"),
    "accept": Rule(reporter=True, title="您的诉求已开始办理"),
    "return": Rule(dispatchers=True, title="工单被退回,请重新交办"),
    "resolve": Rule(
        reporter=True, reporter_sms=True, followers=True, caller="已办结", title="您的诉求已办结,请评价"
    ),
    "answer": Rule(
        reporter=True, reporter_sms=True, followers=True, caller="已答复", title="您的诉求已答复,请评价"
    ),
    "reject": Rule(reporter=True, reporter_sms=True, title="您的诉求不属于受理范围"),
    "merge": Rule(reporter=True, title="您的诉求已与相同问题合并办理"),
    "escalate": Rule(reporter=True, dispatchers=True, title="工单已提请上级办理"),
    "supervise": Rule(handler=True, handler_sms=True, dispatchers=True, title="工单被督办"),
    "send_to_review": Rule(
        dispatchers=True,
        reporter=True,
        title="工单转入评议",
        reporter_title="您的不满意评价已记录,工单已转入评议",
    ),
    "review_uphold": Rule(
        reporter=True, followers=True, caller="经评议认定已办结", title="评议结果:认定已办结"
    ),
    "review_redo": Rule(dispatchers=True, reporter=True, title="评议结果:重新交办"),
    "close_unresolved": Rule(
        reporter=True, followers=True, caller="未能解决,已结案", title="工单未能解决,已结案"
    ),
    # The sweep's public steps (sent in bulk by ``cases_notify_reporters``): the reporter hears of both.
    "escalate_timed": Rule(reporter=True, reporter_sms=True, title="已超时升级至上级办理"),
    "auto_close": Rule(reporter=True, reporter_sms=True, title="已自动结案(逾期未评价)"),
    # A unit's system posted a progress update through Open311 (servicerequestupdates).
    "external_update": Rule(reporter=True, title="您的诉求有新的办理进展"),
}


def case_link(case: Case) -> str:
    return f"/cases/{case.pk}/"


def reporter_sms_text(number: str, title: str) -> str:
    return f"【邻里】您的诉求(编号{number}){title}。"


def caller_sms_text(number: str, outcome: str) -> str:
    return f"【邻里】您来电反映的问题(工单编号{number}){outcome}。"


def _roles_with(capability: str) -> list[str]:
    return [role for role, caps in ROLE_CAPABILITIES.items() if capability in caps]


def dispatchers_at(region_paths: Iterable[str]) -> dict[str, list[User]]:
    """Active users holding cases.triage anchored exactly at each region path (the level's dispatchers)."""
    paths = sorted(set(region_paths))
    out: dict[str, list[User]] = {p: [] for p in paths}
    if not paths:
        return out
    rows = Membership.objects.filter(
        is_active=True,
        user__is_active=True,
        role__in=_roles_with(Capability.CASES_TRIAGE),
        region__path__in=paths,
    ).select_related("user", "region")
    for m in rows:
        if m.region is not None and m.user not in out[m.region.path]:
            out[m.region.path].append(m.user)
    return out


def handlers_of(
    *, assignee_ids: Iterable[int], unit_ids: Iterable[int]
) -> tuple[dict[int, User], dict[int, list[User]]]:
    """Assignees by id, and the handle-capable members of each unit."""
    assignees = {u.pk: u for u in User.objects.filter(pk__in=set(assignee_ids), is_active=True)}
    units: dict[int, list[User]] = {}
    for m in Membership.objects.filter(
        is_active=True,
        user__is_active=True,
        role__in=_roles_with(Capability.CASES_HANDLE),
        unit_id__in=set(unit_ids),
    ).select_related("user"):
        units.setdefault(m.unit_id or 0, []).append(m.user)
    return assignees, units


def _mobile(raw: str) -> str | None:
    try:
        return phone_normalize(raw)
    except AccountError:
        return None  # a landline: staff call back; an SMS cannot reach it


def _send(
    *,
    recipients: Sequence[User],
    kind: str,
    title: str,
    body: str,
    link: str,
    sms: str | None,
    key: str,
    phones: Sequence[str] = (),
) -> None:
    if not recipients and not (sms and phones):
        return
    from linli.notifications.services import notification_send

    notification_send(
        recipients=recipients,
        kind=kind,
        title=title,
        body=body,
        link=link,
        sms_text=sms,
        dedup_key=key,
        phones=phones,
    )


def case_notify(*, case: Case, action: str, event_id: int, actor: User | None) -> None:
    """Notify the people ``RULES[action]`` names about one event of one case (inside the transaction)."""
    rule = RULES.get(action)
    if rule is None:
        return
    key = f"case:{case.pk}:{action}:{event_id}"
    kind = f"case.{action}"
    title = rule.title
    body = f"工单 {case.number}:{case.title}"
    link = case_link(case)
    skip = {actor.pk} if actor is not None else set()
    if rule.reporter:
        reporter_title = rule.reporter_title or title
        # An anonymous reporter has no inbox: the contact mobile hears of every public step by SMS.
        anonymous = case.reporter_id is None
        sms = reporter_sms_text(case.number, reporter_title) if rule.reporter_sms or anonymous else None
        users = [case.reporter] if case.reporter is not None and case.reporter_id not in skip else []
        phones: list[str] = []
        if anonymous and sms:
            mobile = _mobile(contact_phone_reveal(case))
            phones = [mobile] if mobile else []
        _send(
            recipients=users,
            kind=kind,
            title=reporter_title,
            body=body,
            link=link,
            sms=sms,
            key=f"{key}:r",
            phones=phones,
        )
    if rule.handler and (case.assignee_id or case.unit_id):
        assignees, units = handlers_of(
            assignee_ids=[case.assignee_id] if case.assignee_id else [],
            unit_ids=[case.unit_id] if case.unit_id else [],
        )
        handler_users = (
            [assignees[case.assignee_id]]
            if case.assignee_id in assignees
            else units.get(case.unit_id or 0, [])
        )
        handler_users = [u for u in handler_users if u.pk not in skip]
        sms = f"【邻里】工单{case.number}:{title},请及时处理。" if rule.handler_sms else None
        _send(recipients=handler_users, kind=kind, title=title, body=body, link=link, sms=sms, key=f"{key}:h")
    elif rule.handler:
        # Nobody handles it yet (e.g. 督办 before assignment): the level's dispatchers hear instead.
        rule = Rule(dispatchers=True, title=rule.title)
    if rule.dispatchers:
        path = level_region_path(case.region_path, case.level)
        users = [u for u in dispatchers_at([path]).get(path, []) if u.pk not in skip]
        _send(recipients=users, kind=kind, title=title, body=body, link=link, sms=None, key=f"{key}:d")
    if rule.followers:
        followers = [f.user for f in CaseFollower.objects.filter(case=case).select_related("user")]
        _send(recipients=followers, kind=kind, title=title, body=body, link=link, sms=None, key=f"{key}:f")
    if rule.caller:
        phones = caller_phones_reveal([case.pk]).get(case.pk, [])
        sms = caller_sms_text(case.number, rule.caller)
        _send(
            recipients=[],
            kind=kind,
            title=title,
            body=body,
            link=link,
            sms=sms,
            key=f"{key}:c",
            phones=phones,
        )


def case_caller_confirm(*, case: Case, phone: str, event_id: int) -> None:
    """The SMS a caller gets when made to follow a case at 代客 (``services.callers``): the number they were
    told, and that the outcome will follow (inside the step's transaction; once per event)."""
    _send(
        recipients=[],
        kind="case.caller_follow",
        title="来电人关注",
        body=f"工单 {case.number}",
        link=case_link(case),
        sms=caller_sms_text(case.number, "正在办理,办结后将短信告知您"),
        key=f"case:{case.pk}:caller_follow:{event_id}",
        phones=[phone],
    )


def case_submitted_task() -> TaskInTransaction:
    """The task that tells of a new case (``case_notify_submitted``): made before the submitting
    transaction, ``.enqueue(case_id, event_id)`` inside it.

    A submission writes its case, its event and this one task row (QUALITY REL-2: all or none); the
    messages themselves — the reporter's 受理 notice (in-app, SMS) and the level's dispatchers' — are
    written by the worker moments later. Resolving the recipients and writing a row per message in the
    resident's request cost more than the case itself (and held the day's number lock meanwhile).
    """
    from linli.cases.tasks import case_submitted_notify

    return TaskInTransaction(case_submitted_notify)


def case_notify_submitted(*, case_id: int, event_id: int) -> bool:
    """The worker's half of a submission: ``case_notify(action="submit")`` for the case's submit event.

    Idempotent by the dedup keys naming the event (REL-5): a task re-run after a crash sends nothing
    twice. False when the case is gone (nothing to tell).
    """
    case = Case.objects.select_related("reporter").filter(pk=case_id).first()
    if case is None:
        return False
    with transaction.atomic():
        case_notify(case=case, action="submit", event_id=event_id, actor=None)
    return True


def case_event_notify(result: TransitionResult) -> None:
    actor = result.event.actor
    case_notify(case=result.case, action=result.transition.action, event_id=result.event.pk, actor=actor)


@dataclass(frozen=True)
class SweptCase:
    """What a sweep summary needs of one case (plain data: building model instances costs time at 10 k)."""

    number: str
    level_path: str
    unit_id: int | None
    assignee_id: int | None


def cases_notify_bulk(
    *, action: str, title: str, cases: Sequence[SweptCase], to_dispatchers: bool, batch_key: str
) -> None:
    """One summary per handler (assignee, else the unit's handlers) and, for cases nobody handles or when
    ``to_dispatchers``, one per dispatcher region: a sweep batch costs a few queries, not one per case."""
    link = "/cases/"
    kind = f"case.{action}"
    handled = [c for c in cases if c.assignee_id or c.unit_id]
    groups: dict[str, list[SweptCase]] = {}
    for c in cases:
        if to_dispatchers or not (c.assignee_id or c.unit_id):
            groups.setdefault(c.level_path, []).append(c)
    for path, users in dispatchers_at(groups.keys()).items():
        listed = groups[path]
        if users and listed:
            body = f"{len(listed)} 件工单:" + "、".join(c.number for c in listed[:20])
            _send(
                recipients=users,
                kind=kind,
                title=title,
                body=body,
                link=link,
                sms=None,
                key=f"sweep:{action}:{batch_key}:{path}",
            )
    if not handled:
        return
    assignees, units = handlers_of(
        assignee_ids=[c.assignee_id for c in handled if c.assignee_id],
        unit_ids=[c.unit_id for c in handled if c.unit_id and not c.assignee_id],
    )
    per_user: dict[int, tuple[User, list[SweptCase]]] = {}
    for c in handled:
        users = [assignees[c.assignee_id]] if c.assignee_id in assignees else units.get(c.unit_id or 0, [])
        for u in users:
            per_user.setdefault(u.pk, (u, []))[1].append(c)
    for user, listed in per_user.values():
        _send(
            recipients=[user],
            kind=kind,
            title=title,
            body=f"{len(listed)} 件工单:" + "、".join(c.number for c in listed[:20]),
            link=link,
            sms=f"【邻里】您有{len(listed)}件工单{title},请及时处理。",
            key=f"sweep:{action}:{batch_key}:u{user.pk}",
        )


@dataclass(frozen=True)
class ReporterNote:
    """What telling one reporter about one swept case needs (plain data, like ``SweptCase``)."""

    case_id: int
    number: str
    reporter_id: int | None
    event_key: str  # names the event within the case (e.g. the deadline that passed): the dedup key
    body: str


def cases_notify_reporters(*, action: str, notes: Sequence[ReporterNote]) -> None:
    """Tell each reporter about their own case, as ``RULES[action]`` says, for a whole sweep batch at once.

    In-app for a reporter with an account (and an SMS to their phone if the rule says so); an anonymous
    reporter (hotline, Open311) by SMS to the case's contact phone when it is a mobile. The dedup key names
    the case, the action and the event, so a re-run sweep sends nothing twice (REL-5).
    """
    rule = RULES[action]
    if not rule.reporter or not notes:
        return
    from linli.notifications.services import Outgoing, notification_send_many

    phones = (
        contact_phones_reveal(n.case_id for n in notes if n.reporter_id is None) if rule.reporter_sms else {}
    )
    items: list[Outgoing] = []
    for n in notes:
        sms = reporter_sms_text(n.number, rule.title) if rule.reporter_sms else None
        mobile = _mobile(phones[n.case_id]) if n.reporter_id is None and n.case_id in phones else None
        if n.reporter_id is None and mobile is None:
            continue  # nobody to reach: no account, no mobile
        items.append(
            Outgoing(
                dedup_key=f"case:{n.case_id}:{action}:{n.event_key}:r",
                body=n.body,
                link=f"/cases/{n.case_id}/",
                user_id=n.reporter_id,
                phone=mobile or "",
                sms_text=sms,
            )
        )
    notification_send_many(kind=f"case.{action}", title=rule.title, items=items)
