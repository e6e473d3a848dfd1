"""Building QR codes: signed per building, forged or altered codes refused (and audited), the poster with
the 三亮 people, scoped to staff of the building."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django.test import Client

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.services import membership_grant
from linli.cases.models import Case
from linli.cases.qr import (
    PosterPerson,
    QrError,
    building_from_token,
    building_qr_path,
    building_qr_token,
    poster_people_register,
    poster_people_unregister,
)
from linli.cases.tests.factories import World
from linli.security.models import AuditEvent


def client_for(user: User | None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def test_a_token_names_its_building_and_is_stable(world: World) -> None:
    building = world.d.buildings[3]
    token = building_qr_token(building)
    assert token == building_qr_token(building)
    assert building_from_token(token) == building
    assert building_qr_path(building) == f"/cases/q/{token}/"


def _forgeries(world: World) -> dict[str, str]:
    genuine = building_qr_token(world.d.buildings[0])
    raw, signature = genuine.split(":")
    other = base64.urlsafe_b64encode(world.d.buildings[5].code.encode()).rstrip(b"=").decode()
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return {
        "other_building_same_signature": f"{other}:{signature}",
        "altered_signature": f"{raw}:{flipped}",
        "no_signature": raw,
        "garbage": "x" * 40,
    }


@pytest.mark.parametrize(
    "kind", ["other_building_same_signature", "altered_signature", "no_signature", "garbage"]
)
def test_a_forged_or_altered_code_is_refused_with_a_clear_message_and_audited(
    world: World, kind: str
) -> None:
    token = _forgeries(world)[kind]
    with pytest.raises(QrError):
        building_from_token(token)
    answer = client_for(world.resident).get(f"/cases/q/{token}/")
    assert answer.status_code == 400
    assert "二维码无效或已被改动" in answer.content.decode()
    assert (
        AuditEvent.objects.filter(
            action="cases.qr_refused", result="denied", actor_id=world.resident.pk
        ).count()
        == 1
    )


def test_a_forged_code_in_a_submitted_report_files_nothing(world: World) -> None:
    token = _forgeries(world)["other_building_same_signature"]
    data = {"category": "", "text": "楼道灯坏了", "building_token": token, "idempotency_key": "forged-key-01"}
    answer = client_for(world.resident).post("/cases/report/", data, HTTP_ACCEPT="application/json")
    assert answer.status_code == 400 and "二维码无效" in answer.json()["errors"]["location"][0]
    assert not Case.objects.exists()
    assert AuditEvent.objects.filter(action="cases.qr_refused").count() == 1


def test_a_genuine_token_of_something_that_is_not_a_building_is_refused(world: World) -> None:
    with pytest.raises(QrError) as refused:
        building_from_token(building_qr_token(world.d.estates[0]))
    assert refused.value.code == "qr_unknown_building"


def test_the_poster_shows_the_qr_code_the_building_and_its_grid_worker(world: World) -> None:
    building = world.d.buildings[0]  # grid 0: world.grid0 is its grid worker
    world.grid0.display_name = "李网格"
    world.grid0.save(update_fields=["display_name"])
    page = client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="qr"><path' in html and building.name in html and "李网格" in html and "网格员" in html
    assert f"http://testserver{building_qr_path(building)}" in html
    assert not re.search(r"\sstyle=", html) and "<script>" not in html
    svg = client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and svg.content.startswith(b"<?xml")
    listing = client_for(world.secretary0).get("/cases/wb/qr/").content.decode()
    assert (
        f"/cases/wb/qr/{building.pk}/" in listing
        and f"/cases/wb/qr/{world.d.buildings[4].pk}/" not in listing
    )


def test_posters_print_the_platforms_public_address_when_it_is_set(world: World, settings: Any) -> None:
    building = world.d.buildings[0]
    settings.LINLI_PUBLIC_BASE_URL = "https://linli.example.gov.cn/"
    c = client_for(world.secretary0)
    expected = f"https://linli.example.gov.cn{building_qr_path(building)}"
    html = c.get(f"/cases/wb/qr/{building.pk}/").content.decode()
    assert expected in html and "testserver" not in html
    svg = c.get(f"/cases/wb/qr/{building.pk}/qr.svg")
    assert re.fullmatch(r'attachment; filename="qr-[A-Za-z0-9._-]+\.svg"', svg["Content-Disposition"])


def test_the_poster_is_only_for_staff_of_the_building(world: World) -> None:
    building = world.d.buildings[0]
    assert client_for(world.grid2).get(f"/cases/wb/qr/{building.pk}/").status_code == 404
    assert client_for(world.resident).get(f"/cases/wb/qr/{building.pk}/").status_code == 404
    assert client_for(world.handler0).get("/cases/wb/qr/").status_code == 404  # units hold no places.view


def test_the_people_app_can_provide_the_stewards_with_duty_phones(world: World) -> None:
    def stewards(building):  # type: ignore[no-untyped-def]
        return [PosterPerson(role="红色小管家", name="赵管家", duty="楼栋议事", phone="0816-1234567")]

    poster_people_register(stewards)
    try:
        html = client_for(world.secretary0).get(f"/cases/wb/qr/{world.d.buildings[0].pk}/").content.decode()
    finally:
        poster_people_unregister(stewards)
    assert "赵管家" in html and "0816-1234567" in html and "红色小管家" in html


def test_an_inactive_grid_worker_is_not_on_the_poster(world: World) -> None:
    building = world.d.buildings[0]
    gone = User.objects.create(username="gone-worker", display_name="钱离职", is_active=False)
    membership_grant(user=gone, role=Role.GRID_WORKER, grid_id=building.grid_id)
    html = client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/").content.decode()
    assert "钱离职" not in html


def test_the_poster_shows_the_active_stewards_of_the_people_registry_with_duty_phones(world: World) -> None:
    from linli.people.models import Steward, StewardKind, StewardStatus

    building = world.d.buildings[0]
    community = world.d.communities[0]
    common = {"community": community, "region_path": community.path, "duty": "楼栋议事、邻里互助"}
    on_duty = Steward.objects.create(
        kind=StewardKind.RED, name="赵红", duty_phone="13700001111", status=StewardStatus.ACTIVE, **common
    )
    on_duty.buildings.set([building])
    applied = Steward.objects.create(
        kind=StewardKind.RED, name="孙申请", status=StewardStatus.APPLIED, **common
    )
    applied.buildings.set([building])
    html = client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/").content.decode()
    assert "赵红" in html and "13700001111" in html and "红色小管家" in html
    assert "孙申请" not in html
    # The registry names no grid worker for this grid: the grid's worker (membership) is on it all the same.
    world.grid0.display_name = "李网格"
    world.grid0.save(update_fields=["display_name"])
    html = client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/").content.decode()
    assert "李网格" in html and "赵红" in html
    # Once registered with a duty phone, the registry's entry is shown (with the phone), not the fallback.
    Steward.objects.create(
        kind=StewardKind.GRID_WORKER,
        name="李网格",
        duty_phone="13700002222",
        status=StewardStatus.ACTIVE,
        grid=building.grid,
        **common,
    )
    html = client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/").content.decode()
    assert html.count("李网格") == 1 and "13700002222" in html
