"""Plausible 三清单 and organisations for the demo district, written through the services.

As in the source articles: a street's incubation platform for social organisations (seed 003: from
application to government-purchased services), co-building units of the 联合党委 (the power company, the
hospital, the tax office), businesses (a pharmacy, a canteen, a housekeeping shop) and volunteer teams
offering skills, spaces, goods, funds and services; needs from door-to-door visits, residents' meetings and
residents themselves (助餐、助浴、楼道灯、四点半课堂、智能手机培训 …); staff accepting and rejecting suggested
resources; projects claimed by organisations with public progress.

Called by ``manage.py seed_demo`` (after places, stations and the demo logins) and idempotent: nothing is
added when the demo organisations exist. Deterministic: fixed lists, no randomness.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from linli.accounts.models import User
from linli.needs.errors import NeedsError
from linli.needs.matching import need_suggestions
from linli.needs.models import (
    Category,
    NeedSource,
    Organisation,
    OrgFocus,
    OrgKind,
    ProviderKind,
    ResourceKind,
)
from linli.needs.services import (
    match_accept,
    match_reject,
    need_create,
    organisation_create,
    organisation_incubate,
    project_act,
    project_claim,
    project_create,
    project_evaluate,
    project_report,
    resource_create,
)
from linli.places.demo.geography import DISTRICT_CODE
from linli.places.models import Level, Region

COMMUNITIES = 4  # the demo lists cover the first few communities; the rest start empty
MARKER = "向日葵公益服务中心"


@dataclass(frozen=True)
class DemoNeedsResult:
    created: int
    message: str


# name, kind, focus, level ("street" or "community"), services, incubation steps (action, days ago, note)
ORGS: tuple[tuple[str, str, str, str, str, tuple[tuple[str, int, str], ...]], ...] = (
    (MARKER, OrgKind.SOCIAL_ORG, OrgFocus.SERVICE, "street", "上门助浴、陪诊、独居老人关爱", (
        ("apply", 400, "提交孵化申请"), ("assess", 380, "服务需求明确,骨干稳定"), ("register", 300, "区民政局登记"),
        ("host", 290, "托管财务,入驻社会组织孵化中心"), ("purchase", 120, "街道购买居家养老上门服务"),
    )),
    ("夕阳红文艺队", OrgKind.SOCIAL_ORG, OrgFocus.CULTURE, "community", "广场舞、合唱、节日文艺演出", (
        ("apply", 200, "居民自发组建,申请孵化"), ("assess", 180, "活动常态化,成员40余人"), ("register", 90, "备案"),
    )),
    ("邻里调解志愿协会", OrgKind.SOCIAL_ORG, OrgFocus.RIGHTS, "community", "邻里纠纷调解、法律咨询", (
        ("apply", 60, "退休法官牵头申请"), ("assess", 40, "已有调解员6名"),
    )),
    ("爱心助残服务社", OrgKind.SOCIAL_ORG, OrgFocus.CHARITY, "community", "残疾人康复陪护、辅具借用", (
        ("apply", 10, "提交孵化申请"),
    )),
    ("国网供电公司党支部", OrgKind.CO_BUILDING, "", "street", "电工义务检修、用电安全宣传", ()),
    ("区人民医院党总支", OrgKind.CO_BUILDING, "", "street", "义诊、健康讲座、家庭医生签约", ()),
    ("区税务局机关党委", OrgKind.CO_BUILDING, "", "street", "结对帮扶、爱心基金", ()),
    ("中国移动涪城分公司", OrgKind.CO_BUILDING, "", "community", "智能手机使用培训", ()),
    ("老街口便民餐厅", OrgKind.BUSINESS, "", "community", "老年助餐(低偿)", ()),
    ("好邻居家政服务部", OrgKind.BUSINESS, "", "community", "低偿保洁、家电清洗", ()),
    ("百姓大药房", OrgKind.BUSINESS, "", "community", "常用药品捐赠、免费测血压", ()),
)  # fmt: skip

# name, provider (org name, "station" or "volunteers:<team>"), kind, category, capacity, unit
RESOURCES = (
    ("上门助浴服务", MARKER, ResourceKind.SERVICES, Category.ELDERLY, 20, "people"),
    ("义诊与健康讲座", "区人民医院党总支", ResourceKind.SERVICES, Category.HEALTH, 10, "needs"),
    ("电工义务检修", "国网供电公司党支部", ResourceKind.SKILLS, Category.FACILITIES, 15, "needs"),
    ("老年助餐(每餐8元)", "老街口便民餐厅", ResourceKind.SERVICES, Category.ELDERLY, 30, "people"),
    ("智能手机使用培训", "中国移动涪城分公司", ResourceKind.SKILLS, Category.EDUCATION, 40, "people"),
    ("多功能活动室(以场地换服务)", "station", ResourceKind.SPACE, Category.CULTURE, 8, "needs"),
    ("结对帮扶爱心基金", "区税务局机关党委", ResourceKind.FUNDS, Category.HARDSHIP, 10, "needs"),
    ("低偿保洁服务", "好邻居家政服务部", ResourceKind.SERVICES, Category.HOUSEKEEPING, 12, "needs"),
    ("四点半课堂辅导", "volunteers:大学生志愿服务队", ResourceKind.SKILLS, Category.CHILDREN, 25, "people"),
    ("常用药品捐赠", "百姓大药房", ResourceKind.GOODS, Category.HEALTH, 20, "needs"),
    ("邻里纠纷调解", "邻里调解志愿协会", ResourceKind.SERVICES, Category.LEGAL, 10, "needs"),
)

# title, category, source, beneficiaries, urgency, on an estate (True) or the community
NEEDS = (
    ("独居老人助餐", Category.ELDERLY, NeedSource.VISIT, 6, "urgent", True),
    ("高龄老人上门助浴", Category.ELDERLY, NeedSource.VISIT, 3, "normal", True),
    ("楼道灯长期不亮", Category.FACILITIES, NeedSource.MEETING, 48, "normal", True),
    ("双职工家庭孩子放学无人看护", Category.CHILDREN, NeedSource.RESIDENT, 15, "normal", False),
    ("老年人不会用智能手机挂号", Category.EDUCATION, NeedSource.MEETING, 20, "normal", False),
    ("慢病老人测血压与用药指导", Category.HEALTH, NeedSource.VISIT, 8, "normal", True),
    ("低保户家庭临时困难", Category.HARDSHIP, NeedSource.VISIT, 1, "urgent", True),
    ("广场舞队缺少活动场地", Category.CULTURE, NeedSource.RESIDENT, 30, "normal", False),
)


def _ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def _stage(actor: User, org: Organisation, steps: tuple[tuple[str, int, str], ...]) -> None:
    for action, days, note in steps:
        organisation_incubate(
            actor=actor, organisation_id=org.pk, action=action, note=note, occurred_on=_ago(days),
            amount_yuan=180_000 if action == "purchase" else None,
        )  # fmt: skip


def needs_seed_demo(*, district_code: str = DISTRICT_CODE) -> DemoNeedsResult:
    district = Region.objects.filter(code=district_code, level=Level.DISTRICT).first()
    if district is None:
        return DemoNeedsResult(0, "未找到演示辖区,请先运行 seed_demo 加载区域。")
    if Organisation.objects.filter(region_path__startswith=district.path, name=MARKER).exists():
        return DemoNeedsResult(0, "演示三清单已存在,未重复创建。")
    actor = User.objects.filter(username="district_staff", is_active=True).first()
    if actor is None:
        return DemoNeedsResult(0, "未找到演示账号 district_staff,跳过三清单演示数据。")
    communities = list(
        Region.objects.filter(path__startswith=district.path, level=Level.COMMUNITY).order_by("code")
    )
    if not communities:
        return DemoNeedsResult(0, "演示辖区没有社区,跳过三清单演示数据。")
    created = 0
    with transaction.atomic():
        street = communities[0].parent or district
        orgs: dict[str, Organisation] = {}
        for i, (name, kind, focus, level, services, steps) in enumerate(ORGS):
            region = street if level == "street" else communities[i % min(COMMUNITIES, len(communities))]
            org = organisation_create(
                actor=actor, name=name, kind=kind, focus=focus, region_id=region.pk, services=services,
                contact_name="联络员", description=f"{name}:{services}。",
                agreement_since=_ago(365) if kind == OrgKind.CO_BUILDING else None,
            )  # fmt: skip
            _stage(actor, org, steps)
            orgs[name] = org
            created += 1
        for n, community in enumerate(communities[:COMMUNITIES]):
            created += _community(actor, community, orgs, first=n == 0)
    return DemoNeedsResult(created, f"已创建演示三清单与社会组织 {created} 条(前{COMMUNITIES}个社区)。")


def _provider(provider: str, orgs: dict[str, Organisation], community: Region) -> dict[str, Any] | None:
    if provider == "station":
        from linli.stations.models import Station

        station = Station.objects.filter(region=community).order_by("code").first()
        return None if station is None else {"provider_kind": ProviderKind.STATION, "station_id": station.pk}
    if provider.startswith("volunteers:"):
        return {"provider_kind": ProviderKind.VOLUNTEERS, "provider_name": provider.split(":", 1)[1]}
    return {"provider_kind": ProviderKind.ORGANISATION, "organisation_id": orgs[provider].pk}


def _community(actor: User, community: Region, orgs: dict[str, Organisation], *, first: bool) -> int:
    """One community's lists: its resources, its needs, decisions on suggestions, three projects."""
    created = 0
    for name, provider, kind, category, capacity, unit in RESOURCES:
        who = _provider(provider, orgs, community)
        if who is None:
            continue
        resource_create(
            actor=actor, name=name, kind=kind, category=category, region_id=community.pk, capacity=capacity,
            capacity_unit=unit, valid_from=_ago(60), valid_until=_ago(-300), contact_name="对接人", **who,
        )  # fmt: skip
        created += 1
    estates = list(Region.objects.filter(parent=community, level=Level.ESTATE).order_by("code"))
    grid_worker = User.objects.filter(username="gridworker").first() if first else None
    needs = []
    for i, (title, category, source, people, urgency, on_estate) in enumerate(NEEDS):
        region = estates[i % len(estates)] if on_estate and estates else community
        filer = grid_worker if grid_worker is not None and source == NeedSource.VISIT else actor
        try:
            need = need_create(
                actor=filer, title=title, category=category, source_kind=source, region_id=region.pk,
                beneficiaries=people, urgency=urgency, source_ref="入户走访记录" if source == NeedSource.VISIT else "",
                description=f"{community.name}{title}。",
            )  # fmt: skip
        except NeedsError:  # the demo grid worker's grid does not cover this region: district staff files it
            need = need_create(
                actor=actor, title=title, category=category, source_kind=source, region_id=region.pk,
                beneficiaries=people, urgency=urgency, description=f"{community.name}{title}。",
            )  # fmt: skip
        needs.append(need)
        created += 1
    # Staff decide on the best suggestion of most needs; one is turned down with a reason.
    for i, need in enumerate(needs):
        suggestions = need_suggestions(need=need, limit=2)
        if not suggestions:
            continue
        if i == 3 and len(suggestions) > 1:
            match_reject(
                actor=actor, need_id=need.pk, resource_id=suggestions[1][1].pk, reason="服务时间与需求不符"
            )
        if i != 7:
            match_accept(actor=actor, need_id=need.pk, resource_id=suggestions[0][1].pk)
    meals = project_create(
        actor=actor, title="银龄助餐助浴", summary="为辖区独居、高龄老人提供助餐和上门助浴服务",
        category=Category.ELDERLY, community_id=community.pk, need_ids=[needs[0].pk, needs[1].pk],
        planned_end=_ago(-60),
    )  # fmt: skip
    project_claim(actor=actor, project_id=meals.pk, organisation_id=orgs[MARKER].pk, note="签订项目认领书")
    project_act(actor=actor, project_id=meals.pk, action="start")
    project_report(actor=actor, project_id=meals.pk, text_="助餐点开餐,每日供餐30份", progress=40)
    project_report(actor=actor, project_id=meals.pk, text_="完成首批上门助浴12人次", progress=65)
    lights = project_create(
        actor=actor, title="楼道亮灯工程", summary="老旧小区楼道灯更换为声控节能灯",
        category=Category.FACILITIES, community_id=community.pk, need_ids=[needs[2].pk],
    )  # fmt: skip
    project_claim(actor=actor, project_id=lights.pk, organisation_id=orgs["国网供电公司党支部"].pk)
    project_act(actor=actor, project_id=lights.pk, action="start")
    project_report(actor=actor, project_id=lights.pk, text_="已更换楼道灯46盏", progress=90)
    project_act(actor=actor, project_id=lights.pk, action="complete")
    project_evaluate(actor=actor, project_id=lights.pk, score=5, note="居民满意")
    project_create(
        actor=actor, title="四点半课堂", summary="放学后为双职工家庭孩子提供作业辅导和看护",
        category=Category.CHILDREN, community_id=community.pk, need_ids=[needs[3].pk],
    )  # fmt: skip
    return created + 3
