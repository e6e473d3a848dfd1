"""The hotline import screen: district intake staff upload a 12345 export; errors listed per row and column;
nothing saved on any error; the upload audited with its uploader; community staff do not see it."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from linli.accounts.models import User
from linli.cases.models import Case, Channel
from linli.cases.tests.factories import World
from linli.integrations.tests.test_hotline_import import _csv, _row
from linli.security.models import AuditEvent

PAGE = "/cases/wb/import/"


def client_for(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def upload(c: Client, data: bytes, name: str = "12345.csv") -> object:
    return c.post(PAGE, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_district_staff_import_a_file_and_see_every_error_of_a_bad_one(world: World) -> None:
    c = client_for(world.district_staff)
    assert c.get(PAGE).status_code == 200
    assert "导入12345工单" in c.get("/cases/wb/").content.decode()
    bad = _csv(
        [
            _row(world.d, "W1"),
            _row(world.d, "W2", 问题分类="外星人入侵"),
            _row(world.d, "W3", 来电时间="去年"),
        ]
    )
    answer = upload(c, bad)
    html = answer.content.decode()  # type: ignore[attr-defined]
    assert answer.status_code == 400  # type: ignore[attr-defined]
    assert "共 2 处错误,未导入任何工单" in html and "unknown_category" in html and "invalid_date" in html
    assert "<td>3</td><td>问题分类</td>" in html and "<td>4</td><td>来电时间</td>" in html
    assert not Case.objects.exists()
    good = upload(c, _csv([_row(world.d, "W1"), _row(world.d, "W2")]))
    assert good.status_code == 302  # type: ignore[attr-defined]
    assert Case.objects.filter(channel=Channel.HOTLINE).count() == 2
    assert "已导入 2 件" in c.get(PAGE).content.decode()
    audits = list(AuditEvent.objects.filter(action="data.import").order_by("id"))
    assert [a.result for a in audits] == ["failed", "ok"]
    assert all(a.actor_id == world.district_staff.pk for a in audits)


def test_wrong_files_are_refused_in_chinese(world: World) -> None:
    c = client_for(world.district_staff)
    wrong = upload(c, b"%PDF-1.4", name="orders.pdf")
    assert wrong.status_code == 400 and "只接受 .csv 或 .xlsx 文件" in wrong.content.decode()  # type: ignore[attr-defined]
    empty = upload(c, b"\xef\xbb\xbfno,header\n1,2\n")
    assert empty.status_code == 400 and 'id="import-file-error"' in empty.content.decode()  # type: ignore[attr-defined]


def test_only_district_wide_intake_staff_see_the_page(world: World) -> None:
    for user in (world.window0, world.secretary0, world.street0, world.handler0, world.resident):
        assert client_for(user).get(PAGE).status_code == 404, user.username
    assert "导入12345工单" not in client_for(world.window0).get("/cases/wb/").content.decode()
