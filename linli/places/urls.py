from django.urls import path

from linli.places import views

app_name = "places"
urlpatterns = [
    path("map/", views.district_map, name="map"),
]
