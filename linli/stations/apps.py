from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "linli.stations"
    label = "stations"
    verbose_name = "服务阵地"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from linli.accounts.roles import Capability
        from linli.core.navigation import WORKBENCH, NavEntry, nav_register

        nav_register(
            WORKBENCH,
            NavEntry(
                "stations",
                _("服务阵地"),
                "stations:manage",
                _("党群服务中心、驿站与驿家"),
                icon="station",
                capability=Capability.STATIONS_VIEW,
                order=30,
            ),
        )
        nav_register(
            WORKBENCH,
            NavEntry(
                "coverage",
                _("覆盖规划"),
                "stations:coverage",
                _("步行圈覆盖与新址建议"),
                icon="map",
                capability=Capability.STATIONS_VIEW,
                order=31,
            ),
        )
