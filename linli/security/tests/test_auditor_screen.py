"""The auditor's screen: search, pages, masked personal data, CSV/XLSX export that is audited and safe to
open in Excel; every other role gets 404."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from linli.accounts.roles import Role
from linli.accounts.tests.factories import ResidentFactory, UserFactory, staff_with_role
from linli.core.navigation import WORKBENCH, nav_links
from linli.places.tests.factories import SmallDistrict
from linli.security.audit import audit_record
from linli.security.audit_export import cell_safe, mask_ip
from linli.security.models import AuditEvent, AuditResult

pytestmark = pytest.mark.usefixtures("fast_password_hashing")
AUDIT = "/security/audit/"
EXPORT = "/security/audit/export/"


@pytest.fixture
def auditor(small_district: SmallDistrict) -> Any:
    return staff_with_role(Role.AUDITOR, district=small_district)


@pytest.fixture
def auditor_client(auditor: Any) -> Client:
    client = Client()
    client.force_login(auditor)
    return client


def event(
    action: str = "test.event", *, actor: Any = None, result: str = AuditResult.OK, **kwargs: Any
) -> AuditEvent:
    request = RequestFactory().get("/", REMOTE_ADDR=kwargs.pop("ip", "10.1.2.3"))
    request.request_id = kwargs.pop("request_id", "req-00000001")  # type: ignore[attr-defined]
    return audit_record(action=action, actor=actor, obj=None, result=result, request=request, **kwargs)


def test_the_urls_live_in_the_security_namespace() -> None:
    assert (reverse("security:audit"), reverse("security:audit_export")) == (AUDIT, EXPORT)


@pytest.mark.parametrize(
    "role",
    [
        Role.GRID_WORKER,
        Role.COMMUNITY_SECRETARY,
        Role.DISTRICT_STAFF,
        Role.ADMIN,
        Role.SECURITY_ADMIN,
        Role.UNIT_HANDLER,
    ],
)
def test_every_other_role_gets_404_and_the_attempt_is_audited(
    small_district: SmallDistrict, role: str
) -> None:
    client = Client()
    client.force_login(staff_with_role(role, district=small_district))

    assert client.get(AUDIT).status_code == 404
    assert client.get(EXPORT, {"format": "csv"}).status_code == 404

    assert AuditEvent.objects.filter(action="access.denied", data__reason="audit_view_forbidden").count() == 2
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_a_resident_gets_404_and_anonymous_is_sent_to_sign_in(db: None) -> None:
    resident = Client()
    resident.force_login(ResidentFactory())
    assert resident.get(AUDIT).status_code == 404

    anonymous = Client().get(AUDIT)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_auditor_sees_the_trail_newest_first_without_storing_it_in_caches(auditor_client: Client) -> None:
    event("auth.login")
    event("pii.reveal", result=AuditResult.DENIED)

    response = auditor_client.get(AUDIT)

    body = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert body.index("<code>pii.reveal</code>") < body.index("<code>auth.login</code>")
    assert "查看完整个人信息" in body and "拒绝" in body


def test_the_menu_shows_the_audit_entry_to_the_auditor_only(
    small_district: SmallDistrict, auditor: Any
) -> None:
    other = staff_with_role(Role.DISTRICT_STAFF, district=small_district)

    assert "audit" in [link.key for link in nav_links(WORKBENCH, auditor)]
    assert "audit" not in [link.key for link in nav_links(WORKBENCH, other)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor": "zhao"}, {"a.one"}),
        ({"action": "b.two"}, {"b.two"}),
        ({"action": "b."}, {"b.two", "b.three"}),
        ({"result": "denied"}, {"b.three"}),
        ({"object_type": "accounts.user", "object_id": "42"}, {"b.two"}),
        ({"request_id": "req-special-1"}, {"b.three"}),
    ],
)
def test_the_auditor_searches_by_actor_action_object_result_and_request(
    auditor_client: Client, query: dict[str, str], expected: set[str]
) -> None:
    event("a.one", actor=UserFactory(username="zhaoliu"))
    event("b.two", object_type="accounts.user", object_id="42")
    event("b.three", result=AuditResult.DENIED, request_id="req-special-1")

    body = auditor_client.get(AUDIT, query).content.decode()

    shown = {action for action in ("a.one", "b.two", "b.three") if f"<code>{action}</code>" in body}
    assert shown == expected


def test_the_auditor_searches_by_local_date_range(auditor_client: Client) -> None:
    now = timezone.localtime()
    with time_machine.travel(now - timedelta(days=10), tick=False):
        event("old.one")
    event("new.one")
    today = now.date().isoformat()

    body = auditor_client.get(AUDIT, {"date_from": today, "date_to": today}).content.decode()
    assert "new.one" in body and "old.one" not in body

    refused = auditor_client.get(AUDIT, {"date_from": today, "date_to": "2000-01-01"}).content.decode()
    assert "起始日期不能晚于截止日期" in refused


def test_the_trail_is_paginated(auditor_client: Client) -> None:
    for i in range(55):
        event(f"bulk.e{i:02d}")

    first = auditor_client.get(AUDIT, {"action": "bulk."}).content.decode()
    second = auditor_client.get(AUDIT, {"action": "bulk.", "page": 2}).content.decode()

    assert "bulk.e54" in first and "bulk.e04" not in first and "1 / 2" in first
    assert "bulk.e04" in second and "bulk.e54" not in second
    assert "action=bulk.&amp;page=2" in first


def test_personal_data_in_the_trail_is_masked_on_screen_and_in_exports(auditor_client: Client) -> None:
    event(
        "pii.read",
        ip="203.0.113.77",
        data={"reason": "回访 13812345678 身份证 110105199003071239", "display_name": "张三丰"},
    )

    page = auditor_client.get(AUDIT).content.decode()
    exported = b"".join(auditor_client.get(EXPORT, {"format": "csv"}).streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]

    for text in (page, exported):
        assert "13812345678" not in text and "110105199003071239" not in text and "张三丰" not in text
        assert "203.0.113.77" not in text
        assert (
            "138****5678" in text
            and "110***********1239" in text
            and "张**" in text
            and "203.0.113.*" in text
        )


def test_the_csv_export_escapes_formulas_and_is_audited(auditor_client: Client) -> None:
    event("test.formula", object_type='=HYPERLINK("http://x")', object_id="+1", data={"note": "@SUM(A1)"})

    response = auditor_client.get(EXPORT, {"format": "csv", "action": "test.formula"})

    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    text = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    assert text.startswith("\ufeff")
    header, row = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert header[0] == "链序号" and len(row) == len(header)
    assert row[header.index("对象类型")] == '\'=HYPERLINK("http://x")'
    assert row[header.index("对象编号")] == "'+1"
    export = AuditEvent.objects.get(action="audit.export")
    assert export.data == {"format": "csv", "rows": 1, "filters": {"action": "test.formula"}}


def test_the_xlsx_export_holds_text_cells_only(auditor_client: Client) -> None:
    event("test.formula", object_type="=1+1", object_id="-2")

    response = auditor_client.get(EXPORT, {"format": "xlsx", "action": "test.formula"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    types = {cell.data_type for row in sheet.iter_rows() for cell in row}
    assert values[1][8:10] == ["'=1+1", "'-2"]
    assert "f" not in types
    assert AuditEvent.objects.get(action="audit.export").data["format"] == "xlsx"


def test_an_export_over_the_limit_is_refused_with_a_message(auditor_client: Client, settings: Any) -> None:
    settings.LINLI_AUDIT_EXPORT_MAX_ROWS = 2
    for _ in range(3):
        event("test.many")

    response = auditor_client.get(EXPORT, {"format": "csv", "action": "test.many"}, follow=True)

    assert "超过单次导出上限" in response.content.decode()
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_formula_escaping_and_ip_masking_rules() -> None:
    assert [cell_safe(v) for v in ("=A1", "+1", "-1", "@x", "\tx", "ok", 5)] == [
        "'=A1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "ok",
        5,
    ]
    assert (mask_ip("192.168.7.9"), mask_ip("2001:db8:1:2::5"), mask_ip(None)) == (
        "192.168.7.*",
        "2001:0db8:0001::*",
        "",
    )
