"""Writes of bookings, one function per use case (keyword-only, typed). Import them from here."""

from linli.bookings.services.agency import agency_request, agency_step
from linli.bookings.services.appointments import (
    MAX_OPEN_PER_PERSON,
    RemindReport,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_reschedule,
    appointments_remind,
    appointments_sweep_no_show,
)
from linli.bookings.services.resources import (
    loan_extend,
    loan_return,
    loans_sweep_overdue,
    resource_create,
    room_book,
    room_booking_cancel,
    room_booking_decide,
    tool_lend,
)
from linli.bookings.services.slots import (
    SlotsGenerated,
    slot_capacity_set,
    slot_close,
    slot_create,
    slots_generate,
)
from linli.bookings.services.window import service_record_create

__all__ = [
    "MAX_OPEN_PER_PERSON",
    "RemindReport",
    "SlotsGenerated",
    "agency_request",
    "agency_step",
    "appointment_book",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_reschedule",
    "appointments_remind",
    "appointments_sweep_no_show",
    "loan_extend",
    "loan_return",
    "loans_sweep_overdue",
    "resource_create",
    "room_book",
    "room_booking_cancel",
    "room_booking_decide",
    "service_record_create",
    "slot_capacity_set",
    "slot_close",
    "slot_create",
    "slots_generate",
    "tool_lend",
]
