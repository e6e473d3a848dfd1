from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "linli.catalog"
    label = "catalog"
    verbose_name = "办事指南"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from linli.core.navigation import RESIDENT, NavEntry, nav_register

        nav_register(
            RESIDENT,
            NavEntry(
                "catalog", _("办事指南"), "catalog:list", _("材料、流程、时限一查便知"), icon="case", order=25
            ),
        )
