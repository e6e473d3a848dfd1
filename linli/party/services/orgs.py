"""The organisation tree and the member register."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from linli.accounts.services import AccountError, phone_normalize
from linli.party.access import party_manages
from linli.party.errors import PartyError
from linli.party.models import ORG_RULES, OrgKind, PartyMember, PartyOrg
from linli.places.models import Level, Region

if TYPE_CHECKING:
    from linli.accounts.models import User

NAME_MAX = 50


def _require_manager(actor: User | None, region_path: str) -> None:
    """``actor=None`` is the system (demo seed, imports); a person needs party.manage over the region."""
    if actor is not None and not party_manages(actor, region_path):
        raise PartyError("not_allowed", "只有本社区党组织管理人员可以操作", status=403)


def clean_phone(phone: str) -> str:
    if not (phone or "").strip():
        return ""
    try:
        return phone_normalize(phone)
    except AccountError as exc:
        raise PartyError(exc.code, exc.message) from exc


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise PartyError("name_required", "请填写姓名")
    if len(name) > NAME_MAX:
        raise PartyError("name_too_long", f"姓名不能超过{NAME_MAX}字")
    return name


def community_get(community_id: int) -> Region:
    community = Region.objects.filter(pk=community_id, level=Level.COMMUNITY).first()
    if community is None:
        raise PartyError("unknown_community", "社区不存在")
    return community


def party_org_create(
    *,
    actor: User | None,
    kind: str,
    name: str,
    region_id: int,
    parent_id: int | None = None,
    leader_id: int | None = None,
    sort_order: int = 0,
) -> PartyOrg:
    """Add a node to the tree: its kind fixes its parent's kind and its region's level, and its region
    lies inside its parent's (a 党员中心户 sits in its 楼栋党小组's building)."""
    if kind not in ORG_RULES:
        raise PartyError("invalid_kind", "党组织层级不正确")
    parent_kind, level = ORG_RULES[kind]
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise PartyError("invalid_name", "请填写名称(不超过100字)")
    region = Region.objects.filter(pk=region_id).first()
    if region is None or region.level != level:
        raise PartyError("invalid_region", f"{OrgKind(kind).label}应设在{Level(level).label}上")
    parent = None
    if parent_kind is None:
        if parent_id is not None:
            raise PartyError("invalid_parent", "社区党委没有上级组织(在本系统内)")
    else:
        parent = PartyOrg.objects.filter(pk=parent_id).first() if parent_id is not None else None
        if parent is None or parent.kind != parent_kind:
            raise PartyError("invalid_parent", f"{OrgKind(kind).label}的上级应为{OrgKind(parent_kind).label}")
        if not region.path.startswith(parent.region_path):
            raise PartyError("region_outside_parent", "所在区域不在上级组织的范围内")
    _require_manager(actor, region.path)
    leader = None
    if leader_id is not None:
        leader = PartyMember.objects.filter(pk=leader_id, is_active=True).first()
        if leader is None or (
            not region.path.startswith(leader.region_path) and not leader.region_path.startswith(region.path)
        ):
            raise PartyError("invalid_leader", "负责人应为本社区党员")
    try:
        with transaction.atomic():
            return PartyOrg.objects.create(
                kind=kind,
                name=name,
                parent=parent,
                region=region,
                region_path=region.path,
                leader=leader,
                sort_order=sort_order,
            )
    except IntegrityError as exc:
        raise PartyError("org_exists", "同一上级下已有同名组织,或该社区已有社区党委") from exc


def party_member_create(
    *,
    actor: User | None,
    name: str,
    community_id: int,
    phone: str = "",
    org_id: int | None = None,
    is_in_service: bool = False,
    employer: str = "",
    employer_org: str = "",
    user: User | None = None,
) -> PartyMember:
    community = community_get(community_id)
    _require_manager(actor, community.path)
    org = None
    if org_id is not None:
        org = PartyOrg.objects.filter(pk=org_id, region_path__startswith=community.path).first()
        if org is None:
            raise PartyError("invalid_org", "所在党组织应为本社区的党组织")
    phone = clean_phone(phone)
    if phone and PartyMember.objects.filter(phone_index__matches=phone).exists():
        raise PartyError("member_exists", "该手机号已登记为党员", status=409)
    try:
        with transaction.atomic():
            return PartyMember.objects.create(
                name=clean_name(name),
                phone=phone,
                community=community,
                region_path=community.path,
                org=org,
                is_in_service=is_in_service,
                employer=employer.strip()[:100],
                employer_org=employer_org.strip()[:100],
                user=user,
            )
    except IntegrityError as exc:
        raise PartyError("member_exists", "该手机号或账号已登记为党员", status=409) from exc
