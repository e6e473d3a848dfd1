from django.urls import path

from linli.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.staff_login, name="login"),
    path("login/phone/", views.phone_login, name="phone_login"),
    path("login/phone/code/", views.phone_code, name="phone_code"),
    path("logout/", views.logout_view, name="logout"),
    path("otp/setup/", views.otp_setup, name="otp_setup"),
    path("otp/verify/", views.otp_verify, name="otp_verify"),
    path("otp/backup-codes/", views.otp_backup_codes, name="otp_backup_codes"),
    path("password/", views.password_change, name="password_change"),
]
