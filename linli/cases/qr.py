"""Building QR codes (楼栋二维码): a signed per-building URL, and who the poster names (三亮).

The code on a sticker is ``/cases/q/<token>/`` where the token is the building's code (URL-safe base64)
signed with Django's ``Signer`` (HMAC-SHA256 of ``SECRET_KEY`` with our own salt). Anyone can read the
building code back, nobody without the key can make a token for another building, so a sticker altered
or printed by someone else is refused (``QrError``) instead of filing cases against the wrong building.
Rotating ``SECRET_KEY`` invalidates printed stickers unless the old key stays in ``SECRET_KEY_FALLBACKS``
(documented in docs/cases.md).

Who the poster shows: ``poster_people(building)``, in this order of sources:
1. providers registered with ``poster_people_register`` (the hook for another registry);
2. the people app's 三亮 card (``linli.people.selectors.stewards.building_card``): the building's ACTIVE
   stewards and its grid's ACTIVE grid workers, with their public duty phones shown as the card shows
   them (unmasked by design, landlines formatted for dialling);
3. when the registry names nobody yet, the grid's workers from their grid memberships, by name and
   without a phone (a worker's own mobile is personal data; the public duty phone is the steward record's).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from django.core.signing import BadSignature, Signer
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Role
from linli.places.models import Level, Region

SALT = "linli.cases.building-qr"


class QrError(Exception):
    """A QR token that is not ours (forged, altered, truncated) or names no building any more."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _signer() -> Signer:
    return Signer(salt=SALT)


def building_qr_token(building: Region) -> str:
    """The signed token for one building (stable: the same building always gets the same token)."""
    raw = base64.urlsafe_b64encode(building.code.encode()).rstrip(b"=").decode()
    return _signer().sign(raw)


def building_qr_path(building: Region) -> str:
    return reverse("cases:qr", kwargs={"token": building_qr_token(building)})


def building_code_from_token(token: str) -> str:
    """The building code a token carries, or QrError when the signature does not match."""
    try:
        raw = _signer().unsign(token)
        padded = raw + "=" * (-len(raw) % 4)
        return base64.urlsafe_b64decode(padded.encode()).decode()
    except (BadSignature, binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise QrError("qr_invalid", str(_("二维码无效或已被改动,请扫描楼栋张贴的正式二维码。"))) from exc


def building_from_token(token: str) -> Region:
    """The building of a genuine token (with its chain loaded for the report page)."""
    code = building_code_from_token(token)
    building = (
        Region.objects.filter(code=code, level=Level.BUILDING)
        .select_related("parent", "grid", "grid__community")
        .first()
    )
    if building is None:
        raise QrError("qr_unknown_building", str(_("该楼栋已撤销或合并,请直接填写地址上报。")))
    return building


# --- the 三亮 people on the poster ---------------------------------------------------------------
@dataclass(frozen=True)
class PosterPerson:
    role: str  # 网格员, 红色小管家 ... (亮身份)
    name: str  # full name: 三亮 shows on-duty people by name on purpose
    duty: str = ""  # 亮职责
    organisation: str = ""  # 亮组织
    phone: str = ""  # the public duty phone; blank when not known


PosterPeopleProvider = Callable[[Region], list[PosterPerson]]
_PROVIDERS: list[PosterPeopleProvider] = []


def poster_people_register(provider: PosterPeopleProvider) -> None:
    """The hook for ``linli.people``: call from its ``AppConfig.ready()`` with a function that returns
    the on-duty stewards and grid workers of a building (with duty phones). Registered providers replace
    the membership fallback below."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def poster_people_unregister(provider: PosterPeopleProvider) -> None:
    if provider in _PROVIDERS:
        _PROVIDERS.remove(provider)


def _grid_workers(building: Region) -> list[PosterPerson]:
    """Fallback: the grid's workers from their active grid memberships (names only)."""
    from linli.accounts.models import Membership

    if building.grid_id is None:
        return []
    rows = (
        Membership.objects.filter(role=Role.GRID_WORKER, grid_id=building.grid_id, is_active=True)
        .select_related("user")
        .order_by("user__display_name", "user_id")
    )
    return [
        PosterPerson(role=str(Role.GRID_WORKER.label), name=str(m.user), duty=str(_("网格内诉求受理与走访")))
        for m in rows
        if m.user.is_active
    ]


def _people_registry(building: Region) -> list[PosterPerson]:
    """The 三亮 card of the people app (active stewards only: their card is public by design)."""
    try:
        from linli.people.presenters import duty_phone_display
        from linli.people.selectors.stewards import building_card
    except ImportError:  # the people app is optional for the cases screens
        return []
    card = building_card(building.code)
    if card is None:
        return []
    return [
        PosterPerson(
            role=steward.get_kind_display(),
            name=steward.name,
            duty=steward.duty,
            organisation=steward.organisation,
            phone=duty_phone_display(steward.duty_phone or ""),  # as the 三亮 card shows it: unmasked
        )
        for steward in [*card.grid_workers, *card.stewards]
    ]


def poster_people(building: Region) -> list[PosterPerson]:
    """The 三亮 people of a building: the people registry's card (stewards and grid workers with their duty
    phones); where the registry names no grid worker for the grid, the grid's workers from their
    memberships (names only) — a poster never goes without its grid worker."""
    if _PROVIDERS:
        return [person for provider in _PROVIDERS for person in provider(building)]
    registry = _people_registry(building)
    grid_worker = str(Role.GRID_WORKER.label)
    if any(person.role == grid_worker for person in registry):
        return registry
    return [*_grid_workers(building), *registry]
