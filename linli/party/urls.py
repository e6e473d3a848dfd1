from django.urls import path

from linli.party.views import certificates, manage, public, resident

app_name = "party"
urlpatterns = [
    # residents (mobile-first)
    path("checkin/", resident.checkin, name="checkin"),
    path("checkin/<int:check_in_id>/withdraw/", resident.checkin_withdraw_view, name="checkin_withdraw"),
    path("my-hours/", resident.my_hours, name="my_hours"),
    path("certificates/<int:certificate_id>/", certificates.certificate, name="certificate"),
    path("certificates/<int:certificate_id>/pdf/", certificates.certificate_pdf, name="certificate_pdf"),
    # public
    path("teams/", public.teams, name="teams"),
    path("teams/<int:team_id>/", public.team, name="team"),
    path("verify/", public.verify, name="verify"),
    # staff (desktop workbench)
    path("manage/", manage.home, name="home"),
    path("manage/checkins/", manage.checkins, name="checkins"),
    path("manage/checkins/<int:check_in_id>/<slug:action>/", manage.checkin_act, name="checkin_act"),
    path(
        "manage/commitments/<int:commitment_id>/fulfil/",
        manage.commitment_fulfil_view,
        name="commitment_fulfil",
    ),
    path("manage/members/", manage.members, name="members"),
    path("manage/volunteers/", manage.volunteers, name="volunteers"),
    path("manage/volunteers/<int:volunteer_id>/", manage.volunteer, name="volunteer"),
    path(
        "manage/volunteers/<int:volunteer_id>/hours/<int:entry_id>/correct/",
        manage.hours_correct_view,
        name="hours_correct",
    ),
    path(
        "manage/volunteers/<int:volunteer_id>/certificate/",
        manage.certificate_issue_view,
        name="certificate_issue",
    ),
    path("manage/hours/new/", manage.hours_new, name="hours_new"),
]
