from django.urls import path

from linli.stations import views

app_name = "stations"
urlpatterns = [
    path("", views.nearby, name="nearby"),
    path("<int:station_id>/", views.detail, name="detail"),
    path("<int:station_id>/photos/<int:photo_id>", views.photo, name="photo"),
    path("manage/", views.manage, name="manage"),
    path("manage/<int:station_id>/", views.edit, name="edit"),
    path("coverage/", views.coverage, name="coverage"),
]
