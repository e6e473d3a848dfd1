"""Input checks and scoped loads shared by the needs services (every refusal is a NeedsError)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import Model, QuerySet
from django.utils import timezone

from linli.needs.errors import NeedsError, not_found
from linli.needs.permissions import manage_q, pool_q
from linli.places.models import Level, Region
from linli.security.masking import mask_text
from linli.security.validation import IdentifierError, phone_validate

if TYPE_CHECKING:
    from linli.accounts.models import User


def text(value: Any, *, label: str, max_length: int, required: bool = False) -> str:
    cleaned = str(value or "").strip()
    if required and not cleaned:
        raise NeedsError("required", f"请填写{label}")
    if len(cleaned) > max_length:
        raise NeedsError("too_long", f"{label}不能超过{max_length}字")
    return cleaned


def public_text(value: Any, *, label: str, max_length: int, required: bool = False) -> str:
    """Text shown on the public page: refuse phone and ID numbers in it (PI-2 on the public side)."""
    cleaned = text(value, label=label, max_length=max_length, required=required)
    if mask_text(cleaned) != cleaned:
        raise NeedsError("personal_data_in_public_text", f"{label}将公开展示,请勿填写电话号码或身份证号")
    return cleaned


def choice(value: Any, choices: type[Any], *, label: str) -> str:
    if value not in choices.values:
        raise NeedsError(f"invalid_{label}", f"{label}取值不正确:{value}")
    return str(value)


def number(value: Any, *, label: str, low: int, high: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError) as exc:
        raise NeedsError("invalid_number", f"{label}必须是整数") from exc
    if not low <= n <= high:
        raise NeedsError("out_of_range", f"{label}应在{low}到{high}之间")
    return n


def phone(value: Any) -> str:
    raw = str(value or "").strip()
    if not raw:
        return ""
    try:
        return phone_validate(raw)
    except IdentifierError as exc:
        raise NeedsError("invalid_phone", exc.message) from exc


def past_or_today(value: dt.date | None, *, label: str) -> dt.date:
    today = timezone.localdate()
    if value is None:
        return today
    if value > today:
        raise NeedsError("date_in_future", f"{label}不能晚于今天")
    return value


def managed_region(actor: User, region_id: Any, *, levels: tuple[str, ...], noun: str = "区域") -> Region:
    """A region of one of ``levels`` inside the actor's ``needs.manage`` scope, else 404 / 400."""
    q = manage_q(actor, field="path")
    region = None if q is None else Region.objects.filter(q, pk=as_id(region_id)).first()
    if region is None:
        raise not_found(noun)
    if region.level not in levels:
        names = "、".join(str(Level(level).label) for level in levels)
        raise NeedsError("invalid_region_level", f"请选择{names}")
    return region


def scoped_row(qs: QuerySet[Any], actor: User, row_id: Any, *, noun: str, pool: bool = False) -> Any:
    """A row in the actor's manage scope (``pool``: in the shared pool instead), else 404."""
    q = pool_q(actor) if pool else manage_q(actor)
    row: Model | None = None if q is None else qs.filter(q, pk=as_id(row_id)).first()
    if row is None:
        raise not_found(noun)
    return row


def as_id(value: Any) -> int:
    """A primary key from input; 0 (no row has it) when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
