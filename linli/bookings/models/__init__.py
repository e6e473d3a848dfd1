"""Models of appointments, window records, 代办, rooms and tools. Import them from here."""

from linli.bookings.models.agency import STEP_ORDER, AgencyDetail, AgencyEvent, AgencyStep
from linli.bookings.models.appointments import (
    APPOINTMENT_CATEGORY,
    HOLDS_PLACE,
    OPEN_STATUSES,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    QueueCounter,
    Slot,
)
from linli.bookings.models.common import EventBase, StatusCategory
from linli.bookings.models.resources import (
    HOLDS_ROOM,
    LOAN_CATEGORY,
    ROOM_BOOKING_CATEGORY,
    LoanStatus,
    Resource,
    ResourceKind,
    RoomBooking,
    RoomBookingEvent,
    RoomBookingStatus,
    ToolLoan,
    ToolLoanEvent,
)
from linli.bookings.models.window import MINUTES_MAX, Outcome, ServiceRecord

__all__ = [
    "APPOINTMENT_CATEGORY",
    "HOLDS_PLACE",
    "HOLDS_ROOM",
    "LOAN_CATEGORY",
    "MINUTES_MAX",
    "OPEN_STATUSES",
    "ROOM_BOOKING_CATEGORY",
    "STEP_ORDER",
    "AgencyDetail",
    "AgencyEvent",
    "AgencyStep",
    "Appointment",
    "AppointmentEvent",
    "AppointmentStatus",
    "EventBase",
    "LoanStatus",
    "Outcome",
    "QueueCounter",
    "Resource",
    "ResourceKind",
    "RoomBooking",
    "RoomBookingEvent",
    "RoomBookingStatus",
    "ServiceRecord",
    "Slot",
    "StatusCategory",
    "ToolLoan",
    "ToolLoanEvent",
]
