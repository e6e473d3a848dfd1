"""Chinese 403/404/500 pages instead of Django's English ones; the API keeps its JSON errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory
from django.views import defaults

from linli.accounts.roles import Role
from linli.accounts.tests.factories import ResidentFactory, staff_with_role
from linli.places.tests.factories import SmallDistrict

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOT_FOUND = "页面不存在或您无权访问"
FORBIDDEN = "您无权进行此操作"
SERVER_ERROR = "服务器开小差了,请稍后再试"


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_tests_run_with_debug_off() -> None:
    # With DEBUG on Django shows its technical pages and these templates are never used.
    assert settings.DEBUG is False


@pytest.mark.django_db
def test_an_anonymous_visitor_gets_the_chinese_404_page(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert NOT_FOUND in html and 'href="/"' in html
    assert "Not Found" not in html
    assert "登录" in html  # the site's header, for someone not signed in
    assert "404.html" in [t.name for t in response.templates]


@pytest.mark.django_db
def test_a_signed_in_resident_gets_the_chinese_404_page_with_the_site_header(client: Client) -> None:
    resident = ResidentFactory(display_name="李阿姨")
    client.force_login(resident, backend="linli.accounts.backends.PhoneCodeBackend")
    for url in ("/no-such-page/", "/cases/wb/"):  # a staff page is a 404 for a resident (AC-3)
        response = client.get(url)
        assert response.status_code == 404, url
        html = response.content.decode()
        assert NOT_FOUND in html and "李阿姨" in html and "退出" in html, url


def test_a_signed_in_staff_member_gets_the_chinese_404_page(
    client: Client, small_district: SmallDistrict
) -> None:
    staff = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district)
    client.force_login(staff, backend="linli.accounts.backends.StaffPasswordBackend")
    response = client.get("/cases/wb/999999/")  # a case that does not exist (or left the user's scope)
    assert response.status_code == 404
    html = response.content.decode()
    assert NOT_FOUND in html and str(staff) in html
    assert response["Content-Security-Policy"]  # the site's headers, as on every page


def test_the_404_and_403_pages_render_without_middleware_or_a_user(rf: RequestFactory) -> None:
    # base.html needs no view context and no request.user (e.g. a 404 raised before authentication).
    request = rf.get("/somewhere/")
    not_found = defaults.page_not_found(request, Http404())
    assert not_found.status_code == 404 and NOT_FOUND in not_found.content.decode()
    denied = defaults.permission_denied(request, PermissionDenied())
    assert denied.status_code == 403
    html = denied.content.decode()
    assert FORBIDDEN in html and 'href="/"' in html and "Forbidden" not in html


def test_the_500_page_is_chinese_and_fully_static(rf: RequestFactory) -> None:
    response = defaults.server_error(rf.get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert SERVER_ERROR in html and "Server Error" not in html
    assert 'href="/static/css/linli.css"' in html
    # Rendered with an empty context: no variables, and no tags but comments ({% url %}, {% static %},
    # {% csrf_token %} and the context processors' values would be missing or could fail here).
    source = (TEMPLATES / "500.html").read_text()
    assert "{{" not in source and "{%" not in source


@pytest.mark.django_db
def test_unmatched_api_urls_still_answer_json_404(client: Client) -> None:
    for url in ("/api/nope", "/api/nope/deeper/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"].startswith("application/json"), url
        assert response.json()["code"] == "not_found"
