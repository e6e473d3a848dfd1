"""Response headers Django has no setting for (IO-4, PI-8).

Django's SecurityMiddleware already sends HSTS (production), ``nosniff``, Referrer-Policy and COOP, the
clickjacking middleware ``X-Frame-Options: DENY``, and django-csp the Content-Security-Policy (settings
``CONTENT_SECURITY_POLICY``). This adds Permissions-Policy (geolocation for our own map only),
Cross-Origin-Resource-Policy, and ``Cache-Control: no-store`` on every page answered to a signed-in user,
whose pages may carry personal data that must not stay in a shared or back-button cache.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.LINLI_PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", settings.LINLI_CROSS_ORIGIN_RESOURCE_POLICY)
        user = getattr(request, "user", None)  # absent on static files WhiteNoise answered early
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
        return response
