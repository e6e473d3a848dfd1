"""The staff workbench end to end through the client, role by role, with the negatives: residents and
staff outside a case's grid or unit get 404 (audited), buttons are exactly what the table allows, errors
keep the input, phones stay masked unless revealed with a reason."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from linli.accounts.models import User
from linli.cases.models import Case, CaseAttachment, Channel, Status
from linli.cases.selectors import case_actions_for_user
from linli.cases.services import case_assign, case_triage
from linli.cases.tests.factories import World, category, submit
from linli.cases.tests.test_attachments import jpeg_with_gps
from linli.cases.views.actions import specs_allowed
from linli.places.tests.factories import LAT0, LNG0, STEP
from linli.security.models import AuditEvent

HTMX = {"HTTP_HX_REQUEST": "true"}
BBOX = f"{LNG0 - 0.01},{LAT0 - 0.01},{LNG0 + 9 * STEP},{LAT0 + 2 * STEP}"


def client_for(user: User | None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def staff_urls(case: Case) -> list[tuple[str, str]]:
    return [
        ("get", "/cases/wb/"),
        ("get", "/cases/wb/new/"),
        ("get", "/cases/wb/map/"),
        ("get", f"/cases/wb/map/pins/?bbox={BBOX}"),
        ("get", "/cases/wb/overdue/"),
        ("get", "/cases/wb/qr/"),
        ("get", f"/cases/wb/{case.pk}/"),
        ("post", f"/cases/wb/{case.pk}/act/assign/"),
        ("post", f"/cases/wb/{case.pk}/reveal/"),
        ("post", "/cases/wb/bulk-assign/"),
    ]


def test_a_resident_on_any_staff_page_gets_404_and_the_refusal_is_audited(world: World) -> None:
    case = submit(world, grid=0)
    c = client_for(world.resident)
    for method, url in staff_urls(case):
        assert getattr(c, method)(url).status_code == 404, url
    denied = AuditEvent.objects.filter(action="access.denied", actor_id=world.resident.pk).count()
    assert denied == len(staff_urls(case))


def test_anonymous_visitors_are_sent_to_sign_in(world: World) -> None:
    case = submit(world, grid=0)
    for method, url in staff_urls(case):
        answer = getattr(client_for(None), method)(url)
        assert answer.status_code == 302 and "/accounts/login/" in answer["Location"], url


def test_a_grid_worker_gets_404_on_another_grids_case(world: World) -> None:
    theirs = submit(world, grid=2)
    mine = submit(world, grid=0, reporter=world.resident2)
    c = client_for(world.grid0)
    assert c.get(f"/cases/wb/{theirs.pk}/").status_code == 404
    assert c.post(f"/cases/wb/{theirs.pk}/act/comment/", {"note": "x"}).status_code == 404
    assert (
        c.post(f"/cases/wb/{theirs.pk}/reveal/", {"field": "contact_phone", "reason": "x"}).status_code == 404
    )
    assert c.get(f"/cases/{theirs.pk}/photos/1/").status_code == 404
    assert c.get(f"/cases/wb/{mine.pk}/").status_code == 200
    listing = c.get("/cases/wb/?queue=all").content.decode()
    assert mine.number in listing and theirs.number not in listing
    assert AuditEvent.objects.filter(action="access.denied", object_id=str(theirs.pk)).exists()


def test_a_unit_handler_gets_404_on_another_units_case(world: World) -> None:
    theirs = submit(world, grid=2)
    case_assign(case_id=theirs.pk, actor=world.secretary1, unit_id=world.unit1.pk)
    mine = submit(world, grid=0, reporter=world.resident2)
    case_assign(case_id=mine.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    c = client_for(world.handler0)
    assert c.get(f"/cases/wb/{theirs.pk}/").status_code == 404
    assert c.post(f"/cases/wb/{theirs.pk}/act/accept/", {"note": ""}).status_code == 404
    page = c.get(f"/cases/wb/{mine.pk}/")
    assert page.status_code == 200
    theirs.refresh_from_db()
    assert theirs.status == Status.ASSIGNED


def _buttons(html: str) -> set[str]:
    import re

    return set(re.findall(r'<details class="action[^"]*" data-action="([a-z_]+)"', html))


@pytest.mark.parametrize("who", ["secretary0", "back_office0", "window0", "grid0", "street0"])
def test_the_case_page_shows_exactly_the_actions_the_table_allows(world: World, who: str) -> None:
    case = submit(world, grid=0)
    user = getattr(world, who)
    html = client_for(user).get(f"/cases/wb/{case.pk}/").content.decode()
    expected = {spec.key for spec in specs_allowed(case_actions_for_user(user, case), case)}
    assert _buttons(html) == expected
    if who == "window0":
        assert expected == set()  # intake only: sees the case, may not act on it
    if who == "secretary0":
        assert {"triage", "assign", "reject", "merge", "supervise"} <= expected


def _jpeg() -> SimpleUploadedFile:
    return SimpleUploadedFile("r.jpg", jpeg_with_gps((300, 200)), content_type="image/jpeg")


def test_the_loop_through_the_workbench_assign_accept_resolve(world: World) -> None:
    case = submit(world, grid=0)
    secretary = client_for(world.secretary0)
    answer = secretary.post(
        f"/cases/wb/{case.pk}/act/assign/", {"unit": world.unit0.pk, "assignee": "", "note": "请尽快"}, **HTMX
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "<html" not in html and "「交办」已完成" in html and 'id="case-detail"' in html
    handler = client_for(world.handler0)
    assert _buttons(handler.get(f"/cases/wb/{case.pk}/").content.decode()) == {
        "accept",
        "return",
        "escalate",
        "comment",
    }
    assert handler.post(f"/cases/wb/{case.pk}/act/accept/", {"note": ""}).status_code == 302
    resolved = handler.post(
        f"/cases/wb/{case.pk}/act/resolve/",
        {"result_text": "已清运并消毒", "photos_public": "on", "photos": [_jpeg()]},
    )
    assert resolved.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.result_text, case.unit_id) == (Status.RESOLVED, "已清运并消毒", world.unit0.pk)
    photo = CaseAttachment.objects.get(case=case, kind="result")
    assert photo.is_public and dict(Image.open(io.BytesIO(photo.file.read())).getexif()) == {}
    assert handler.get(f"/cases/{case.pk}/photos/{photo.pk}/")["Cache-Control"] == "private, no-store"


def test_an_action_refused_keeps_the_input_and_says_why_in_chinese(world: World) -> None:
    case = submit(world, grid=0)
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    handler = client_for(world.handler0)
    answer = handler.post(f"/cases/wb/{case.pk}/act/return/", {"note": ""}, **HTMX)
    assert answer.status_code == 400 and "请填写说明" in answer.content.decode()
    secretary = client_for(world.secretary0)
    fresh = submit(world, grid=0, reporter=world.resident2)
    rejected = secretary.post(
        f"/cases/wb/{fresh.pk}/act/reject/", {"note": "不属于社区职责", "rejected_to_text": ""}
    )
    html = rejected.content.decode()
    assert rejected.status_code == 400 and "请注明应由哪个单位受理" in html and "不属于社区职责" in html
    wrong = secretary.post(
        f"/cases/wb/{fresh.pk}/act/merge/", {"duplicate_of": "19990101-000001", "note": ""}
    )
    assert wrong.status_code == 400 and "要合并到的工单不存在或无权访问" in wrong.content.decode()
    # Not allowed now (accept is a handler's action on an assigned case): refused by the table, 403/409.
    refused = secretary.post(f"/cases/wb/{fresh.pk}/act/accept/", {"note": ""})
    reason = "工单当前状态为「待梳理」,不能执行「接单」"
    assert refused.status_code in (403, 409) and reason in refused.content.decode()
    swapped = secretary.post(f"/cases/wb/{fresh.pk}/act/accept/", {"note": ""}, **HTMX)
    # htmx shows it: the form is not offered, so the reason is at the top of the page, as an alert.
    assert swapped.status_code == 422 and 'role="alert" id="case-error"' in swapped.content.decode()
    assert reason in swapped.content.decode()
    # The usual stale form: someone else triaged the case while this page was open.
    stale = submit(world, grid=0, reporter=world.resident2)
    case_triage(case_id=stale.pk, actor=world.secretary0)
    late = secretary.post(f"/cases/wb/{stale.pk}/act/triage/", {"note": ""}, **HTMX)
    assert late.status_code == 422 and "不能执行「梳理」" in late.content.decode()
    fresh.refresh_from_db()
    assert fresh.status == Status.SUBMITTED


def test_a_handler_returning_a_case_leaves_its_scope_and_is_sent_to_the_queue(world: World) -> None:
    case = submit(world, grid=0)
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    answer = client_for(world.handler0).post(
        f"/cases/wb/{case.pk}/act/return/", {"note": "不是物业范围"}, **HTMX
    )
    assert answer.status_code == 204 and answer["HX-Redirect"] == "/cases/wb/"
    case.refresh_from_db()
    assert case.status == Status.TRIAGED and case.unit_id is None


def test_the_queue_filters_by_role_and_answers_htmx_with_the_table_only(world: World) -> None:
    fresh = submit(world, grid=0)
    late = submit(world, grid=1, reporter=world.resident2)
    Case.objects.filter(pk=late.pk).update(resolve_due_at=timezone.now() - timedelta(hours=1))
    c = client_for(world.secretary0)
    page = c.get("/cases/wb/").content.decode()
    assert 'aria-current="page">待梳理交办' in page and fresh.number in page and late.number in page
    partial = c.get(
        "/cases/wb/?queue=dispatch&overdue=1", HTTP_HX_TARGET="queue-results", **HTMX
    ).content.decode()
    assert "<html" not in partial and late.number in partial and fresh.number not in partial
    channel = c.get("/cases/wb/?queue=all&channel=window").content.decode()
    assert fresh.number not in channel


def test_bulk_assign_assigns_each_case_in_scope_and_skips_the_rest(world: World) -> None:
    a = submit(world, grid=0)
    b = submit(world, grid=1, reporter=world.resident2)
    other = submit(world, grid=2)
    c = client_for(world.secretary0)
    answer = c.post(
        "/cases/wb/bulk-assign/",
        {"ids": [a.pk, b.pk, other.pk], "unit": world.unit0.pk, "back": "/cases/wb/"},
    )
    assert answer.status_code == 302
    statuses = dict(Case.objects.values_list("pk", "status"))
    assert statuses[a.pk] == statuses[b.pk] == Status.ASSIGNED
    assert statuses[other.pk] == Status.SUBMITTED


def intake_data(**fields: object) -> dict[str, object]:
    """The 代客 form as a window clerk fills it for a caller; ``fields`` adds or replaces values."""
    return {
        "channel": Channel.WINDOW,
        "category": category("city.litter").pk,
        "kind": "",
        "text": "楼道堆物",
        "contact_name": "王大妈",
        "contact_phone": "13812345678",
        **fields,
    }


def test_window_staff_file_a_case_for_a_resident_with_the_phone_masked(world: World) -> None:
    c = client_for(world.window0)
    page = c.get("/cases/wb/new/")
    assert page.status_code == 200 and "代客登记" in page.content.decode()
    data = intake_data(
        text="居民来窗口反映楼道堆物",
        community=world.d.communities[0].pk,
        address="5栋2单元",
        idempotency_key="window-key-0001",
    )
    missing = c.post("/cases/wb/new/", {**data, "contact_phone": ""})
    assert missing.status_code == 400 and "居民来窗口反映楼道堆物" in missing.content.decode()
    answer = c.post("/cases/wb/new/", data)
    case = Case.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/cases/wb/{case.pk}/"
    assert (case.channel, case.filed_by, case.reporter) == (Channel.WINDOW, world.window0, None)
    detail = client_for(world.secretary0).get(f"/cases/wb/{case.pk}/").content.decode()
    assert "138****5678" in detail and "13812345678" not in detail
    assert "王*" in detail and "王大妈" not in detail
    other = c.post(
        "/cases/wb/new/", {**data, "community": world.d.communities[2].pk, "idempotency_key": "k-other-01"}
    )
    assert other.status_code == 400 and Case.objects.count() == 1
    # The same form sent again with another caller's words (the clerk went back): nothing filed, the
    # words kept, a fresh key in the form; sending it again files the second case.
    second = {**data, "text": "另一位居民反映电梯异响"}
    refused = c.post("/cases/wb/new/", second)
    html = refused.content.decode()
    assert refused.status_code == 400 and "这份表单已提交过" in html and case.number in html
    assert "另一位居民反映电梯异响" in html and Case.objects.count() == 1
    fresh = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert fresh != data["idempotency_key"]
    assert c.post("/cases/wb/new/", {**second, "idempotency_key": fresh}).status_code == 302
    assert Case.objects.count() == 2


def test_revealing_a_phone_needs_a_reason_and_is_audited(world: World) -> None:
    case = submit(world, grid=0, reporter=None, contact_phone="13812345678", channel=Channel.RESIDENT)
    secretary = client_for(world.secretary0)
    assert "查看联系电话" in secretary.get(f"/cases/wb/{case.pk}/").content.decode()
    empty = secretary.post(f"/cases/wb/{case.pk}/reveal/", {"field": "contact_phone", "reason": ""}, **HTMX)
    assert empty.status_code == 400 and "13812345678" not in empty.content.decode()
    shown = secretary.post(
        f"/cases/wb/{case.pk}/reveal/", {"field": "contact_phone", "reason": "回访核实"}, **HTMX
    )
    assert shown.status_code == 200 and "13812345678" in shown.content.decode()
    assert AuditEvent.objects.filter(action="pii.reveal", result="ok", object_id=str(case.pk)).count() == 1
    grid = client_for(world.grid0)
    assert "查看联系电话" not in grid.get(f"/cases/wb/{case.pk}/").content.decode()
    refused = grid.post(f"/cases/wb/{case.pk}/reveal/", {"field": "contact_phone", "reason": "想看"}, **HTMX)
    assert refused.status_code == 400 and "13812345678" not in refused.content.decode()
    assert AuditEvent.objects.filter(action="pii.reveal", result="denied").count() == 1


def test_the_handler_of_a_case_in_hand_may_call_the_reporter_back_audited(world: World) -> None:
    from linli.cases.services import case_accept, case_return

    case = submit(world, grid=0, reporter=None, contact_phone="13812345678", channel=Channel.RESIDENT)
    handler = client_for(world.handler0)
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    assert "查看联系电话" in handler.get(f"/cases/wb/{case.pk}/").content.decode()
    shown = handler.post(
        f"/cases/wb/{case.pk}/reveal/", {"field": "contact_phone", "reason": "联系群众核实"}, **HTMX
    )
    assert shown.status_code == 200 and "13812345678" in shown.content.decode()
    audit = AuditEvent.objects.get(action="pii.reveal", result="ok", object_id=str(case.pk))
    assert audit.data["duty"] == "case_handler" and audit.data["field"] == "contact_phone"
    no_reason = handler.post(f"/cases/wb/{case.pk}/reveal/", {"field": "contact_phone", "reason": ""}, **HTMX)
    assert no_reason.status_code == 400 and "13812345678" not in no_reason.content.decode()
    # Out of their hands (退单): no longer.
    case_accept(case_id=case.pk, actor=world.handler0)
    case_return(case_id=case.pk, actor=world.handler0, note="非本单位职责")
    after = handler.post(
        f"/cases/wb/{case.pk}/reveal/", {"field": "contact_phone", "reason": "再看一次"}, **HTMX
    )
    assert after.status_code in (400, 404) and "13812345678" not in after.content.decode()
    # Another unit's handler never.
    other = client_for(world.handler1).post(
        f"/cases/wb/{case.pk}/reveal/", {"field": "contact_phone", "reason": "想看"}, **HTMX
    )
    assert other.status_code == 404
    assert AuditEvent.objects.filter(action="pii.reveal", result="ok").count() == 1


def test_the_overdue_board_is_for_supervisors(world: World) -> None:
    late = submit(world, grid=0)
    on_time = submit(world, grid=1, reporter=world.resident2)
    Case.objects.filter(pk=late.pk).update(resolve_due_at=timezone.now() - timedelta(days=2))
    board = client_for(world.secretary0).get("/cases/wb/overdue/")
    html = board.content.decode()
    assert board.status_code == 200 and late.number in html and on_time.number not in html
    assert client_for(world.grid0).get("/cases/wb/overdue/").status_code == 404
    assert client_for(world.secretary2).get("/cases/wb/overdue/").content.decode().count(late.number) == 0


def _clone(case: Case, n: int) -> None:
    """n more open cases at the same place (bulk, for the map's cap and query count)."""
    rows = []
    for i in range(n):
        clone = Case.objects.get(pk=case.pk)
        clone.pk = None
        clone.number = f"{case.number[:9]}{900000 + i:06d}"
        clone.idempotency_key = ""
        clone.lng = (clone.lng or 0) + i * 1e-6
        rows.append(clone)
    Case.objects.bulk_create(rows)


def test_map_pins_are_scoped_capped_at_100_and_take_a_constant_number_of_queries(world: World) -> None:
    mine = submit(world, grid=0)
    theirs = submit(world, grid=2, reporter=world.resident2)
    grid = client_for(world.grid0)
    grid.get("/cases/wb/map/")  # warm the session
    url = f"/cases/wb/map/pins/?bbox={BBOX}"
    with CaptureQueriesContext(connection) as few:
        body = grid.get(url).json()
    assert [p["id"] for p in body["pins"]] == [mine.pk] and not body["truncated"]
    assert theirs.pk not in [p["id"] for p in client_for(world.grid0).get(url).json()["pins"]]
    _clone(mine, 120)
    with CaptureQueriesContext(connection) as many:
        body = grid.get(url).json()
    assert len(body["pins"]) == 100 and body["truncated"]
    assert len(many) == len(few)
    assert len(grid.get(url).content) < 30 * 1024
    assert grid.get("/cases/wb/map/pins/?bbox=nonsense").status_code == 400


def test_a_bad_filter_value_drops_that_filter_only_and_says_so(world: World) -> None:
    closed = submit(world, grid=0)
    open_case = submit(world, grid=0)
    from linli.cases.services import case_close_unresolved

    case_close_unresolved(case_id=closed.pk, actor=world.secretary0, note="历史遗留")
    c = client_for(world.secretary0)
    page = c.get("/cases/wb/", {"queue": "all", "status": "closed_unresolved", "grid": "999999"})
    html = page.content.decode()
    assert page.status_code == 200 and 'aria-current="page"' in html
    assert closed.number in html and open_case.number not in html  # status and queue still apply
    assert "以下筛选条件无效,已忽略" in html
    assert "以下筛选条件无效" not in c.get("/cases/wb/").content.decode()


def test_intake_by_a_point_outside_the_clerks_area_is_refused(world: World) -> None:
    from linli.cases.tests.factories import grid_point

    c = client_for(world.window0)  # community 0's window
    lat, lng = grid_point(world.d, 7)  # a grid of another community
    data = intake_data(
        text="居民来窗口反映别处的问题", lat=lat, lng=lng, idempotency_key="window-key-point-01"
    )
    answer = c.post("/cases/wb/new/", data)
    html = answer.content.decode()
    assert answer.status_code == 400 and "该位置不在您的辖区" in html and "居民来窗口反映别处的问题" in html
    assert not Case.objects.exists()
    own_lat, own_lng = grid_point(world.d, 0)
    ok = c.post("/cases/wb/new/", {**data, "lat": own_lat, "lng": own_lng})
    assert ok.status_code == 302 and Case.objects.count() == 1


def test_intake_says_only_what_is_wrong(world: World) -> None:
    c = client_for(world.window0)
    base = intake_data(idempotency_key="window-key-msg-01")
    typo = c.post("/cases/wb/new/", {**base, "lat": "31.4x", "lng": "104.66"}).content.decode()
    assert "经纬度需同时填写" not in typo and "请选择社区、填写地址或坐标" not in typo
    assert world.d.communities[-1].pk != world.d.communities[0].pk
    refused = c.post("/cases/wb/new/", {**base, "community": world.d.communities[-1].pk})
    foreign = refused.content.decode()
    assert refused.status_code == 400 and "请选择社区、填写地址或坐标" not in foreign
    nothing = c.post("/cases/wb/new/", base).content.decode()
    assert "请选择社区、填写地址或坐标" in nothing
    assert not Case.objects.exists()


def test_intake_says_when_chosen_photos_must_be_chosen_again(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = client_for(world.window0)
    data = intake_data(
        contact_phone="", community=world.d.communities[0].pk, idempotency_key="window-key-photo-1"
    )
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps((400, 300)), content_type="image/jpeg")
    answer = c.post("/cases/wb/new/", {**data, "photos": [photo]})
    assert answer.status_code == 400 and "已选择的照片未保存,请重新选择后再提交" in answer.content.decode()
    assert "已选择的照片未保存" not in c.post("/cases/wb/new/", data).content.decode()


def test_intake_offers_the_open_cases_of_the_category_already_filed_there(world: World) -> None:
    from linli.cases.tests.factories import grid_point

    litter = category("city.litter").pk
    same = submit(world, grid=0)  # litter, community 0: the window's own area
    other_kind = submit(world, grid=0, category_id=category("road.streetlight").pk)
    elsewhere = submit(world, grid=7)  # litter, another street's community: outside the window's scope
    c = client_for(world.window0)
    url = "/cases/wb/new/similar/"
    lat, lng = grid_point(world.d, 0)
    by_point = c.get(url, {"category": litter, "lat": lat, "lng": lng}, **HTMX).content.decode()
    assert same.number in by_point and "0 米" in by_point and "附近同类未办结工单" in by_point
    assert other_kind.number not in by_point and elsewhere.number not in by_point
    by_community = c.get(url, {"category": litter, "community": world.d.communities[0].pk}, **HTMX)
    assert same.number in by_community.content.decode() and "本社区同类" in by_community.content.decode()
    # a case outside the clerk's scope is not shown even when asked for by its own point
    far_lat, far_lng = grid_point(world.d, 7)
    assert c.get(url, {"category": litter, "lat": far_lat, "lng": far_lng}, **HTMX).content == b""
    # half-typed or bad values show nothing rather than an error
    for params in (
        {"category": "路灯"},
        {"category": litter, "lat": "31.", "lng": ""},
        {"lat": "nan"},
        {"category": "9" * 25, "community": "9" * 25},  # past a database integer: ignored, not a 500
    ):
        answer = c.get(url, params, **HTMX)
        assert answer.status_code == 200 and answer.content == b""
    # once closed it is no longer offered
    from linli.cases.models import STATUS_INFO

    closed = STATUS_INFO[Status.CLOSED].category
    Case.objects.filter(pk=same.pk).update(status=Status.CLOSED, status_category=closed)
    assert c.get(url, {"category": litter, "lat": lat, "lng": lng}, **HTMX).content == b""
    # residents cannot ask; the intake page carries the panel that asks as the form is filled in
    assert client_for(world.resident).get(url, {"category": litter}).status_code != 200
    page = c.get("/cases/wb/new/").content.decode()
    assert 'id="intake-similar"' in page and "/cases/wb/new/similar/" in page
