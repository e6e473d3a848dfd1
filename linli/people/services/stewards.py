"""Writes to the steward registry: register an applicant, edit their card, their buildings and photo.
Status changes go through ``people.transitions.steward_transition``. The caller has checked
``stewards.manage`` scope; these check state and that buildings and grids lie in the steward's community."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.people.errors import PeopleError
from linli.people.identity import clean_name
from linli.people.models import Steward, StewardEvent, StewardKind, StewardStatus
from linli.people.uploads import uploads_delete
from linli.places.models import Grid, Level, Region
from linli.security.uploads import UploadError, upload_ingest
from linli.security.validation import IdentifierError, phone_validate

DUTY_MAX = 200


def _duty_phone(value: str) -> str:
    if not (value or "").strip():
        return ""
    try:
        return phone_validate(value)
    except IdentifierError as exc:
        raise PeopleError(exc.code, exc.message) from exc


def _check_grid(grid: Grid | None, community: Region) -> None:
    if grid is not None and grid.community_id != community.pk:
        raise PeopleError("grid_out_of_community", _("网格不属于该社区"))


def steward_register(
    *,
    actor: User | None,
    kind: str,
    name: str,
    community: Region,
    duty: str,
    duty_phone: str = "",
    organisation: str = "",
    grid: Grid | None = None,
    user: User | None = None,
    note: str = "",
) -> Steward:
    """A recruit or volunteer enters the registry as "applied" (one history row)."""
    if kind not in StewardKind.values:
        raise PeopleError("kind_invalid", _("无法识别的小管家类型"))
    if community.level != Level.COMMUNITY:
        raise PeopleError("not_a_community", _("请选择所属社区"))
    _check_grid(grid, community)
    duty = (duty or "").strip()
    if not duty or len(duty) > DUTY_MAX:
        raise PeopleError("duty_required", _("请填写职责(不超过200字)"))
    with transaction.atomic():
        steward = Steward.objects.create(
            kind=kind,
            name=clean_name(name),
            community=community,
            region_path=community.path,
            grid=grid,
            duty=duty,
            duty_phone=_duty_phone(duty_phone),
            organisation=(organisation or "").strip()[:100],
            user=user,
            status=StewardStatus.APPLIED,
            status_changed_at=timezone.now(),
        )
        StewardEvent.objects.create(
            steward=steward,
            action="apply",
            from_status="",
            to_status=StewardStatus.APPLIED,
            note=note[:200],
            actor=actor,
        )
    return steward


def steward_update(*, steward_id: int, changes: dict[str, Any]) -> Steward:
    """Edit the card: name, duty, duty phone, organisation, grid."""
    allowed = {"name", "duty", "duty_phone", "organisation", "grid"}
    unknown = set(changes) - allowed
    if unknown:
        raise PeopleError(
            "field_not_editable", _("不能修改这些字段:%(f)s") % {"f": "、".join(sorted(unknown))}
        )
    with transaction.atomic():
        steward = (
            Steward.objects.select_for_update().select_related("community").filter(pk=steward_id).first()
        )
        if steward is None:
            raise PeopleError("not_found", _("对象不存在或无权访问"), status=404)
        if "name" in changes:
            steward.name = clean_name(changes["name"])
        if "duty" in changes:
            duty = (changes["duty"] or "").strip()
            if not duty or len(duty) > DUTY_MAX:
                raise PeopleError("duty_required", _("请填写职责(不超过200字)"))
            steward.duty = duty
        if "duty_phone" in changes:
            steward.duty_phone = _duty_phone(changes["duty_phone"])
        if "organisation" in changes:
            steward.organisation = (changes["organisation"] or "").strip()[:100]
        if "grid" in changes:
            _check_grid(changes["grid"], steward.community)
            steward.grid = changes["grid"]
        steward.save()
    return steward


def steward_buildings_set(*, steward_id: int, building_ids: Iterable[int]) -> Steward:
    """The buildings whose 三亮 card shows this steward (all inside the steward's community)."""
    ids = sorted(set(building_ids))
    with transaction.atomic():
        steward = Steward.objects.select_for_update().filter(pk=steward_id).first()
        if steward is None:
            raise PeopleError("not_found", _("对象不存在或无权访问"), status=404)
        buildings = list(
            Region.objects.filter(pk__in=ids, level=Level.BUILDING, path__startswith=steward.region_path)
        )
        if len(buildings) != len(ids):
            raise PeopleError("building_out_of_community", _("只能选择本社区的楼栋"))
        steward.buildings.set(buildings)
    return steward


def steward_photo_set(*, steward_id: int, file: bytes | IO[bytes]) -> Steward:
    """Replace the card photo (cleaned by the upload pipeline before the transaction)."""
    try:
        stored = upload_ingest(file, purpose="steward", max_edge=800)
    except UploadError as exc:
        raise PeopleError(exc.code, exc.message) from exc
    try:
        with transaction.atomic():
            steward = Steward.objects.select_for_update().filter(pk=steward_id).first()
            if steward is None:
                raise PeopleError("not_found", _("对象不存在或无权访问"), status=404)
            old = steward.photo
            steward.photo = stored.name
            steward.save(update_fields=["photo", "updated_at"])
            if old:
                transaction.on_commit(lambda: uploads_delete([old]))
    except BaseException:
        uploads_delete([stored.name])
        raise
    return steward
