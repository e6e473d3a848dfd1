"""Writes of the resources list: register a resource (from an organisation, volunteers or a station) and
edit it. Capacity edits keep what accepted matches reserved: remaining moves by the same difference and
may not go below zero."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from linli.needs.errors import NeedsError, not_found
from linli.needs.models import CapacityUnit, Category, Organisation, ProviderKind, Resource, ResourceKind
from linli.needs.permissions import pool_q
from linli.needs.services.common import as_id, choice, managed_region, number, phone, scoped_row, text
from linli.places.geometry import GeometryError, validate_lat_lng
from linli.places.models import Level

if TYPE_CHECKING:
    from linli.accounts.models import User

CAPACITY_MAX = 1_000_000
RESOURCE_LEVELS = (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.ESTATE)


def _point(lat: Any, lng: Any) -> tuple[float | None, float | None]:
    if lat in (None, "") and lng in (None, ""):
        return None, None
    try:
        flat, flng = float(lat), float(lng)
        validate_lat_lng(flat, flng)
    except (TypeError, ValueError) as exc:
        raise NeedsError("invalid_coordinates", "经纬度应同时填写且为数字") from exc
    except GeometryError as exc:
        raise NeedsError(exc.code, exc.message) from exc
    return flat, flng


def _period(valid_from: dt.date | None, valid_until: dt.date | None) -> tuple[dt.date, dt.date | None]:
    start = valid_from or timezone.localdate()
    if valid_until is not None and valid_until < start:
        raise NeedsError("invalid_period", "有效期结束日期不能早于开始日期")
    return start, valid_until


def resource_create(
    *,
    actor: User,
    name: str,
    kind: str,
    category: str,
    provider_kind: str,
    region_id: int,
    capacity: int,
    capacity_unit: str = CapacityUnit.NEEDS,
    organisation_id: int | None = None,
    station_id: int | None = None,
    provider_name: str = "",
    provider_ref: str = "",
    volunteer_team_id: int | None = None,
    lat: float | None = None,
    lng: float | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    description: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> Resource:
    """Register a resource in a region of the actor's scope.

    Location: as given; else the station's; else (not for funds) the region's point, so distance still
    means something for an organisation's skills or goods. Volunteers: a registered team
    (``volunteer_team_id``, from the pool like organisations) or, for volunteers without one, a name.
    """
    region = managed_region(actor, region_id, levels=RESOURCE_LEVELS)
    provider_kind = choice(provider_kind, ProviderKind, label="提供方类型")
    kind = choice(kind, ResourceKind, label="资源类型")
    organisation = station = team = None
    lat_v, lng_v = _point(lat, lng)
    if volunteer_team_id not in (None, "") and provider_kind != ProviderKind.VOLUNTEERS:
        raise NeedsError("team_needs_volunteers", "只有提供方类型为志愿者时才能选择志愿服务队")
    if provider_kind == ProviderKind.ORGANISATION:
        q = pool_q(actor)
        organisation = (
            None if q is None else Organisation.objects.filter(q, pk=as_id(organisation_id)).first()
        )
        if organisation is None:
            raise not_found("组织")
        if not organisation.is_active:
            raise NeedsError("organisation_inactive", "该组织已停用")
        provider_name = organisation.name
    elif provider_kind == ProviderKind.STATION:
        from linli.stations.models import Station

        q = pool_q(actor)
        station = None if q is None else Station.objects.filter(q, pk=as_id(station_id)).first()
        if station is None:
            raise not_found("服务阵地")
        provider_name = station.name
        if lat_v is None:
            lat_v, lng_v = station.lat, station.lng
    elif volunteer_team_id not in (None, ""):
        from linli.party.models import VolunteerTeam

        q = pool_q(actor)
        team = None if q is None else VolunteerTeam.objects.filter(q, pk=as_id(volunteer_team_id)).first()
        if team is None:
            raise not_found("志愿服务队")
        if not team.is_active:
            raise NeedsError("team_inactive", "该志愿服务队已停用")
        provider_name = team.name
    else:
        provider_name = text(provider_name, label="志愿者或服务队名称", max_length=100, required=True)
    if lat_v is None and kind != ResourceKind.FUNDS and region.lat is not None:
        lat_v, lng_v = region.lat, region.lng
    start, until = _period(valid_from, valid_until)
    cap = number(capacity, label="可服务数量", low=1, high=CAPACITY_MAX)
    return Resource.objects.create(
        name=text(name, label="资源名称", max_length=100, required=True),
        description=text(description, label="说明", max_length=2000),
        kind=kind,
        category=choice(category, Category, label="类别"),
        provider_kind=provider_kind,
        organisation=organisation,
        station=station,
        volunteer_team=team,
        provider_name=provider_name,
        provider_ref=text(provider_ref, label="提供方编号", max_length=60),
        region=region,
        region_path=region.path,
        lat=lat_v,
        lng=lng_v,
        capacity=cap,
        capacity_unit=choice(capacity_unit, CapacityUnit, label="数量单位"),
        remaining=cap,
        valid_from=start,
        valid_until=until,
        contact_name=text(contact_name, label="联系人", max_length=50),
        contact_phone=phone(contact_phone),
        created_by=actor,
    )


RESOURCE_EDITABLE_FIELDS = (
    "name", "description", "category", "capacity", "valid_from", "valid_until", "is_active",
    "contact_name", "contact_phone", "lat", "lng",
)  # fmt: skip


def resource_update(*, actor: User, resource_id: int, changes: dict[str, Any]) -> Resource:
    """Edit a resource in the actor's scope. A capacity change keeps the reservations."""
    scoped_row(Resource.objects.all(), actor, resource_id, noun="资源")
    unknown = set(changes) - set(RESOURCE_EDITABLE_FIELDS)
    if unknown:
        raise NeedsError("not_editable", f"不能修改:{'、'.join(sorted(unknown))}")
    with transaction.atomic():
        # The lock orders this edit with concurrent accepts (their UPDATE waits for it).
        resource = Resource.objects.select_for_update().get(pk=resource_id)
        fields: set[str] = set()
        for name, value in changes.items():
            if name == "name":
                resource.name = text(value, label="资源名称", max_length=100, required=True)
            elif name == "description":
                resource.description = text(value, label="说明", max_length=2000)
            elif name == "category":
                resource.category = choice(value, Category, label="类别")
            elif name == "capacity":
                cap = number(value, label="可服务数量", low=1, high=CAPACITY_MAX)
                remaining = resource.remaining + (cap - resource.capacity)
                if remaining < 0:
                    raise NeedsError(
                        "capacity_below_reserved",
                        f"已有 {resource.reserved} 被需求占用,可服务数量不能少于此数",
                        status=409,
                    )
                resource.capacity, resource.remaining = cap, remaining
                fields.add("remaining")
            elif name in ("valid_from", "valid_until"):
                setattr(resource, name, value)
            elif name == "is_active":
                resource.is_active = bool(value)
            elif name == "contact_name":
                resource.contact_name = text(value, label="联系人", max_length=50)
            elif name == "contact_phone":
                resource.contact_phone = phone(value)
            fields.add(name)
        if {"lat", "lng"} & set(changes):
            resource.lat, resource.lng = _point(
                changes.get("lat", resource.lat), changes.get("lng", resource.lng)
            )
            fields |= {"lat", "lng"}
        if resource.valid_from is None:
            raise NeedsError("invalid_period", "请填写有效期开始日期")
        _period(resource.valid_from, resource.valid_until)
        resource.save(update_fields=sorted(fields | {"updated_at"}))
    return resource
