from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "linli.accounts"
    label = "accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        # Registers the separation-of-duties database check (AC-5), the session stamp on sign-in (AU-3) and
        # tags the lockout library's tables in the personal-data registry (PI-4).
        from linli.security import duties, sessions, signin  # noqa: F401
