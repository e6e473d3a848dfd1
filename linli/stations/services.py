"""Every write to stations, their hours, menus, 七有 checklist, photos and partners.

Each service runs in one transaction, locks the station row it changes (two editors of the same station
queue instead of interleaving), and bumps ``StationIndexVersion`` so every process rebuilds its
nearest-station index once. Who may call them is decided by the caller through the scoping helper
(``selectors.station_for_edit``); the services check the data only.

Stations are configuration (AUD-1): every service that changes one — its info, hours, menu, 七有 checklist,
photos and partner organisations (以场地换服务) — writes exactly one ``config.add`` / ``config.change`` /
``config.delete`` audit row in the same transaction as the write, naming the changed fields, never their
values. A refused call (``StationError``) writes nothing and records nothing; a call that changes nothing
(the same values again, removing what is not there) records nothing either.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from linli.accounts.models import User
from linli.catalog.models import ServiceItem
from linli.places.geometry import GeometryError, validate_lat_lng
from linli.places.models import Region
from linli.security.audit import audit_record
from linli.security.models import AuditResult
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


def _audit(
    verb: str,
    obj: models.Model,
    *,
    station_id: int,
    actor: User | None,
    request: HttpRequest | None,
    fields: Sequence[str],
    **extra: Any,
) -> None:
    """One ``config.<verb>`` row for a change to a station's configuration, inside the caller's transaction
    (the change and its row commit or roll back together). ``fields`` names what changed, never values;
    ``extra`` only identifies the line (a catalogue code, a 七有 item key), never personal data."""
    audit_record(
        action=f"config.{verb}",
        actor=actor,
        obj=obj,
        result=AuditResult.OK,
        data={"via": "stations", "station_id": station_id, "fields": list(fields), **extra},
        request=request,
    )


def _changed(row: Any, values: dict[str, Any]) -> list[str]:
    """The names in ``values`` whose value differs from ``row``'s, in ``values``' order."""
    return [name for name, value in values.items() if getattr(row, name) != value]


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
    actor: User | None = None,
    request: HttpRequest | None = None,
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
            _audit("add", station, station_id=station.pk, actor=actor, request=request, fields=STATION_FIELDS)
    except IntegrityError as exc:
        if Station.objects.filter(code=code).exists():
            raise StationError("duplicate_code", f"编码 {code} 已被使用") from exc
        raise
    return station


# What a new station's audit row names (every field set at creation).
STATION_FIELDS = (
    "code",
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
)

# Fields staff may change with station_update (kind and region change the scope: region_path follows).
EDITABLE_FIELDS = frozenset(STATION_FIELDS) - {"code"}


def station_update(
    *,
    station: Station,
    changes: dict[str, Any],
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> Station:
    """Change the station's info; only the fields whose value differs are saved and audited."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise StationError("invalid_field", f"不能修改的字段:{', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = _locked(station)
        values = {
            name: value.strip() if isinstance(value, str) else value
            for name, value in sorted(changes.items())
        }
        changed = _changed(locked, values)
        if not changed:
            return locked
        for name in changed:
            setattr(locked, name, values[name])
        if not locked.name or not locked.address:
            raise StationError("missing_field", "名称和地址不能为空")
        _check_point(locked.lat, locked.lng)
        _check_region(locked.kind, locked.region)
        _check_areas(locked.office_area_m2, locked.public_area_m2)
        locked.region_path = locked.region.path
        locked.save(update_fields=[*changed, "region_path", "updated_at"])
        station_index_bump()
        _audit("change", locked, station_id=locked.pk, actor=actor, request=request, fields=changed)
    return locked


def station_hours_replace(
    *,
    station: Station,
    periods: Sequence[Period],
    is_24h: bool | None = None,
    open_on_holidays: bool | None = None,
    hours_note: str | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> list[OpeningPeriod]:
    """Replace all opening periods at once (a week is edited as a whole, so overlaps are checked whole).
    One ``config.change`` row on the station names ``periods`` and the flags that changed."""
    try:
        ordered = validate_periods(periods)
    except HoursError as exc:
        raise StationError(exc.code, exc.message) from exc
    with transaction.atomic():
        locked = _locked(station)
        current = list(OpeningPeriod.objects.filter(station=locked).order_by("weekday", "opens", "closes"))
        flags = {
            name: value
            for name, value in (
                ("is_24h", is_24h),
                ("open_on_holidays", open_on_holidays),
                ("hours_note", hours_note),
            )
            if value is not None
        }
        changed = _changed(locked, flags)
        same_periods = [(p.weekday, p.opens, p.closes) for p in current] == [
            (p.weekday, p.opens, p.closes) for p in ordered
        ]
        if same_periods and not changed:
            return current
        for name in changed:
            setattr(locked, name, flags[name])
        locked.save(update_fields=[*changed, "updated_at"])
        rows = current
        if not same_periods:
            OpeningPeriod.objects.filter(station=locked).delete()
            rows = OpeningPeriod.objects.bulk_create(
                [
                    OpeningPeriod(station=locked, weekday=p.weekday, opens=p.opens, closes=p.closes)
                    for p in ordered
                ]
            )
            changed.insert(0, "periods")
        station_index_bump()
        _audit("change", locked, station_id=locked.pk, actor=actor, request=request, fields=changed)
    return rows


def station_menu_set(
    *,
    station: Station,
    item: ServiceItem,
    tier: str = MenuTier.BASIC,
    note: str = "",
    sort_order: int = 100,
    is_active: bool = True,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> StationService:
    """Add a catalogue item to the menu (``config.add``), or change its line (``config.change`` naming the
    changed fields; the same values again change and record nothing)."""
    if tier not in MenuTier.values:
        raise StationError("invalid_tier", f"未知的菜单层次:{tier}")
    if not item.is_active:
        raise StationError("unknown_service", f"服务事项“{item.name}”已停用")
    values = {"tier": tier, "note": note.strip(), "sort_order": sort_order, "is_active": is_active}
    with transaction.atomic():
        locked = _locked(station)
        line = StationService.objects.filter(station=locked, item=item).first()
        if line is None:
            line = StationService.objects.create(station=locked, item=item, **values)
            verb, fields = "add", ["item", *values]
        else:
            fields = _changed(line, values)
            if not fields:
                return line
            for name in fields:
                setattr(line, name, values[name])
            line.save(update_fields=[*fields, "updated_at"])
            verb = "change"
        station_index_bump()
        _audit(verb, line, station_id=locked.pk, actor=actor, request=request, fields=fields, item=item.code)
    return line


def station_menu_remove(
    *,
    station: Station,
    item: ServiceItem,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> bool:
    """Take ``item`` off the menu (False when it is not on it: nothing changed, nothing audited)."""
    with transaction.atomic():
        locked = _locked(station)
        line = StationService.objects.filter(station=locked, item=item).first()
        if line is None:
            return False
        _audit("delete", line, station_id=locked.pk, actor=actor, request=request, fields=(), item=item.code)
        line.delete()
        station_index_bump()
    return True


def station_menu_apply_basic(
    *, station: Station, actor: User | None = None, request: HttpRequest | None = None
) -> int:
    """Put every active basic catalogue item on the menu (the "1" of "1+N"); returns lines added. One
    ``config.change`` row on the station names the ``menu`` and the catalogue codes added."""
    with transaction.atomic():
        locked = _locked(station)
        have = set(StationService.objects.filter(station=locked).values_list("item_id", flat=True))
        basics = list(ServiceItem.objects.filter(basic=True, is_active=True).exclude(id__in=have))
        if not basics:
            return 0
        rows = StationService.objects.bulk_create(
            [
                StationService(station=locked, item=item, tier=MenuTier.BASIC, sort_order=item.sort_order)
                for item in basics
            ]
        )
        station_index_bump()
        _audit(
            "change",
            locked,
            station_id=locked.pk,
            actor=actor,
            request=request,
            fields=["menu"],
            added=sorted(item.code for item in basics),
        )
    return len(rows)


def station_checklist_set(
    *,
    station: Station,
    item: str,
    met: bool,
    evidence: str = "",
    photo: StationPhoto | None = None,
    user: User | None = None,
    request: HttpRequest | None = None,
) -> StationChecklist:
    """Record one 七有 item as checked by ``user`` (also the audit row's actor): ``config.add`` the first
    time, then ``config.change`` naming what changed (a re-check with the same result names ``checked_at``)."""
    if item not in ChecklistItem.values:
        raise StationError("invalid_checklist_item", f"“七有”中没有这一项:{item}")
    if photo is not None and photo.station_id != station.pk:
        raise StationError("photo_not_of_station", "佐证照片必须是本阵地的照片")
    if met and not evidence.strip() and photo is None:
        raise StationError("evidence_required", "标记为已达标时请填写佐证说明或选择佐证照片")
    values: dict[str, Any] = {"met": met, "evidence": evidence.strip(), "photo": photo, "checked_by": user}
    with transaction.atomic():
        locked = _locked(station)
        row = StationChecklist.objects.filter(station=locked, item=item).first()
        if row is None:
            row = StationChecklist.objects.create(
                station=locked, item=item, checked_at=timezone.now(), **values
            )
            verb, fields = "add", ["item", *values, "checked_at"]
        else:
            fields = [*_changed(row, values), "checked_at"]
            for name in fields[:-1]:
                setattr(row, name, values[name])
            row.checked_at = timezone.now()
            row.save(update_fields=[*fields, "updated_at"])
            verb = "change"
        _audit(verb, row, station_id=locked.pk, actor=user, request=request, fields=fields, item=item)
    return row


# What a new photo's audit row names.
PHOTO_FIELDS = ("file", "caption", "width", "height", "sort_order", "uploaded_by")


def station_photo_add(
    *,
    station: Station,
    file: Any,
    caption: str = "",
    user: User | None = None,
    sort_order: int = 100,
    request: HttpRequest | None = None,
) -> StationPhoto:
    """Ingest (checked, re-encoded, EXIF/GPS stripped) outside the transaction, then record it; one
    ``config.add`` row with ``user`` (the uploader) as the actor. A refused upload records nothing."""
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
        _audit("add", photo, station_id=locked.pk, actor=user, request=request, fields=PHOTO_FIELDS)
    return photo


def station_photo_delete(
    *,
    station: Station,
    photo_id: int,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> bool:
    """Remove a photo of ``station`` (False when it is not one: nothing changed, nothing audited). A 七有
    row that cited it as evidence keeps its text and loses the photo. The file leaves storage after the
    commit. An ``actor`` who may not edit the station gets ``ScopeDenied`` (a 404, audited as a denial),
    as the pages and the API answer for a station outside the scope."""
    from django.core.files.storage import default_storage

    from linli.security.denials import ScopeDenied
    from linli.stations.selectors import station_may_edit

    if actor is not None and not station_may_edit(user=actor, station=station):
        raise ScopeDenied(object_type="stations.station", object_id=station.pk)
    with transaction.atomic():
        locked = _locked(station)
        photo = StationPhoto.objects.filter(pk=photo_id, station=locked).first()
        if photo is None:
            return False
        name = photo.file
        _audit("delete", photo, station_id=locked.pk, actor=actor, request=request, fields=())
        photo.delete()
        # The file goes only once the row is gone for good.
        transaction.on_commit(lambda: default_storage.delete(name))
    return True


# What a partner row's audit entry names (the fields, never their values: AUD-1).
PARTNER_FIELDS = ("name", "kind", "services", "space", "since", "until", "is_active")


def _audit_partner(
    verb: str, row: StationPartner, actor: User | None, request: HttpRequest | None, fields: Sequence[str]
) -> None:
    """A partner is configuration of the station (以场地换服务): one ``config.*`` row per change."""
    _audit(verb, row, station_id=row.station_id, actor=actor, request=request, fields=fields)


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
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> StationPartner:
    """Create a partner (以场地换服务), or update ``partner`` when given; audited as configuration."""
    if kind not in PartnerKind.values:
        raise StationError("invalid_partner_kind", f"未知的共建单位类型:{kind}")
    if not name.strip() or not services.strip():
        raise StationError("missing_field", "共建单位名称和提供的服务不能为空")
    if len(name.strip()) > 100 or len(services.strip()) > 200 or len(space.strip()) > 100:
        raise StationError("field_too_long", "名称最多100字,提供的服务最多200字,场地最多100字")
    if since and until and until < since:
        raise StationError("invalid_dates", "合作结束日期不能早于开始日期")
    if partner is not None and partner.station_id != station.pk:
        raise StationError("partner_not_of_station", "该共建单位不属于本阵地")
    values = {
        "name": name.strip(),
        "kind": kind,
        "services": services.strip(),
        "space": space.strip(),
        "since": since,
        "until": until,
        "is_active": is_active,
    }
    with transaction.atomic():
        locked = _locked(station)
        if partner is None:
            row = StationPartner(station=locked, **values)
            row.save()
            _audit_partner("add", row, actor, request, PARTNER_FIELDS)
            return row
        # Re-read under the station lock: another editor may have changed or removed it meanwhile.
        found = StationPartner.objects.filter(pk=partner.pk, station=locked).first()
        if found is None:
            raise StationError("partner_not_of_station", "该共建单位不属于本阵地或已被移除")
        changed = [f for f in PARTNER_FIELDS if getattr(found, f) != values[f]]
        if changed:
            for field in changed:
                setattr(found, field, values[field])
            found.save(update_fields=[*changed, "updated_at"])
            _audit_partner("change", found, actor, request, changed)
    return found


def station_partner_delete(
    *,
    station: Station,
    partner_id: int,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> bool:
    """Remove a partner of ``station`` (False when it is not one: nothing changed, nothing audited).
    A partnership that merely ended is better kept with ``is_active=False`` and an end date."""
    with transaction.atomic():
        locked = _locked(station)
        row = StationPartner.objects.filter(pk=partner_id, station=locked).first()
        if row is None:
            return False
        _audit_partner("delete", row, actor, request, ())
        row.delete()
    return True
