"""我是党员我报到: register with commitments, then confirm → activate (or reject / withdraw).

Each state change goes through ``checkin_transition`` (lock, table, event); the member is told in-app in
the same transaction (``notification_send`` with a dedup key naming the event).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from linli.notifications.services import notification_send
from linli.party.access import party_manages, party_views
from linli.party.errors import PartyError
from linli.party.models import (
    OPEN_STATUSES,
    CheckIn,
    CheckInEvent,
    CheckInStatus,
    Commitment,
    CommitmentKind,
    OrgKind,
    PartyMember,
    PartyOrg,
    Volunteer,
)
from linli.party.services.orgs import clean_name, clean_phone, community_get
from linli.party.services.volunteers import hours_amount, hours_credit
from linli.party.transitions import MANAGER, MEMBER, Applied, checkin_transition

if TYPE_CHECKING:
    from linli.accounts.models import User

MAX_COMMITMENTS = 5


def _commitments(items: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    cleaned = [(kind, (text or "").strip()) for kind, text in items if (text or "").strip()]
    if not cleaned:
        raise PartyError("commitment_required", "请至少填写一项承诺事项")
    if len(cleaned) > MAX_COMMITMENTS:
        raise PartyError("too_many_commitments", f"承诺事项最多{MAX_COMMITMENTS}项")
    for kind, text in cleaned:
        if kind not in CommitmentKind.values:
            raise PartyError("invalid_commitment_kind", "承诺事项类别不正确")
        if len(text) > 200:
            raise PartyError("commitment_too_long", "每项承诺不超过200字")
    return cleaned


def checkin_register(
    *,
    user: User,
    community_id: int,
    name: str,
    employer: str,
    employer_org: str = "",
    phone: str = "",
    skills: str = "",
    commitments: Sequence[tuple[str, str]],
) -> CheckIn:
    """An in-service member checks in to their home community. Their member record is created (or
    updated) from what they enter; the phone defaults to their account's."""
    if user is None or not user.is_authenticated:
        raise PartyError("not_authenticated", "请先登录", status=401)
    community = community_get(community_id)
    name = clean_name(name)
    employer = (employer or "").strip()
    if not employer:
        raise PartyError("employer_required", "在职党员报到请填写工作单位")
    phone = clean_phone(phone) or (user.phone or "")
    items = _commitments(commitments)
    now = timezone.now()
    try:
        with transaction.atomic():
            member = PartyMember.objects.select_for_update().filter(user=user).first()
            if member is None and phone:
                member = PartyMember.objects.select_for_update().filter(phone_index__matches=phone).first()
                if member is not None and member.user_id not in (None, user.pk):
                    raise PartyError("phone_taken", "该手机号已由他人登记为党员,请联系社区", status=409)
            if member is None:
                member = PartyMember(user=user)
            member.name = name
            member.phone = phone
            member.user = user
            member.community = community
            member.region_path = community.path
            member.is_in_service = True
            member.employer = employer[:100]
            member.employer_org = (employer_org or "").strip()[:100]
            member.save()
            check_in = CheckIn.objects.create(
                member=member,
                community=community,
                region_path=community.path,
                skills=(skills or "").strip()[:200],
                registered_at=now,
            )
            Commitment.objects.bulk_create(Commitment(check_in=check_in, kind=k, text=t) for k, t in items)
            CheckInEvent.objects.create(
                check_in=check_in, actor=user, action="register", from_status="", to_status=check_in.status
            )
    except IntegrityError as exc:
        open_one = CheckIn.objects.filter(
            member__user=user, community=community, status__in=OPEN_STATUSES
        ).first()
        raise PartyError(
            "already_checked_in",
            "您已向该社区报到,请勿重复报到",
            status=409,
            details={"check_in_id": open_one.pk if open_one else None},
        ) from exc
    return check_in


def _relation(actor: User, check_in_id: int) -> tuple[CheckIn, frozenset[str]]:
    check_in = CheckIn.objects.select_related("member").filter(pk=check_in_id).first()
    if check_in is None:
        raise PartyError("not_found", "报到记录不存在", status=404)
    relation = set()
    if check_in.member.user_id is not None and check_in.member.user_id == actor.pk:
        relation.add(MEMBER)
    if party_manages(actor, check_in.region_path):
        relation.add(MANAGER)
    if not relation and not party_views(actor, check_in.region_path):
        raise PartyError("not_found", "报到记录不存在", status=404)  # outside scope: as if absent (AC-1)
    return check_in, frozenset(relation)


_TELL = {
    "confirm": ("社区已确认您的报到", "社区已确认您的报到,欢迎参与社区服务。"),
    "reject": ("您的报到已被退回", "社区退回了您的报到,请查看说明。"),
    "activate": ("您已上岗服务", "您已编入社区服务岗位,服务时长将记入志愿服务台账。"),
}


def _tell_member(applied: Applied, action: str) -> None:
    if action not in _TELL:
        return
    member_user = applied.check_in.member.user
    if member_user is None:
        return
    title, body = _TELL[action]
    if applied.event.note:
        body = f"{body}说明:{applied.event.note}"
    notification_send(
        recipients=[member_user],
        kind=f"party.checkin.{action}",
        title=title,
        body=body,
        link="/party/checkin/",
        dedup_key=f"party:checkin:{applied.check_in.pk}:event:{applied.event.pk}",
    )


def _apply(
    *, check_in_id: int, action: str, actor: User, note: str = "", effect: Any = None, after: Any = None
) -> CheckIn:
    _, relation = _relation(actor, check_in_id)
    with transaction.atomic():
        applied = checkin_transition(
            check_in_id=check_in_id, action=action, actor=actor, relation=relation, note=note, effect=effect
        )
        if after is not None:
            after(applied.check_in)
        _tell_member(applied, action)
    return applied.check_in


def checkin_confirm(
    *, check_in_id: int, actor: User, assigned_org_id: int | None = None, note: str = ""
) -> CheckIn:
    """The community accepts the check-in and (optionally) assigns the member to a branch or group."""
    org: PartyOrg | None = None
    if assigned_org_id is not None:
        check_in, _ = _relation(actor, check_in_id)
        org = PartyOrg.objects.filter(
            pk=assigned_org_id,
            region_path__startswith=check_in.region_path,
            kind__in=[OrgKind.COMMITTEE, OrgKind.BRANCH, OrgKind.GROUP],
        ).first()
        if org is None:
            raise PartyError("invalid_org", "编入组织应为本社区的党委、小区党支部或楼栋党小组")

    def effect(c: CheckIn) -> dict[str, Any]:
        return {"confirmed_at": timezone.now(), "confirmed_by": actor, "assigned_org": org}

    def after(c: CheckIn) -> None:
        if org is not None:
            PartyMember.objects.filter(pk=c.member_id).update(org=org, updated_at=timezone.now())

    return _apply(
        check_in_id=check_in_id, action="confirm", actor=actor, note=note, effect=effect, after=after
    )


def checkin_reject(*, check_in_id: int, actor: User, note: str) -> CheckIn:
    return _apply(check_in_id=check_in_id, action="reject", actor=actor, note=note)


def volunteer_for_member(member: PartyMember) -> Volunteer:
    """The member's volunteer record (created on activation): their service hours are kept there."""
    existing = Volunteer.objects.filter(member=member).first()
    if existing is not None:
        return existing
    if member.user_id is not None:
        by_user = Volunteer.objects.filter(user_id=member.user_id).first()
        if by_user is not None:
            Volunteer.objects.filter(pk=by_user.pk, member__isnull=True).update(member=member)
            by_user.member = member
            return by_user
    return Volunteer.objects.create(
        name=member.name,
        phone=member.phone,
        community=member.community,
        region_path=member.community.path,
        user_id=member.user_id,
        member=member,
    )


def checkin_activate(*, check_in_id: int, actor: User, note: str = "") -> CheckIn:
    def effect(c: CheckIn) -> dict[str, Any]:
        return {"activated_at": timezone.now()}

    def after(c: CheckIn) -> None:
        volunteer_for_member(PartyMember.objects.select_related("community").get(pk=c.member_id))

    return _apply(
        check_in_id=check_in_id, action="activate", actor=actor, note=note, effect=effect, after=after
    )


def checkin_withdraw(*, check_in_id: int, actor: User, note: str = "") -> CheckIn:
    return _apply(check_in_id=check_in_id, action="withdraw", actor=actor, note=note)


def commitment_fulfil(
    *,
    commitment_id: int,
    actor: User,
    note: str,
    hours: Decimal | float | str | None = None,
    served_on: dt.date | None = None,
) -> Commitment:
    """Record 践诺 for one commitment of an active check-in (the community records it). With ``hours``
    the service is credited to the member's volunteer ledger in the same transaction (one ledger row per
    commitment, ``hours_credit``), verified by the recording manager."""
    commitment = Commitment.objects.select_related("check_in").filter(pk=commitment_id).first()
    if commitment is None:
        raise PartyError("not_found", "承诺事项不存在", status=404)
    _, relation = _relation(actor, commitment.check_in_id)
    if MANAGER not in relation:
        raise PartyError("not_allowed", "由社区记录践诺情况", status=403)
    note = (note or "").strip()
    if not note:
        raise PartyError("note_required", "请填写践诺情况")
    amount = None if hours is None or hours == "" else hours_amount(hours)
    with transaction.atomic():
        locked = Commitment.objects.select_for_update().select_related("check_in").get(pk=commitment_id)
        if locked.check_in.status != CheckInStatus.ACTIVE:
            raise PartyError("checkin_not_active", "报到在岗服务后才能记录践诺", status=409)
        if locked.fulfilled_at is not None:
            return locked  # recorded already (a double submit)
        locked.fulfilled_at = timezone.now()
        locked.fulfilled_note = note[:200]
        locked.save(update_fields=["fulfilled_at", "fulfilled_note"])
        CheckInEvent.objects.create(
            check_in=locked.check_in,
            actor=actor,
            action="fulfil",
            from_status=locked.check_in.status,
            to_status=locked.check_in.status,
            note=f"践诺:{locked.text[:60]}" + (f"({amount}小时)" if amount is not None else ""),
        )
        if amount is not None:
            member = PartyMember.objects.select_related("community").get(pk=locked.check_in.member_id)
            hours_credit(
                verified_by=actor,
                volunteer_id=volunteer_for_member(member).pk,
                hours=amount,
                served_on=served_on or timezone.localdate(),
                title=f"践诺:{locked.text}",
                commitment_id=locked.pk,
            )
    return locked
