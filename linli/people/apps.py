from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "linli.people"
    label = "people"
    verbose_name = "人口与关爱"

    def ready(self) -> None:
        from linli.people.navigation import people_nav_register

        people_nav_register()
