from django.urls import path

from linli.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.staff_login, name="login"),
    path("login/phone/", views.phone_login, name="phone_login"),
    path("login/phone/code/", views.phone_code, name="phone_code"),
    path("logout/", views.logout_view, name="logout"),
]
