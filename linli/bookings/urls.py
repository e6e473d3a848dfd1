from django.urls import path

from linli.bookings.views import agency, desk, resident, resources

app_name = "bookings"
urlpatterns = [
    # residents (mobile-first)
    path("", resident.book, name="book"),
    path("confirm/", resident.book_confirm, name="book_confirm"),
    path("mine/", resident.mine, name="mine"),
    path("mine/<int:appointment_id>/cancel/", resident.cancel, name="cancel"),
    path("mine/<int:appointment_id>/reschedule/", resident.reschedule, name="reschedule"),
    path("agency/new/", agency.agency_new, name="agency_new"),
    path("agency/", agency.agency_mine, name="agency_mine"),
    path("stations/<int:station_id>/rooms/", resources.rooms, name="rooms"),
    path("rooms/mine/", resources.rooms_mine, name="rooms_mine"),
    path("rooms/bookings/<int:booking_id>/cancel/", resources.room_booking_cancel_view, name="room_cancel"),
    # staff (desktop workbench)
    path("desk/", desk.desk, name="desk"),
    path("desk/<int:station_id>/", desk.desk_station, name="desk_station"),
    path("desk/<int:station_id>/check-in/<int:appointment_id>/", desk.check_in, name="check_in"),
    path("desk/<int:station_id>/record/", desk.record, name="record"),
    path("desk/<int:station_id>/slots/", desk.generate, name="generate"),
    path("desk/<int:station_id>/export.csv", desk.export, name="export"),
    path("agency/desk/", agency.agency_desk, name="agency_desk"),
    path("agency/desk/<int:detail_id>/step/", agency.agency_step_view, name="agency_step"),
    path("resources/", resources.resources_desk, name="resources_desk"),
    path("resources/add/", resources.resource_add, name="resource_add"),
    path("resources/bookings/<int:booking_id>/decide/", resources.room_decide, name="room_decide"),
    path("resources/tools/<int:resource_id>/lend/", resources.lend, name="lend"),
    path("resources/loans/<int:loan_id>/return/", resources.give_back, name="loan_return"),
]
