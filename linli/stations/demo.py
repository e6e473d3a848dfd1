"""A plausible station network for the demo district, deterministic and idempotent.

As in the source articles: one 区级党群服务中心, one 社区党群服务中心 inside every community (seed 003: 1 +
33 + 38 驿家), about forty 党群暖心驿站 and 驿家 where people gather (squares, stations, malls — seed 000)
and inside estates ("一小区一阵地"), and the 邻里中心 / 特色中心 of seed 001. Sites for 驿站/驿家 are
chosen greedily: each goes to the estate with the most people within a 10-minute walk that no station
yet serves, so the network looks like one planned for coverage, with some gaps left for the planning
page to find.

Called by ``manage.py seed_demo`` (after the places are loaded) and by ``manage.py seed_demo_stations``.
Re-running adds nothing when the stations exist (matched by code).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils import timezone

from linli.catalog.models import ServiceItem
from linli.places.demo.geography import DISTRICT_CODE
from linli.places.models import Level, Region
from linli.stations.hours import Period
from linli.stations.models import (
    ChecklistItem,
    MenuTier,
    PartnerKind,
    Station,
    StationChecklist,
    StationKind,
    StationPartner,
    StationService,
)
from linli.stations.services import station_create, station_hours_replace, station_index_bump
from linli.stations.walking import haversine_m, radius_for_minutes

SEED = 2026
POSTS_PER_33 = 24  # 驿站 for 33 communities (scaled for smaller demo districts)
HOMES_PER_33 = 16  # 驿家

LANDMARKS = (
    "铁牛广场", "青年广场", "火车站", "汽车客运中心", "百盛商场", "万达广场", "凯德广场", "人民公园",
    "富乐山公园", "南河体育中心", "滨江公园", "三江湖湿地", "公交枢纽站", "临园路菜市场", "美食街",
    "会展中心", "九洲体育馆", "西山公园", "跃进路步行街", "安昌路夜市", "御营坝商业街", "中心医院",
    "高铁站", "城郊农贸市场", "科技城孵化园", "图书馆", "文化广场", "老街口",
)  # fmt: skip
FEATURED_CENTERS = (
    (StationKind.NEIGHBORHOOD, "幸福邻里中心·民间工匠便民服务中心"),
    (StationKind.NEIGHBORHOOD, "幸福邻里中心·古镇文化展示中心"),
    (StationKind.FEATURED, "特色邻里中心·智慧居家养老中心"),
    (StationKind.FEATURED, "特色邻里中心·社会组织孵化中心"),
)
PARTNERS = (
    ("邮储银行绵阳分行", PartnerKind.BANK, "每周二金融知识与防诈骗宣传", "多功能活动室"),
    ("百盛商场", PartnerKind.ENTERPRISE, "提供驿站场地、饮水和充电设施", "一楼东侧"),
    ("中国移动涪城分公司", PartnerKind.BANK, "智能手机使用培训", "培训室"),
    ("国网绵阳供电公司", PartnerKind.BANK, "用电报修与缴费咨询", "综合窗口"),
    ("向日葵公益组织", PartnerKind.SOCIAL_ORG, "上门关爱独居老人", "志愿者之家"),
    ("好姆妈爱心团队", PartnerKind.VOLUNTEER_TEAM, "爱心义剪、临时看护", "服务大厅"),
    ("恒源职业培训学校", PartnerKind.ENTERPRISE, "直播、短视频拍摄公益培训", "社区直播间"),
    ("亲子绘本馆", PartnerKind.SOCIAL_ORG, "亲子绘本共读(以场地换服务)", "绘本馆"),
    ("区社区卫生服务中心", PartnerKind.PUBLIC_BODY, "家庭医生签约与每月义诊", "健康小屋"),
    ("律师事务所(一社区一法律顾问)", PartnerKind.PUBLIC_BODY, "每周一次法律咨询坐班", "调解室"),
)

BASIC_POST = ("BM-002", "BM-007", "BM-008", "BM-009", "BM-010", "BM-013", "TS-005")
FEATURED_POOL = (
    ("TS-001", "工作日 9:00–18:00,每次不超过2小时"),
    ("GY-001", "每周三上午法律顾问坐班"),
    ("GY-003", "每月第一个周六上午"),
    ("GY-004", "每月15日上午,行动不便可预约上门"),
    ("TS-004", "调解员每周二、四坐班"),
    ("TS-007", "每周一、三、五 19:00–21:00"),
    ("TS-006", "周末 10:00–11:30"),
    ("GY-010", "上学日 16:30–18:30"),
    ("BM-005", "凭身份证登记借用"),
    ("TS-003", "工作日 8:30–17:00"),
    ("BM-014", "每周四下午"),
    ("GY-005", "预约制"),
)
HOME_MENU = ("BM-005", "BM-013", "GY-004", "TS-001", "GY-008", "TS-005")


@dataclass(frozen=True)
class DemoStationsResult:
    created: int
    total: int
    message: str


def _t(text: str) -> dt.time:
    hour, minute = text.split(":")
    return dt.time(int(hour), int(minute))


def _week(days: Sequence[int], spans: Sequence[tuple[str, str]]) -> list[Period]:
    return [Period(d, _t(a), _t(b)) for d in days for a, b in spans]


WEEKDAYS, WEEKEND, ALL_DAYS = (0, 1, 2, 3, 4), (5, 6), (0, 1, 2, 3, 4, 5, 6)
OFFICE = (("09:00", "12:00"), ("13:30", "17:30"))


def _center_hours(rng: random.Random) -> tuple[list[Period], bool, str]:
    """A community center: office hours, often 错时延时 (through lunch, into the evening), often 六日不打烊."""
    style = rng.random()
    if style < 0.35:  # 错时延时: no lunch break, open until 20:00
        periods = _week(WEEKDAYS, [("08:30", "20:00")])
        note = "错时延时:工作日午间不休、晚间延至20:00;班后在线"
    elif style < 0.7:
        periods = _week(WEEKDAYS, OFFICE)
        note = "班时在岗、班后在线"
    else:
        periods = _week(WEEKDAYS, [("09:00", "12:00"), ("13:30", "19:30")])
        note = "工作日晚间延时至19:30"
    weekend = rng.random() < 0.6
    if weekend:  # 六日不打烊 (seed 003)
        periods += _week(WEEKEND, [("09:00", "12:00"), ("14:00", "17:00")])
        note += ";六日不打烊"
    return periods, weekend, note


def _sites(estates: list[Region], taken: list[tuple[float, float]], count: int) -> list[Region]:
    """Greedy: the estate with the most people within a 10-minute walk, at least a 5-minute walk from
    every station placed so far."""
    if not estates or count <= 0:
        return []
    lat = np.array([e.lat for e in estates])
    lng = np.array([e.lng for e in estates])
    pop = np.array([e.population for e in estates], dtype=float)
    reach = haversine_m(lat[:, None], lng[:, None], lat[None, :], lng[None, :]) <= radius_for_minutes(10)
    served = np.zeros(len(estates), dtype=bool)
    free = np.ones(len(estates), dtype=bool)
    for t_lat, t_lng in taken:
        d = haversine_m(t_lat, t_lng, lat, lng)
        served |= d <= radius_for_minutes(10)
        free &= d > radius_for_minutes(5)
    chosen: list[Region] = []
    for _ in range(count):
        gain = reach.astype(float) @ np.where(served, 0.0, pop)
        gain[~free] = -1
        best = int(np.argmax(gain))  # the first of equal gains: deterministic
        if gain[best] < 0:
            break
        chosen.append(estates[best])
        served |= reach[best]
        free &= haversine_m(lat[best], lng[best], lat, lng) > radius_for_minutes(5)
    return chosen


def _phone(rng: random.Random) -> str:
    return f"0816-2{rng.randrange(100000, 999999)}"


def _menu(station: Station, codes: Sequence[tuple[str, str, str]], items: dict[str, ServiceItem]) -> None:
    """Menu lines in the given order; an item listed twice keeps its first line (basic wins)."""
    seen: set[str] = set()
    lines = []
    for i, (code, tier, note) in enumerate(codes):
        if code in items and code not in seen:
            seen.add(code)
            lines.append(
                StationService(station=station, item=items[code], tier=tier, note=note, sort_order=i * 10)
            )
    StationService.objects.bulk_create(lines)


def _checklist(station: Station, rng: random.Random, *, missing: int) -> None:
    values = list(ChecklistItem.values)
    gaps = set(rng.sample(values[:5], missing)) if missing else set()
    evidence = {
        ChecklistItem.SIGN: "门头统一“党群服务”标识,夜间灯箱",
        ChecklistItem.SITE: "固定场所,产权/租赁协议已备案",
        ChecklistItem.FACILITIES: "饮水机、充电设施、急救箱、桌椅齐备",
        ChecklistItem.RULES: "值班、服务、安全管理制度上墙",
        ChecklistItem.STAFF: "站长及志愿者排班表已公示",
        ChecklistItem.ON_MAP: "已在本平台地图公开",
        ChecklistItem.MENU: "服务菜单已公示",
    }
    now = timezone.now()
    StationChecklist.objects.bulk_create(
        [
            StationChecklist(
                station=station,
                item=v,
                met=v not in gaps,
                evidence="" if v in gaps else evidence[ChecklistItem(v)],
                checked_at=now,
            )
            for v in values
        ]
    )


def stations_seed_demo(*, district_code: str = DISTRICT_CODE, seed: int = SEED) -> DemoStationsResult:
    district = Region.objects.filter(code=district_code, level=Level.DISTRICT).first()
    if district is None:
        return DemoStationsResult(0, 0, "未找到演示辖区,请先运行 seed_demo 加载区域。")
    prefix = district.code
    existing = Station.objects.filter(region_path__startswith=district.path).count()
    if existing:
        return DemoStationsResult(0, existing, f"演示服务阵地已存在({existing} 个),未重复创建。")
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data
    items = {i.code: i for i in ServiceItem.objects.filter(is_active=True)}
    basic = [
        (i.code, MenuTier.BASIC, "") for i in sorted(items.values(), key=lambda i: i.sort_order) if i.basic
    ]
    communities = list(
        Region.objects.filter(path__startswith=district.path, level=Level.COMMUNITY).order_by("code")
    )
    estates = list(
        Region.objects.filter(path__startswith=district.path, level=Level.ESTATE, lat__isnull=False)
        .select_related("parent")
        .order_by("code")
    )
    created: list[Station] = []
    with transaction.atomic():
        center = station_create(
            code=f"{prefix}-Q001",
            name=f"{district.name}党群服务中心",
            kind=StationKind.DISTRICT_CENTER,
            region=district,
            lat=district.lat or 0.0,
            lng=district.lng or 0.0,
            address=f"{district.address or district.name}人民路1号",
            phone=_phone(rng),
            description="区级党群服务中心:政务服务综合窗口、帮办代办窗口、多功能活动室。",
            office_area_m2=120,
            public_area_m2=1800,
            hours_note="工作日午间不休;六日不打烊",
        )
        station_hours_replace(
            station=center,
            periods=_week(WEEKDAYS, [("08:30", "18:00")]) + _week(WEEKEND, [("09:00", "17:00")]),
        )
        created.append(center)
        for n, community in enumerate(communities):
            periods, _weekend, note = _center_hours(rng)
            office = rng.choice([40, 60, 80, 100, 160])
            public = rng.choice([300, 420, 560, 700, 900])
            station = station_create(
                code=f"{community.code}-ZX",
                name=f"{community.name}党群服务中心",
                kind=StationKind.COMMUNITY_CENTER,
                region=community,
                lat=community.lat or 0.0,
                lng=community.lng or 0.0,
                address=f"{community.address}综合服务楼",
                phone=_phone(rng),
                contact_name="值班社工",
                description="一窗受理、综合服务;“综合服务”和“帮办代办”两个窗口。",
                office_area_m2=office,
                public_area_m2=public,
                hours_note=note,
                open_on_holidays=n % 5 == 0,
            )
            station_hours_replace(station=station, periods=periods)
            featured = rng.sample(FEATURED_POOL, 3)
            _menu(station, basic + [(code, MenuTier.FEATURED, note) for code, note in featured], items)
            _checklist(station, rng, missing=0 if rng.random() < 0.8 else 1)
            created.append(station)
        _menu(center, basic + [(c, MenuTier.FEATURED, n) for c, n in FEATURED_POOL[:4]], items)
        _checklist(center, rng, missing=0)

        scale = max(1, len(communities)) / 33
        taken = [(s.lat, s.lng) for s in created]
        n_posts = max(1, round(POSTS_PER_33 * scale))
        n_homes = max(1, round(HOMES_PER_33 * scale))
        sites = _sites(estates, taken, n_posts + n_homes + len(FEATURED_CENTERS))
        for i, estate in enumerate(sites):
            home = estate.parent  # the estate's community
            assert home is not None
            # A few metres off the estate's point: a square, a gate, a shop front next to it.
            lat, lng = (
                (estate.lat or 0.0) + rng.uniform(-3e-4, 3e-4),
                (estate.lng or 0.0) + rng.uniform(-3e-4, 3e-4),
            )
            if i < n_posts:
                landmark = LANDMARKS[i % len(LANDMARKS)]
                kind, code = StationKind.POST, f"{prefix}-YZ{i + 1:03d}"
                name, address = f"{landmark}党群暖心驿站", f"{home.address}{landmark}旁"
                menu = [(c, MenuTier.BASIC, "") for c in BASIC_POST] + [
                    (c, MenuTier.FEATURED, note) for c, note in rng.sample(FEATURED_POOL, 2)
                ]
                if landmark in ("火车站", "高铁站"):
                    periods, is_24h, holidays = [], True, True
                elif landmark.endswith("夜市") or landmark == "美食街":
                    periods, is_24h, holidays = _week(ALL_DAYS, [("10:00", "02:00")]), False, True
                else:
                    periods, is_24h, holidays = _week(ALL_DAYS, [("07:30", "21:00")]), False, True
            elif i < n_posts + n_homes:
                kind, code = StationKind.HOME, f"{prefix}-YJ{i - n_posts + 1:03d}"
                name, address = f"{estate.name}党群驿家", f"{estate.address}物业用房一楼"
                menu = [
                    (c, MenuTier.BASIC if c.startswith("BM") else MenuTier.FEATURED, "") for c in HOME_MENU
                ]
                periods = _week(ALL_DAYS, [("09:00", "11:30"), ("15:00", "20:00")])
                is_24h, holidays = False, rng.random() < 0.5
            else:
                j = i - n_posts - n_homes
                kind, title = FEATURED_CENTERS[j]
                code, name = f"{prefix}-LL{j + 1:03d}", f"{home.name}{title}"
                address = f"{home.address}邻里中心"
                menu = basic[:6] + [
                    (c, MenuTier.FEATURED, note) for c, note in FEATURED_POOL[j * 3 : j * 3 + 3]
                ]
                periods = _week(ALL_DAYS, [("08:30", "20:30")])
                is_24h, holidays = False, False
            station = station_create(
                code=code,
                name=name,
                kind=kind,
                region=home,
                lat=lat,
                lng=lng,
                address=address,
                phone=_phone(rng),
                is_24h=is_24h,
                open_on_holidays=holidays,
                office_area_m2=rng.choice([0, 5, 10]) if kind != StationKind.NEIGHBORHOOD else 60,
                public_area_m2=rng.choice([40, 60, 90, 120]) if kind != StationKind.NEIGHBORHOOD else 800,
            )
            station_hours_replace(station=station, periods=periods)
            _menu(station, menu, items)
            _checklist(station, rng, missing=0 if rng.random() < 0.7 else rng.choice([1, 2]))
            created.append(station)
        for n, (partner, partner_kind, services, space) in enumerate(PARTNERS):
            StationPartner.objects.create(
                station=created[(n * 7) % len(created)],
                name=partner,
                kind=partner_kind,
                services=services,
                space=space,
                since=dt.date(2023, 1 + n, 1),
            )
        station_index_bump()
    return DemoStationsResult(len(created), len(created), f"已创建演示服务阵地 {len(created)} 个。")
