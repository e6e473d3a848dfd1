from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "linli.bookings"
    label = "bookings"
    verbose_name = "预约与代办"

    def ready(self) -> None:
        from linli.bookings.navigation import bookings_nav_register

        bookings_nav_register()
