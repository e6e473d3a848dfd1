from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _reinstall_audit_guard(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """``post_migrate``: SQLite drops a table's triggers when a migration rebuilds the table."""
    from django.db import connections

    from linli.security.audit_guard import audit_guard_install

    audit_guard_install(connections[using])


class SecurityConfig(AppConfig):
    name = "linli.security"
    label = "security"
    verbose_name = "安全与审计"

    def ready(self) -> None:
        from django.contrib import admin
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from linli.accounts.roles import Capability
        from linli.core.navigation import WORKBENCH, NavEntry, nav_register
        from linli.security import checks  # noqa: F401  (registers the key checks)
        from linli.security.account_controls import sign_in_admin_restrict
        from linli.security.audit_admin import admin_audit_install
        from linli.security.audit_guard import sqlite_register_functions

        connection_created.connect(sqlite_register_functions, dispatch_uid="linli_audit_sqlite_functions")
        post_migrate.connect(_reinstall_audit_guard, sender=self, dispatch_uid="linli_audit_guard")
        # The admin (first in INSTALLED_APPS) has imported every app's admin.py by now.
        admin_audit_install(admin.site)
        nav_register(
            WORKBENCH,
            NavEntry(
                "audit",
                _("审计日志"),
                "security:audit",
                _("登录、授权、查看个人信息等操作记录"),
                icon="settings",
                capability=Capability.VIEW_AUDIT,
                order=85,
            ),
        )
        nav_register(
            WORKBENCH,
            NavEntry(
                "account_security",
                _("账号安全"),
                "security:accounts",
                _("解除登录锁定、重置动态口令"),
                icon="settings",
                capability=Capability.MANAGE_SECURITY,
                order=86,
            ),
        )
        # The security admin's screen is the one place for authenticators and lockouts (AC-5).
        sign_in_admin_restrict(admin.site)
