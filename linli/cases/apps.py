from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "linli.cases"
    label = "cases"
    verbose_name = "诉求工单"

    def ready(self) -> None:
        from linli.cases.navigation import cases_nav_register

        cases_nav_register()
