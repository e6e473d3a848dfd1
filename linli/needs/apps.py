from django.apps import AppConfig


class NeedsConfig(AppConfig):
    name = "linli.needs"
    label = "needs"
    verbose_name = "三清单与社会组织"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from linli.accounts.roles import Capability
        from linli.core.navigation import RESIDENT, WORKBENCH, NavEntry, nav_register

        for entry in (
            NavEntry(
                "needs",
                _("需求清单"),
                "needs:needs",
                _("居民需求登记与资源匹配"),
                icon="case",
                capability=Capability.NEEDS_VIEW,
                order=40,
            ),
            NavEntry(
                "resources",
                _("资源清单"),
                "needs:resources",
                _("技能、场地、物资、资金、服务"),
                icon="station",
                capability=Capability.NEEDS_VIEW,
                order=41,
            ),
            NavEntry(
                "projects",
                _("项目清单"),
                "needs:projects",
                _("项目认领与进度"),
                icon="grid",
                capability=Capability.NEEDS_VIEW,
                order=42,
            ),
            NavEntry(
                "orgs",
                _("社会组织"),
                "needs:orgs",
                _("社会组织、共建单位、商户与孵化"),
                icon="community",
                capability=Capability.NEEDS_VIEW,
                order=43,
            ),
        ):
            nav_register(WORKBENCH, entry)
        nav_register(
            RESIDENT,
            NavEntry(
                "needs_my_org",
                _("组织认领项目"),
                "needs:rep_home",
                _("组织联络人:认领社区项目"),
                icon="community",
                order=41,
                visible_to=_represents_an_organisation,
            ),
        )
        nav_register(
            RESIDENT,
            NavEntry(
                "needs_public",
                _("三清单公示"),
                "needs:public_index",
                _("社区需求、项目与进度"),
                icon="community",
                order=40,
            ),
        )


def _represents_an_organisation(user: object) -> bool:
    from linli.needs.models import OrganisationMember

    user_id = getattr(user, "pk", None)
    return user_id is not None and (
        OrganisationMember.objects.filter(
            user_id=user_id, is_active=True, organisation__is_active=True
        ).exists()
    )
