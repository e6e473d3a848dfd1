"""Every write to stations, their hours, menus, 七有 checklist, photos and partners.

Each service runs in one transaction, locks the station row it changes (two editors of the same station
queue instead of interleaving), and bumps ``StationIndexVersion`` so every process rebuilds its
nearest-station index once. Who may call them is decided by the caller through the scoping helper
(``selectors.station_for_edit``); the services check the data only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from linli.accounts.models import User
from linli.catalog.models import ServiceItem
from linli.places.geometry import GeometryError, validate_lat_lng
from linli.places.models import Region
from linli.security.uploads import UploadError, upload_ingest
from linli.stations.hours import HoursError, Period, validate_periods
from linli.stations.index import station_index_changed
from linli.stations.models import (
    KIND_REGION_LEVELS,
    ChecklistItem,
    MenuTier,
    OpeningPeriod,
    PartnerKind,
    Station,
    StationChecklist,
    StationIndexVersion,
    StationKind,
    StationPartner,
    StationPhoto,
    StationService,
)


class StationError(Exception):
    """A refused change, with a machine-readable code and a Chinese message; nothing was saved."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def station_index_bump() -> None:
    """Inside the writing transaction: the stamp commits (or rolls back) with the change."""
    token = uuid.uuid4().hex
    updated = StationIndexVersion.objects.filter(pk=1).update(version=F("version") + 1, token=token)
    if not updated:
        StationIndexVersion.objects.update_or_create(pk=1, defaults={"version": 1, "token": token})
    station_index_changed()


def _check_point(lat: float, lng: float) -> None:
    try:
        validate_lat_lng(lat, lng)
    except GeometryError as exc:
        raise StationError(exc.code, exc.message) from exc


def _check_region(kind: str, region: Region) -> None:
    if kind not in StationKind.values:
        raise StationError("invalid_kind", f"未知的阵地类型:{kind}")
    if region.level not in KIND_REGION_LEVELS[kind]:
        raise StationError(
            "region_level_mismatch",
            f"{StationKind(kind).label}不能挂在{region.get_level_display()}“{region.name}”下",
        )


def _check_areas(office: float | None, public: float | None) -> None:
    for value in (office, public):
        if value is not None and value < 0:
            raise StationError("invalid_area", "面积不能为负数")


def _locked(station: Station) -> Station:
    return Station.objects.select_for_update().get(pk=station.pk)


def station_create(
    *,
    code: str,
    name: str,
    kind: str,
    region: Region,
    lat: float,
    lng: float,
    address: str,
    phone: str = "",
    contact_name: str = "",
    description: str = "",
    office_area_m2: float | None = None,
    public_area_m2: float | None = None,
    is_24h: bool = False,
    open_on_holidays: bool = False,
    hours_note: str = "",
    is_published: bool = True,
) -> Station:
    _check_point(lat, lng)
    _check_region(kind, region)
    _check_areas(office_area_m2, public_area_m2)
    if not name.strip() or not address.strip():
        raise StationError("missing_field", "名称和地址不能为空")
    station = Station(
        code=code,
        name=name.strip(),
        kind=kind,
        region=region,
        region_path=region.path,
        lat=lat,
        lng=lng,
        address=address.strip(),
        phone=phone,
        contact_name=contact_name,
        description=description,
        office_area_m2=office_area_m2,
        public_area_m2=public_area_m2,
        is_24h=is_24h,
        open_on_holidays=open_on_holidays,
        hours_note=hours_note,
        is_published=is_published,
    )
    try:
        with transaction.atomic():
            station.save()
            station_index_bump()
    except IntegrityError as exc:
        if Station.objects.filter(code=code).exists():
            raise StationError("duplicate_code", f"编码 {code} 已被使用") from exc
        raise
    return station


# Fields staff may change with station_update (kind and region change the scope: region_path follows).
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "kind",
        "region",
        "lat",
        "lng",
        "address",
        "phone",
        "contact_name",
        "description",
        "office_area_m2",
        "public_area_m2",
        "is_24h",
        "open_on_holidays",
        "hours_note",
        "is_published",
    }
)


def station_update(*, station: Station, changes: dict[str, Any]) -> Station:
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise StationError("invalid_field", f"不能修改的字段:{', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = _locked(station)
        for name, value in changes.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        if not locked.name or not locked.address:
            raise StationError("missing_field", "名称和地址不能为空")
        _check_point(locked.lat, locked.lng)
        _check_region(locked.kind, locked.region)
        _check_areas(locked.office_area_m2, locked.public_area_m2)
        locked.region_path = locked.region.path
        locked.save(update_fields=[*sorted(changes), "region_path", "updated_at"])
        station_index_bump()
    return locked


def station_hours_replace(
    *,
    station: Station,
    periods: Sequence[Period],
    is_24h: bool | None = None,
    open_on_holidays: bool | None = None,
    hours_note: str | None = None,
) -> list[OpeningPeriod]:
    """Replace all opening periods at once (a week is edited as a whole, so overlaps are checked whole)."""
    try:
        ordered = validate_periods(periods)
    except HoursError as exc:
        raise StationError(exc.code, exc.message) from exc
    with transaction.atomic():
        locked = _locked(station)
        fields = ["updated_at"]
        for name, value in (
            ("is_24h", is_24h),
            ("open_on_holidays", open_on_holidays),
            ("hours_note", hours_note),
        ):
            if value is not None:
                setattr(locked, name, value)
                fields.append(name)
        locked.save(update_fields=fields)
        OpeningPeriod.objects.filter(station=locked).delete()
        rows = OpeningPeriod.objects.bulk_create(
            [
                OpeningPeriod(station=locked, weekday=p.weekday, opens=p.opens, closes=p.closes)
                for p in ordered
            ]
        )
        station_index_bump()
    return rows


def station_menu_set(
    *,
    station: Station,
    item: ServiceItem,
    tier: str = MenuTier.BASIC,
    note: str = "",
    sort_order: int = 100,
    is_active: bool = True,
) -> StationService:
    """Add a catalogue item to the menu, or change its line."""
    if tier not in MenuTier.values:
        raise StationError("invalid_tier", f"未知的菜单层次:{tier}")
    if not item.is_active:
        raise StationError("unknown_service", f"服务事项“{item.name}”已停用")
    with transaction.atomic():
        locked = _locked(station)
        line, _created = StationService.objects.update_or_create(
            station=locked,
            item=item,
            defaults={"tier": tier, "note": note.strip(), "sort_order": sort_order, "is_active": is_active},
        )
        station_index_bump()
    return line


def station_menu_remove(*, station: Station, item: ServiceItem) -> bool:
    with transaction.atomic():
        locked = _locked(station)
        deleted, _ = StationService.objects.filter(station=locked, item=item).delete()
        station_index_bump()
    return deleted > 0


def station_menu_apply_basic(*, station: Station) -> int:
    """Put every active basic catalogue item on the menu (the "1" of "1+N"); returns lines added."""
    with transaction.atomic():
        locked = _locked(station)
        have = set(StationService.objects.filter(station=locked).values_list("item_id", flat=True))
        basics = ServiceItem.objects.filter(basic=True, is_active=True).exclude(id__in=have)
        rows = StationService.objects.bulk_create(
            [
                StationService(station=locked, item=item, tier=MenuTier.BASIC, sort_order=item.sort_order)
                for item in basics
            ]
        )
        station_index_bump()
    return len(rows)


def station_checklist_set(
    *,
    station: Station,
    item: str,
    met: bool,
    evidence: str = "",
    photo: StationPhoto | None = None,
    user: User | None = None,
) -> StationChecklist:
    if item not in ChecklistItem.values:
        raise StationError("invalid_checklist_item", f"“七有”中没有这一项:{item}")
    if photo is not None and photo.station_id != station.pk:
        raise StationError("photo_not_of_station", "佐证照片必须是本阵地的照片")
    if met and not evidence.strip() and photo is None:
        raise StationError("evidence_required", "标记为已达标时请填写佐证说明或选择佐证照片")
    with transaction.atomic():
        locked = _locked(station)
        row, _created = StationChecklist.objects.update_or_create(
            station=locked,
            item=item,
            defaults={
                "met": met,
                "evidence": evidence.strip(),
                "photo": photo,
                "checked_by": user,
                "checked_at": timezone.now(),
            },
        )
    return row


def station_photo_add(
    *, station: Station, file: Any, caption: str = "", user: User | None = None, sort_order: int = 100
) -> StationPhoto:
    """Ingest (checked, re-encoded, EXIF/GPS stripped) outside the transaction, then record it."""
    try:
        stored = upload_ingest(file, purpose="stations")
    except UploadError as exc:
        raise StationError(exc.code, exc.message) from exc
    with transaction.atomic():
        locked = _locked(station)
        photo = StationPhoto.objects.create(
            station=locked,
            file=stored.name,
            caption=caption.strip(),
            width=stored.width,
            height=stored.height,
            sort_order=sort_order,
            uploaded_by=user,
        )
    return photo


def station_photo_delete(*, photo: StationPhoto) -> None:
    from django.core.files.storage import default_storage

    name = photo.file
    with transaction.atomic():
        _locked(photo.station)
        photo.delete()
        # The file goes only once the row is gone for good.
        transaction.on_commit(lambda: default_storage.delete(name))


def station_partner_save(
    *,
    station: Station,
    name: str,
    kind: str,
    services: str,
    space: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    is_active: bool = True,
    partner: StationPartner | None = None,
) -> StationPartner:
    """Create a partner (以场地换服务), or update ``partner`` when given."""
    if kind not in PartnerKind.values:
        raise StationError("invalid_partner_kind", f"未知的共建单位类型:{kind}")
    if not name.strip() or not services.strip():
        raise StationError("missing_field", "共建单位名称和提供的服务不能为空")
    if since and until and until < since:
        raise StationError("invalid_dates", "合作结束日期不能早于开始日期")
    if partner is not None and partner.station_id != station.pk:
        raise StationError("partner_not_of_station", "该共建单位不属于本阵地")
    with transaction.atomic():
        locked = _locked(station)
        row = partner or StationPartner(station=locked)
        row.name, row.kind, row.services, row.space = name.strip(), kind, services.strip(), space.strip()
        row.since, row.until, row.is_active = since, until, is_active
        row.save()
    return row
