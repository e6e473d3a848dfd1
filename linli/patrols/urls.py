from django.urls import path

from linli.patrols import views

app_name = "patrols"
urlpatterns = [
    path("", views.patrol_list, name="list"),
    path("record/", views.record, name="record"),
    path("coverage/", views.coverage, name="coverage"),
    path("<int:patrol_id>/", views.patrol_detail, name="detail"),
]
