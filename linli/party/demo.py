"""Demo party data for 建国门社区: the organisation tree, members, 我是党员我报到 in every state, volunteer
teams and a few months of service hours, and one certificate.

The tree: 社区党委 → a 小区党支部 per estate (first four estates) → a 楼栋党小组 on two buildings of each →
a 党员中心户 on the first of them. Members get generated names and reserved demo phones (199 0000 ….).
The demo resident account is an in-service member whose check-in is active, with hours, so "我的志愿服务
时长" shows something at once. Deterministic; written through the services (the secretary verifies the
hours); idempotent: nothing is written when the community already has its 社区党委.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from linli.accounts.models import Membership, User
from linli.accounts.roles import Role
from linli.party.models import CommitmentKind, HoursSource, OrgKind, PartyOrg
from linli.party.services import (
    certificate_issue,
    checkin_activate,
    checkin_confirm,
    checkin_register,
    hours_record,
    party_member_create,
    party_org_create,
    team_create,
    team_member_add,
    volunteer_register,
)
from linli.places.demo import names
from linli.places.demo.geography import DISTRICT_CODE
from linli.places.demo.people import RESIDENT_USERNAME
from linli.places.models import Level, Region

SEED = 2026
ESTATES = 4
RESIDENT_MEMBERS = 24
IN_SERVICE = 9
PLAIN_VOLUNTEERS = 14
EMPLOYERS = (
    ("区税务局", "区税务局机关党支部"),
    ("市中心医院", "市中心医院内科党支部"),
    ("国网绵阳供电公司", "供电公司营销党支部"),
    ("区实验小学", "区实验小学党支部"),
    ("绵阳师范学院", "数学学院教工党支部"),
    ("区人民法院", "区法院民事审判庭党支部"),
    ("长虹集团", "长虹集团研发中心党支部"),
    ("区住建局", "区住建局机关党支部"),
    ("邮储银行绵阳分行", "邮储银行营业部党支部"),
)
PROMISES = (
    (CommitmentKind.VOLUNTEER, "每月参加一次“周末卫生日”楼道清洁"),
    (CommitmentKind.PAIRING, "结对帮扶一户独居老人,每周电话问候"),
    (CommitmentKind.SKILL, "每季度为居民提供一次专业咨询"),
    (CommitmentKind.PUBLICITY, "参与垃圾分类与防诈骗宣传"),
    (CommitmentKind.GOVERNANCE, "参加小区议事协商会"),
)
TEAMS = (
    ("建国门红马甲志愿服务队", "环境整治、文明劝导、敲门行动"),
    ("银发互助队", "低龄老人帮高龄老人:陪诊、代购、读报"),
    ("四点半课堂服务队", "放学后课业辅导与安全看护"),
)
ACTIVITIES = (
    ("周末卫生日楼道清洁", 2, 3),
    ("独居老人敲门行动", 1.5, 2),
    ("防诈骗宣传进小区", 2, 3),
    ("四点半课堂辅导", 2, 2.5),
    ("义诊与健康咨询", 3, 4),
    ("垃圾分类桶边督导", 1, 2),
    ("文明交通劝导", 2, 3),
)


@dataclass(frozen=True)
class DemoPartyResult:
    orgs: int
    members: int
    volunteers: int
    hours_entries: int
    message: str


def _name(rng: random.Random) -> str:
    surname = names.SURNAMES[int(rng.random() * len(names.SURNAMES))]
    given = "".join(
        names.GIVEN_CHARS[int(rng.random() * len(names.GIVEN_CHARS))]
        for _ in range(1 if rng.random() < 0.35 else 2)
    )
    return surname + given


def party_seed_demo(*, district_code: str = DISTRICT_CODE, seed: int = SEED) -> DemoPartyResult:
    community = (
        Region.objects.filter(
            level=Level.COMMUNITY, name=names.LEAD_COMMUNITIES[0], path__contains=f"/{district_code}/"
        )
        .order_by("code")
        .first()
    )
    if community is None:
        return DemoPartyResult(0, 0, 0, 0, "未找到建国门社区,未生成演示党建数据。")
    if PartyOrg.objects.filter(kind=OrgKind.COMMITTEE, region=community).exists():
        return DemoPartyResult(0, 0, 0, 0, "演示党组织已存在,未重复创建。")
    secretary = (
        User.objects.filter(
            memberships__role=Role.COMMUNITY_SECRETARY,
            memberships__region=community,
            memberships__is_active=True,
        )
        .order_by("username")
        .first()
    )
    if secretary is None or not Membership.objects.filter(user=secretary).exists():
        return DemoPartyResult(0, 0, 0, 0, "建国门社区没有社区书记账号,未生成演示党建数据。")
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data
    today = timezone.localdate()
    with transaction.atomic():
        committee = party_org_create(
            actor=None, kind=OrgKind.COMMITTEE, name=f"{community.name}党委", region_id=community.pk
        )
        orgs = [committee]
        groups: list[PartyOrg] = []
        estates = list(Region.objects.filter(parent=community, level=Level.ESTATE).order_by("code")[:ESTATES])
        for i, estate in enumerate(estates):
            branch = party_org_create(
                actor=None,
                kind=OrgKind.BRANCH,
                name=f"{estate.name}党支部",
                region_id=estate.pk,
                parent_id=committee.pk,
                sort_order=i,
            )
            orgs.append(branch)
            for j, building in enumerate(
                Region.objects.filter(parent=estate, level=Level.BUILDING).order_by("code")[:2]
            ):
                group = party_org_create(
                    actor=None,
                    kind=OrgKind.GROUP,
                    name=f"{estate.name}{building.name}党小组",
                    region_id=building.pk,
                    parent_id=branch.pk,
                    sort_order=j,
                )
                orgs.append(group)
                groups.append(group)
        phones = iter(f"1990000{n:04d}" for n in range(1, 10_000))
        members = []
        for n in range(RESIDENT_MEMBERS):
            org = groups[n % len(groups)] if groups else committee
            members.append(
                party_member_create(
                    actor=None, name=_name(rng), community_id=community.pk, phone=next(phones), org_id=org.pk
                )
            )
        for k, group in enumerate(groups[::2]):
            household = party_org_create(
                actor=None,
                kind=OrgKind.HOUSEHOLD,
                name=f"{members[k].name}党员中心户",
                region_id=group.region_id,
                parent_id=group.pk,
                leader_id=members[k].pk,
            )
            orgs.append(household)
        # 我是党员我报到: the demo resident first (active), then residents in every state of the flow.
        resident = User.objects.filter(username=RESIDENT_USERNAME).first()
        checkin_users: list[tuple[User, str]] = []
        if resident is not None:
            checkin_users.append((resident, "active"))
        states = [
            "active",
            "active",
            "confirmed",
            "confirmed",
            "registered",
            "registered",
            "registered",
            "active",
        ]
        for n in range(IN_SERVICE - len(checkin_users)):
            user = User.objects.create_user(
                username=f"demo-party-{n:02d}", kind="resident", display_name=_name(rng), phone=next(phones)
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
            checkin_users.append((user, states[n % len(states)]))
        active_volunteers = []
        for n, (user, state) in enumerate(checkin_users):
            employer, employer_org = EMPLOYERS[n % len(EMPLOYERS)]
            promises = rng.sample(PROMISES, 2)
            c = checkin_register(
                user=user,
                community_id=community.pk,
                name=user.display_name or _name(rng),
                employer=employer,
                employer_org=employer_org,
                skills=rng.choice(("法律咨询", "医疗保健", "电器维修", "课业辅导", "文艺特长", "")),
                commitments=promises,
            )
            if state in ("confirmed", "active"):
                checkin_confirm(
                    check_in_id=c.pk,
                    actor=secretary,
                    assigned_org_id=groups[n % len(groups)].pk if groups else None,
                )
            if state == "active":
                checkin_activate(check_in_id=c.pk, actor=secretary)
                active_volunteers.append(c.member.volunteer)
        plain = [
            volunteer_register(
                actor=secretary, name=_name(rng), community_id=community.pk, phone=next(phones)
            )
            for _ in range(PLAIN_VOLUNTEERS)
        ]
        volunteers = active_volunteers + plain
        teams = [
            team_create(actor=secretary, community_id=community.pk, name=name, description=desc)
            for name, desc in TEAMS
        ]
        for n, v in enumerate(volunteers):
            team_member_add(
                actor=secretary, team_id=teams[n % len(teams)].pk, volunteer_id=v.pk, is_leader=n < len(teams)
            )
        entries = 0
        for n, v in enumerate(volunteers):
            team = teams[n % len(teams)]
            for k in range(rng.randint(2, 7)):
                title, low, high = ACTIVITIES[rng.randrange(len(ACTIVITIES))]
                served = today - dt.timedelta(days=rng.randint(1, 90))
                hours_record(
                    actor=secretary,
                    volunteer_id=v.pk,
                    hours=str(round(rng.uniform(low, high) * 2) / 2),
                    served_on=served,
                    title=title,
                    source=HoursSource.ACTIVITY if k % 3 else HoursSource.TASK,
                    source_ref=f"demo:{served:%Y%m%d}:{k}",
                    team_id=team.pk,
                )
                entries += 1
        if active_volunteers:
            certificate_issue(actor=secretary, volunteer_id=active_volunteers[0].pk)
    return DemoPartyResult(
        len(orgs),
        len(members) + len(checkin_users),
        len(volunteers),
        entries,
        f"演示党建与志愿:{len(orgs)}个党组织、{len(members) + len(checkin_users)}名党员"
        f"({len(checkin_users)}名在职党员报到)、{len(volunteers)}名志愿者、{entries}条服务时长。",
    )
