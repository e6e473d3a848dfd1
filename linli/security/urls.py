from django.urls import path

from linli.security import account_views, views

app_name = "security"

urlpatterns = [
    path("audit/", views.audit_list, name="audit"),
    path("audit/export/", views.audit_export, name="audit_export"),
    path("accounts/", account_views.security_accounts, name="accounts"),
    path("accounts/<int:user_id>/", account_views.security_account, name="account"),
    path(
        "accounts/<int:user_id>/otp-reset/",
        account_views.security_account_otp_reset,
        name="account_otp_reset",
    ),
    path("accounts/<int:user_id>/unlock/", account_views.security_account_unlock, name="account_unlock"),
]
