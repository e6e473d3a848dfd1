"""The bookings JSON API, mounted at /api/bookings/ (appointments and the window, 代办, rooms and tools)."""

from ninja import Router

from linli.bookings.api import agency, appointments, resources

router = Router(tags=["bookings"])
router.add_router("", appointments.router)
router.add_router("", agency.router)
router.add_router("", resources.router)
