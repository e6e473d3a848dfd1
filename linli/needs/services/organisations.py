"""Writes of organisations and the incubation pipeline of seed 003: 孵化申请 → 初步评估 → 协助注册登记 →
入驻托管 (托管财务、提供场地设备) → 政府购买服务. Each step is an event with the date it happened and a note."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from stdnum.cn import uscc

from linli.needs.errors import NeedsError
from linli.needs.models import Organisation, OrganisationEvent, OrgFocus, OrgKind
from linli.needs.services.common import choice, managed_region, number, past_or_today, phone, scoped_row, text
from linli.needs.transitions import (
    INCUBATION_FLOW,
    INCUBATION_TRANSITIONS,
    TransitionResult,
    transition_apply,
)
from linli.places.models import Level

if TYPE_CHECKING:
    from linli.accounts.models import User

ORG_LEVELS = (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.ESTATE)
PURCHASE_MAX_YUAN = 100_000_000


def credit_code_clean(value: Any) -> str:
    code = str(value or "").strip().upper()
    if code and not uscc.is_valid(code):
        raise NeedsError("invalid_credit_code", "统一社会信用代码不正确(18位,含校验位)")
    return code


def organisation_create(
    *,
    actor: User,
    name: str,
    kind: str,
    region_id: int,
    focus: str = "",
    credit_code: str = "",
    address: str = "",
    description: str = "",
    services: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    agreement_since: dt.date | None = None,
) -> Organisation:
    """Register an organisation in a region of the actor's scope (not yet in the incubation pipeline)."""
    region = managed_region(actor, region_id, levels=ORG_LEVELS)
    org = Organisation(
        name=text(name, label="名称", max_length=100, required=True),
        kind=choice(kind, OrgKind, label="组织类型"),
        focus=choice(focus or "", OrgFocus, label="服务领域"),
        credit_code=credit_code_clean(credit_code),
        region=region,
        region_path=region.path,
        address=text(address, label="办公地址", max_length=200),
        description=text(description, label="简介", max_length=2000),
        services=text(services, label="可提供的服务", max_length=300),
        contact_name=text(contact_name, label="联系人", max_length=50),
        contact_phone=phone(contact_phone),
        agreement_since=agreement_since,
        created_by=actor,
    )
    try:
        with transaction.atomic():
            org.save()
            OrganisationEvent.objects.create(
                organisation=org, actor=actor, action="create", to_state=org.incubation_stage
            )
    except IntegrityError as exc:
        raise NeedsError("duplicate_name", "该区域已有同名组织", status=409) from exc
    return org


ORG_EDITABLE_FIELDS = (
    "name", "focus", "credit_code", "address", "description", "services", "contact_name", "contact_phone",
    "agreement_since", "is_active",
)  # fmt: skip


def organisation_update(*, actor: User, organisation_id: int, changes: dict[str, Any]) -> Organisation:
    scoped_row(Organisation.objects.all(), actor, organisation_id, noun="组织")
    unknown = set(changes) - set(ORG_EDITABLE_FIELDS)
    if unknown:
        raise NeedsError("not_editable", f"不能修改:{'、'.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "name":
            clean[field] = text(value, label="名称", max_length=100, required=True)
        elif field == "focus":
            clean[field] = choice(value or "", OrgFocus, label="服务领域")
        elif field == "credit_code":
            clean[field] = credit_code_clean(value)
        elif field == "contact_phone":
            clean[field] = phone(value)
        elif field in ("agreement_since",):
            clean[field] = value
        elif field == "is_active":
            clean[field] = bool(value)
        else:
            limits = {
                "address": (200, "办公地址"),
                "description": (2000, "简介"),
                "services": (300, "可提供的服务"),
            }
            max_length, label = limits.get(field, (50, "联系人"))
            clean[field] = text(value, label=label, max_length=max_length)
    try:
        with transaction.atomic():
            org = Organisation.objects.select_for_update().get(pk=organisation_id)
            for field, value in clean.items():
                setattr(org, field, value)
            fields = {*clean, "updated_at"} | ({"contact_phone_index"} if "contact_phone" in clean else set())
            org.save(update_fields=sorted(fields))
    except IntegrityError as exc:
        raise NeedsError("duplicate_name", "该区域已有同名组织", status=409) from exc
    return org


def organisation_incubate(
    *,
    actor: User,
    organisation_id: int,
    action: str,
    note: str = "",
    occurred_on: dt.date | None = None,
    credit_code: str = "",
    amount_yuan: int | None = None,
) -> TransitionResult:
    """One step of the incubation pipeline, dated ``occurred_on`` (today by default, never in the future).

    ``register`` may record the credit code it obtained; ``purchase`` records the contract's amount.
    Only social organisations are incubated (seed 003: 孵化引进社会组织).
    """
    org: Organisation = scoped_row(Organisation.objects.all(), actor, organisation_id, noun="组织")
    if org.kind != OrgKind.SOCIAL_ORG:
        raise NeedsError("not_incubable", "只有社会组织进入孵化流程;共建单位和商户无需孵化")
    day = past_or_today(occurred_on, label="发生日期")
    data: dict[str, Any] = {}
    code = credit_code_clean(credit_code) if action == "register" else ""
    if code:
        data["credit_code"] = code
    if action == "purchase":
        if amount_yuan is None:
            raise NeedsError("required", "请填写购买服务金额(元)")
        data["amount_yuan"] = number(amount_yuan, label="购买服务金额", low=1, high=PURCHASE_MAX_YUAN)
    # Steps are dated in order (an application made on paper may predate the organisation's record).
    last = (
        OrganisationEvent.objects.filter(organisation=org, action__in=list(INCUBATION_TRANSITIONS))
        .order_by("-occurred_on")
        .first()
    )
    if last is not None and day < last.occurred_on:
        raise NeedsError("date_before_previous_step", f"发生日期不能早于上一步({last.occurred_on:%Y-%m-%d})")
    return transition_apply(
        flow=INCUBATION_FLOW,
        obj_id=org.pk,
        action=action,
        actor=actor,
        note=note,
        effect=(lambda o: {"credit_code": code}) if code else None,
        data=data,
        event_fields={"occurred_on": day},
    )
