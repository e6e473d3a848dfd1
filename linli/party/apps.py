from django.apps import AppConfig


class PartyConfig(AppConfig):
    name = "linli.party"
    label = "party"
    verbose_name = "党建与志愿"

    def ready(self) -> None:
        from linli.party.navigation import party_nav_register

        party_nav_register()
