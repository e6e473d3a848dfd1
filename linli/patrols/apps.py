from django.apps import AppConfig


class PatrolsConfig(AppConfig):
    name = "linli.patrols"
    label = "patrols"
    verbose_name = "网格巡查"

    def ready(self) -> None:
        from linli.patrols.navigation import patrols_nav_register

        patrols_nav_register()
