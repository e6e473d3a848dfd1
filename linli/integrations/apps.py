from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "linli.integrations"
    label = "integrations"
    verbose_name = "外部对接"
