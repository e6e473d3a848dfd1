"""The pages: role-aware home, sign-in and sign-out, the Chinese admin, and what every page loads."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import NoReverseMatch, reverse

from linli.accounts.models import User, UserKind
from linli.accounts.roles import Role
from linli.accounts.tests.factories import PASSWORD, ResidentFactory, UserFactory, staff_with_role
from linli.core import navigation
from linli.core.navigation import WORKBENCH, NavEntry, nav_register
from linli.places.tests.factories import SmallDistrict

STAFF_ROLES = [r for r in Role.values if r != Role.RESIDENT]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Every staff user is created with a password; the production hasher costs ~0.3 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def templates_used(response) -> list[str]:
    return [t.name for t in response.templates if t.name]


def url_exists(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


class AssetScan(HTMLParser):
    """Collects what a page would load, and anything a strict CSP would block."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.inline_scripts = 0
        self.style_attrs: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.assets.append(a["src"] or "")
            else:
                self.inline_scripts += 1
        elif tag == "link" and a.get("href"):
            self.assets.append(a["href"] or "")
        elif tag in {"img", "iframe", "source", "audio", "video", "embed"} and a.get("src"):
            self.assets.append(a["src"] or "")
        for name, _value in attrs:
            if name == "style":
                self.style_attrs.append(tag)
            if name.startswith("on"):
                self.handlers.append(f"{tag}[{name}]")


def scan(html: str) -> AssetScan:
    parser = AssetScan()
    parser.feed(html)
    return parser


def login_staff(client: Client, user: User) -> None:
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


# --- home -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_home_is_the_resident_home_with_map_and_phone_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "core/resident_home.html" in templates_used(response)
    html = response.content.decode()
    assert 'lang="zh-hans"' in html
    assert 'name="viewport"' in html
    assert f'href="{reverse("places:map")}"' in html
    assert f'href="{reverse("accounts:phone_login")}"' in html
    assert "工作人员登录" in html
    assert "wb-nav" not in html


@pytest.mark.django_db
def test_resident_home_hides_entries_whose_page_does_not_exist_yet(client: Client) -> None:
    html = client.get("/").content.decode()
    # 我要反映 and 附近驿站 come with later modules; until their URLs exist there is no dead link.
    assert ("我要反映" in html) == url_exists("cases:report")
    assert ("附近驿站" in html) == url_exists("stations:nearby")


@pytest.mark.django_db
def test_signed_in_resident_sees_the_resident_home_without_a_login_tile(client: Client) -> None:
    resident = ResidentFactory(display_name="李阿姨")
    client.force_login(resident, backend="linli.accounts.backends.PhoneCodeBackend")
    response = client.get("/")
    assert "core/resident_home.html" in templates_used(response)
    html = response.content.decode()
    assert "李阿姨,您好" in html
    assert "tile-login" not in html
    assert "退出" in html


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_each_staff_role_gets_the_workbench_with_its_role_and_scope(
    client: Client, small_district: SmallDistrict, role: str
) -> None:
    user = staff_with_role(role, district=small_district)
    client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    response = client.get("/")
    assert response.status_code == 200
    assert "core/workbench.html" in templates_used(response)
    html = response.content.decode()
    assert str(Role(role).label) in html
    assert 'class="wb-nav"' in html
    assert "快捷入口" in html


@pytest.mark.parametrize(
    ("role", "grids", "communities", "households"),
    [
        (Role.DISTRICT_STAFF, 8, 4, 1600),
        (Role.STREET_STAFF, 4, 2, 800),
        (Role.COMMUNITY_SECRETARY, 2, 1, 400),
        (Role.GRID_WORKER, 1, 1, 200),
        (Role.UNIT_HANDLER, 0, 0, 0),
        (Role.ADMIN, 8, 4, 1600),
    ],
)
def test_workbench_summary_counts_only_what_the_role_may_see(
    client: Client, small_district: SmallDistrict, role: str, grids: int, communities: int, households: int
) -> None:
    user = staff_with_role(role, district=small_district)
    client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    summary = client.get("/").context["summary"]
    assert (summary.grids, summary.communities, summary.households) == (grids, communities, households)


def test_workbench_shows_the_grid_and_community_a_grid_worker_is_anchored_on(
    client: Client, small_district: SmallDistrict
) -> None:
    user = staff_with_role(Role.GRID_WORKER, district=small_district, index=3)
    client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    html = client.get("/").content.decode()
    grid = small_district.grids[3]
    assert f"{grid.community.name} · {grid.name}" in html


def test_workbench_nav_links_the_admin_only_for_admin_site_accounts(
    client: Client, small_district: SmallDistrict
) -> None:
    staff = staff_with_role(Role.DISTRICT_STAFF, district=small_district)
    client.force_login(staff, backend="linli.accounts.backends.StaffPasswordBackend")
    html = client.get("/").content.decode()
    assert "后台管理" not in html
    assert f'href="{reverse("places:map")}"' in html

    admin = staff_with_role(Role.ADMIN, district=small_district)
    User.objects.filter(pk=admin.pk).update(is_staff=True)
    client.force_login(User.objects.get(pk=admin.pk), backend="linli.accounts.backends.StaffPasswordBackend")
    html = client.get("/").content.decode()
    assert "后台管理" in html
    assert f'href="{reverse("admin:index")}"' in html


def test_workbench_nav_shows_the_cases_entry_only_once_its_url_exists(
    client: Client, small_district: SmallDistrict
) -> None:
    user = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district)
    client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    html = client.get("/").content.decode()
    assert ("工单" in html) == url_exists("cases:workbench")


def test_a_module_can_add_a_workbench_entry_and_it_is_hidden_without_the_capability(
    client: Client, small_district: SmallDistrict
) -> None:
    saved = list(navigation._MENUS[WORKBENCH])
    try:
        nav_register(
            WORKBENCH, NavEntry("health", "健康检查", "core:healthz", capability="accounts.manage", order=50)
        )
        secretary = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district)
        client.force_login(secretary, backend="linli.accounts.backends.StaffPasswordBackend")
        assert "健康检查" in client.get("/").content.decode()

        worker = staff_with_role(Role.GRID_WORKER, district=small_district)
        client.force_login(worker, backend="linli.accounts.backends.StaffPasswordBackend")
        assert "健康检查" not in client.get("/").content.decode()
    finally:
        navigation._MENUS[WORKBENCH] = saved


def test_current_page_is_marked_in_the_workbench_nav(client: Client, small_district: SmallDistrict) -> None:
    user = staff_with_role(Role.DISTRICT_STAFF, district=small_district)
    client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    html = client.get(reverse("places:map")).content.decode()
    assert re.search(r'href="/places/map/"\s+aria-current="page"', html)


# --- staff sign-in --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_login_page_is_chinese_and_wrong_password_is_refused_in_chinese(client: Client) -> None:
    user = UserFactory(username="zhangsan")
    page = client.get(reverse("accounts:login"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "工作人员登录" in html and "用户名" in html and "密码" in html

    response = client.post(reverse("accounts:login"), {"username": user.username, "password": "wrong-pass"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session

    empty = client.post(reverse("accounts:login"), {"username": "", "password": ""})
    assert "这个字段是必填项" in empty.content.decode()


def test_staff_login_rotates_the_session_and_lands_on_the_workbench(
    client: Client, small_district: SmallDistrict
) -> None:
    user = staff_with_role(Role.STREET_STAFF, district=small_district)
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key

    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD, "next": "/places/map/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/places/map/"
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert "core/workbench.html" in templates_used(client.get("/"))


@pytest.mark.django_db
def test_staff_login_ignores_an_offsite_next(client: Client) -> None:
    user = UserFactory()
    response = client.post(
        reverse("accounts:login"),
        {"username": user.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_a_resident_cannot_use_the_staff_password_form(client: Client) -> None:
    resident = ResidentFactory()
    response = client.post(reverse("accounts:login"), {"username": resident.username, "password": PASSWORD})
    assert "用户名或密码不正确" in response.content.decode()


# --- resident sign-in -----------------------------------------------------------------------------


def sms_code_from_log(caplog: pytest.LogCaptureFixture) -> str:
    texts = [r.getMessage() for r in caplog.records if r.name == "linli.sms"]
    assert texts, "no SMS was logged"
    match = re.search(r"验证码为(\d{6})", texts[-1])
    assert match, texts[-1]
    return match.group(1)


@pytest.mark.django_db
def test_resident_logs_in_with_phone_and_sms_code_through_htmx(
    client: Client, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks
) -> None:
    page = client.get(reverse("accounts:phone_login")).content.decode()
    assert "获取验证码" in page
    assert f'hx-post="{reverse("accounts:phone_code")}"' in page

    caplog.set_level("WARNING", logger="linli.sms")
    with django_capture_on_commit_callbacks(execute=True):
        fragment = client.post(
            reverse("accounts:phone_code"), {"phone": "138 0013 8000"}, HTTP_HX_REQUEST="true"
        )
    assert fragment.status_code == 200
    assert "accounts/_code_status.html" in templates_used(fragment)
    assert "验证码已发送" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    code = sms_code_from_log(caplog)

    response = client.post(reverse("accounts:phone_login"), {"phone": "13800138000", "sms_code": code})
    assert response.status_code == 302
    user = User.objects.get(pk=client.session["_auth_user_id"])
    assert user.kind == UserKind.RESIDENT
    assert user.phone == "13800138000"
    assert "core/resident_home.html" in templates_used(client.get("/"))


@pytest.mark.django_db
def test_phone_code_errors_come_back_as_a_chinese_fragment(client: Client) -> None:
    response = client.post(reverse("accounts:phone_code"), {"phone": "123"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "请输入正确的11位手机号码" in response.content.decode()

    client.post(reverse("accounts:phone_code"), {"phone": "13900139000"}, HTTP_HX_REQUEST="true")
    again = client.post(reverse("accounts:phone_code"), {"phone": "13900139000"}, HTTP_HX_REQUEST="true")
    assert again.status_code == 400
    assert "验证码发送过于频繁" in again.content.decode()


@pytest.mark.django_db
def test_phone_code_without_javascript_answers_the_whole_login_page(client: Client) -> None:
    response = client.post(reverse("accounts:phone_code"), {"phone": "13700137000"})
    assert response.status_code == 200
    assert "accounts/phone_login.html" in templates_used(response)
    html = response.content.decode()
    assert "验证码已发送" in html
    assert 'value="13700137000"' in html


@pytest.mark.django_db
def test_wrong_sms_code_is_refused_in_chinese(client: Client) -> None:
    client.post(reverse("accounts:phone_code"), {"phone": "13600136000"}, HTTP_HX_REQUEST="true")
    response = client.post(reverse("accounts:phone_login"), {"phone": "13600136000", "sms_code": "000000"})
    assert response.status_code == 200
    assert "验证码不正确或已过期" in response.content.decode()
    short = client.post(reverse("accounts:phone_login"), {"phone": "13600136000", "sms_code": "12"})
    assert "确保该变量至少包含 6 字符" in short.content.decode()


# --- sign-out -------------------------------------------------------------------------------------


def test_logout_is_post_only_and_kills_the_old_session_cookie(
    client: Client, small_district: SmallDistrict
) -> None:
    user = staff_with_role(Role.DISTRICT_STAFF, district=small_district)
    login_staff(client, user)
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    assert client.get(reverse("accounts:logout")).status_code == 405
    assert "core/workbench.html" in templates_used(client.get("/"))

    home = client.get("/").content.decode()
    assert f'action="{reverse("accounts:logout")}"' in home
    assert 'name="csrfmiddlewaretoken"' in home

    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    again = replay.get("/")
    assert "core/resident_home.html" in templates_used(again)
    assert not again.wsgi_request.user.is_authenticated


def test_logout_needs_the_csrf_token(small_district: SmallDistrict) -> None:
    client = Client(enforce_csrf_checks=True)
    user = staff_with_role(Role.DISTRICT_STAFF, district=small_district)
    client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    assert client.post(reverse("accounts:logout")).status_code == 403
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").content.decode())
    assert token
    response = client.post(reverse("accounts:logout"), HTTP_X_CSRFTOKEN=token.group(1))
    assert response.status_code == 302


# --- the Django admin, in Chinese ----------------------------------------------------------------


def test_admin_pages_render_in_chinese(client: Client, small_district: SmallDistrict) -> None:
    login = client.get(reverse("admin:login")).content.decode()
    assert "用户名" in login and "登录" in login

    admin = User.objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin, backend="linli.accounts.backends.StaffPasswordBackend")
    index = client.get(reverse("admin:index")).content.decode()
    for text in ("基础数据管理", "最近动作", "行政区域", "网格", "用户", "责任单位"):
        assert text in index, text
    grids = client.get(reverse("admin:places_grid_changelist")).content.decode()
    assert "增加 网格" in grids
    assert small_district.grids[0].name in grids
    region = client.get(reverse("admin:places_region_change", args=[small_district.streets[0].pk]))
    assert region.status_code == 200
    assert "上级" in region.content.decode()


# --- what pages load ------------------------------------------------------------------------------


def page_urls() -> list[str]:
    return [
        "/",
        reverse("accounts:login"),
        reverse("accounts:phone_login"),
        reverse("places:map"),
    ]


def all_pages_for_everyone(client: Client, district: SmallDistrict) -> list[tuple[str, str]]:
    pages = [(url, client.get(url).content.decode()) for url in page_urls()]
    staff = staff_with_role(Role.DISTRICT_STAFF, district=district, username="scan-staff")
    client.force_login(staff, backend="linli.accounts.backends.StaffPasswordBackend")
    pages += [(f"staff {url}", client.get(url).content.decode()) for url in ("/", reverse("places:map"))]
    resident = ResidentFactory()
    client.force_login(resident, backend="linli.accounts.backends.PhoneCodeBackend")
    pages += [(f"resident {url}", client.get(url).content.decode()) for url in ("/", reverse("places:map"))]
    return pages


def test_pages_load_assets_only_from_our_own_static_files(
    client: Client, small_district: SmallDistrict
) -> None:
    for name, html in all_pages_for_everyone(client, small_district):
        assert "http://" not in html and "https://" not in html, name
        parsed = scan(html)
        assert parsed.assets, name
        for url in parsed.assets:
            assert url.startswith(settings.STATIC_URL) and not url.startswith("//"), (name, url)
            assert finders.find(url.removeprefix(settings.STATIC_URL)), (name, url)


def test_pages_have_no_inline_script_style_attribute_or_event_handler(
    client: Client, small_district: SmallDistrict
) -> None:
    for name, html in all_pages_for_everyone(client, small_district):
        parsed = scan(html)
        assert parsed.inline_scripts == 0, name
        assert parsed.style_attrs == [], name
        assert parsed.handlers == [], name
        assert "<style" not in html, name


def test_htmx_is_deferred_and_leaflet_is_only_on_the_map(
    client: Client, small_district: SmallDistrict
) -> None:
    home = client.get("/").content.decode()
    assert re.search(r'<script src="/static/vendor/htmx-[\d.]+/htmx\.min\.js" defer>', home)
    assert "leaflet" not in home
    map_page = client.get(reverse("places:map")).content.decode()
    assert "leaflet.js" in map_page and "leaflet.css" in map_page


def test_vendored_libraries_ship_with_their_licences() -> None:
    vendor = Path(settings.BASE_DIR) / "linli" / "static" / "vendor"
    for pattern in ("htmx-*", "leaflet-*", "alpinejs-csp-*"):
        dirs = list(vendor.glob(pattern))
        assert len(dirs) == 1, pattern
        assert (dirs[0] / "LICENSE").is_file(), pattern
    leaflet = next(vendor.glob("leaflet-*"))
    for image in (
        "layers.png",
        "layers-2x.png",
        "marker-icon.png",
        "marker-icon-2x.png",
        "marker-shadow.png",
    ):
        assert (leaflet / "images" / image).is_file()
    readme = (vendor / "README.md").read_text()
    for name in ("htmx.org", "leaflet", "@alpinejs/csp"):
        assert name in readme


@pytest.mark.django_db
def test_resident_home_weighs_under_100_kb(client: Client) -> None:
    """Weak network (QUALITY): HTML + CSS + JS + images of the resident home, uncompressed."""
    html = client.get("/").content
    total = len(html)
    for url in scan(html.decode()).assets:
        path = finders.find(url.removeprefix(settings.STATIC_URL))
        assert path
        total += Path(str(path)).stat().st_size
    assert total <= 100 * 1024, total
