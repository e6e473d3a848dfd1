"""Where a case is: from a point (the grid locator), a building (QR code), a chosen community, or nothing.

Decision for text-only reports: an address without a point may name a building or a community (the
resident picks it, or it comes from the QR code); the case is then placed there without a grid. With
neither, it is placed on the district only (level blank): the district dispatcher locates it at triage.
"""

from __future__ import annotations

from dataclasses import dataclass

from linli.cases.errors import CaseError
from linli.cases.routing import path_prefixes
from linli.places.locator import LocateError, get_locator
from linli.places.models import Level, Region


@dataclass(frozen=True)
class CaseLocation:
    lat: float | None
    lng: float | None
    building_id: int | None
    grid_id: int | None
    estate_id: int | None
    community_id: int | None
    street_id: int | None
    district_id: int
    region_path: str
    snapped: bool = False

    def fields(self) -> dict[str, object]:
        return {
            "lat": self.lat,
            "lng": self.lng,
            "building_id": self.building_id,
            "grid_id": self.grid_id,
            "estate_id": self.estate_id,
            "community_id": self.community_id,
            "street_id": self.street_id,
            "district_id": self.district_id,
            "region_path": self.region_path,
        }


def _chain(region: Region) -> dict[str, Region]:
    """The region and every ancestor, by level (one query)."""
    rows = Region.objects.filter(path__in=path_prefixes(region.path)).only("id", "level", "path", "grid_id")
    return {r.level: r for r in rows}


def _from_region(
    region: Region, *, lat: float | None, lng: float | None, grid_id: int | None
) -> CaseLocation:
    chain = _chain(region)
    deepest = (
        chain.get(Level.ESTATE)
        or chain.get(Level.COMMUNITY)
        or chain.get(Level.STREET)
        or chain[Level.DISTRICT]
    )
    return CaseLocation(
        lat=lat,
        lng=lng,
        building_id=chain[Level.BUILDING].pk if Level.BUILDING in chain else None,
        grid_id=grid_id,
        estate_id=chain[Level.ESTATE].pk if Level.ESTATE in chain else None,
        community_id=chain[Level.COMMUNITY].pk if Level.COMMUNITY in chain else None,
        street_id=chain[Level.STREET].pk if Level.STREET in chain else None,
        district_id=chain[Level.DISTRICT].pk,
        region_path=deepest.path,
    )


def case_location_resolve(
    *,
    lat: float | None = None,
    lng: float | None = None,
    building_id: int | None = None,
    community_id: int | None = None,
    district_id: int | None = None,
) -> CaseLocation:
    """Resolve the place of a new case. Raises CaseError ``outside_jurisdiction``, ``location_required``..."""
    if (lat is None) != (lng is None):
        raise CaseError("invalid_coordinates", "经纬度需同时提供")
    if building_id is not None:
        building = Region.objects.filter(pk=building_id, level=Level.BUILDING).first()
        if building is None:
            raise CaseError("unknown_building", "楼栋不存在")
        if lat is None and building.lat is not None:
            lat, lng = building.lat, building.lng
        return _from_region(building, lat=lat, lng=lng, grid_id=building.grid_id)
    if lat is not None and lng is not None:
        try:
            loc = get_locator().locate(lat, lng)
        except LocateError as exc:
            raise CaseError(exc.code, exc.message) from exc
        estate = loc.estate
        # The locator carries each region's path: placing a point costs no query.
        region_path = estate.path if estate is not None else loc.community.path
        return CaseLocation(
            lat=lat,
            lng=lng,
            building_id=None,
            grid_id=loc.grid.id,
            estate_id=estate.id if estate else None,
            community_id=loc.community.id,
            street_id=loc.street.id,
            district_id=loc.district.id,
            region_path=region_path,
            snapped=loc.snapped,
        )
    if community_id is not None:
        community = Region.objects.filter(pk=community_id, level=Level.COMMUNITY).first()
        if community is None:
            raise CaseError("unknown_community", "社区不存在")
        return _from_region(community, lat=None, lng=None, grid_id=None)
    districts = Region.objects.filter(level=Level.DISTRICT)
    if district_id is not None:
        districts = districts.filter(pk=district_id)
    found = list(districts[:2])
    if len(found) != 1:
        raise CaseError("location_required", "请在地图上选择位置,或选择所在社区")
    return _from_region(found[0], lat=None, lng=None, grid_id=None)
