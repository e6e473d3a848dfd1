from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "linli.security"
    label = "security"
    verbose_name = "安全与审计"
