from django.urls import re_path

from linli.integrations.open311 import views

# Every endpoint in both formats: the suffix picks the format (the spec's convention).
FMT = r"\.(?P<fmt>json|xml)$"
urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="open311_discovery"),
    re_path(r"^services" + FMT, views.services, name="open311_services"),
    re_path(r"^services/(?P<code>[^/]+)" + FMT, views.service_definition, name="open311_service"),
    re_path(r"^requests" + FMT, views.requests, name="open311_requests"),
    re_path(r"^requests/(?P<service_request_id>[^/]+)" + FMT, views.request_one, name="open311_request"),
    re_path(r"^tokens/(?P<token>[^/]+)" + FMT, views.token, name="open311_token"),
    re_path(r"^servicerequestupdates" + FMT, views.updates, name="open311_updates"),
    # Anything else under /open311/v2/ (requests.html, requests.JSON, a trailing slash, a newline): the
    # spec's 404 error list instead of Django's HTML page.
    re_path(r"^(?P<rest>[\s\S]*)$", views.unknown_path, name="open311_unknown"),
]
