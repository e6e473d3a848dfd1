"""Who may act on a bookings row: the actor's relations to it, computed through the scoping helper.

The transition tables name, per action, which relations may perform it (owner, staff, system); this module
answers which relations a user has to one row. Staff relations need the capability anchored at a region
containing the row's station (or, for 代办, the row's grid): a community's window staff act on their own
stations' appointments only; for everyone else the row does not exist (404).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from linli.accounts.roles import Capability
from linli.core.scoping import scope_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from linli.accounts.models import User
    from linli.bookings.models import AgencyDetail, Appointment, RoomBooking, ToolLoan

    UserLike = User | AnonymousUser | None


class Who(StrEnum):
    OWNER = "owner"  # the resident the row belongs to (booked it, borrows it, the errand is for them)
    STAFF = "staff"  # holds the managing capability over the row's station or grid
    SYSTEM = "system"  # a sweep (no-show); never a person


def _signed_in(user: UserLike) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def staff_covers(user: UserLike, capability: str, region_path: str, grid_id: int | None = None) -> bool:
    """Whether ``user`` holds ``capability`` over a row at ``region_path`` (or in grid ``grid_id``)."""
    if not _signed_in(user):
        return False
    scope = scope_for(user, capability)
    if scope.is_global or any(region_path.startswith(p) for p in scope.region_paths):
        return True
    return grid_id is not None and grid_id in scope.grid_ids


def may_manage_station(user: UserLike, region_path: str) -> bool:
    return staff_covers(user, Capability.BOOKINGS_MANAGE, region_path)


def _relations(user: UserLike, owner_ids: tuple[int | None, ...], staff: bool) -> frozenset[Who]:
    if not _signed_in(user):
        return frozenset()
    assert user is not None
    rel: set[Who] = set()
    if user.pk in owner_ids:
        rel.add(Who.OWNER)
    if staff:
        rel.add(Who.STAFF)
    return frozenset(rel)


def appointment_relations(user: UserLike, appointment: Appointment) -> frozenset[Who]:
    return _relations(user, (appointment.resident_id,), may_manage_station(user, appointment.region_path))


def room_booking_relations(user: UserLike, booking: RoomBooking) -> frozenset[Who]:
    return _relations(user, (booking.booked_by_id,), may_manage_station(user, booking.region_path))


def loan_relations(user: UserLike, loan: ToolLoan) -> frozenset[Who]:
    return _relations(user, (loan.borrower_id,), may_manage_station(user, loan.region_path))


def agency_relations(user: UserLike, detail: AgencyDetail) -> frozenset[Who]:
    staff = staff_covers(user, Capability.BOOKINGS_AGENCY, detail.case.region_path, detail.grid_id)
    return _relations(user, (detail.on_behalf_of_id, detail.requested_by_id), staff)
