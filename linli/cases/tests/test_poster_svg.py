"""The downloadable building poster: one self-contained SVG (valid XML, the signed QR code as vector paths,
the building, the 三亮 people with duty phones, every text escaped), the same poster as PDF when WeasyPrint
is installed (a clear 501 when not), and 404 for anything but a building in the user's scope."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from defusedxml.ElementTree import fromstring
from django.test import Client

from linli.accounts.models import User
from linli.cases.poster_svg import building_poster_svg, qr_path_data
from linli.cases.qr import PosterPerson, building_qr_path
from linli.cases.tests.factories import World
from linli.party.pdf import pdf_available
from linli.places.models import Region

SVG = "{http://www.w3.org/2000/svg}"


def client_for(user: User | None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def texts(root: ET.Element) -> str:
    """All text of the drawing, element by element (tspans included), joined by newlines."""
    return "\n".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


def _steward(building: Region, **over: object) -> None:
    from linli.people.models import Steward, StewardKind, StewardStatus

    community = Region.objects.get(pk=building.parent.parent_id)  # type: ignore[union-attr]
    fields: dict[str, object] = {
        "kind": StewardKind.RED,
        "name": "赵红",
        "duty": "楼栋议事、邻里互助",
        "duty_phone": "13700001111",
        "status": StewardStatus.ACTIVE,
        "community": community,
        "region_path": community.path,
    }
    fields.update(over)
    Steward.objects.create(**fields).buildings.set([building])


def test_the_svg_poster_is_xml_with_the_qr_code_the_building_and_the_three_bright_people(
    world: World,
) -> None:
    building = world.d.buildings[0]  # grid 0: world.grid0 is its grid worker
    world.grid0.display_name = "李网格"
    world.grid0.save(update_fields=["display_name"])
    _steward(building)
    answer = client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/poster.svg")

    assert answer.status_code == 200 and answer["Content-Type"].startswith("image/svg+xml")
    assert answer["Content-Disposition"] == f'attachment; filename="poster-{building.code}.svg"'
    assert answer.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = fromstring(answer.content)
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 210 297"
    # The QR code is segno's vector path for the building's signed URL: scanning it reaches this building.
    url = f"http://testserver{building_qr_path(building)}"
    (qr,) = [p for p in root.iter(f"{SVG}path") if p.get("class") == "qr"]
    assert qr.get("d") == qr_path_data(url)[0]
    drawn = texts(root)
    assert building.name in drawn and building.parent.name in drawn  # type: ignore[union-attr]
    # The people app's registry is the source when it names anyone: the steward, with the duty phone.
    assert "赵红" in drawn and "13700001111" in drawn and "红色小管家" in drawn and "楼栋议事" in drawn
    assert url in drawn.replace("\n", "")
    # Self-contained and CSP-clean: no scripts, no style attributes or elements, nothing fetched.
    body = answer.content.decode()
    assert "<script" not in body and "style=" not in body and "<style" not in body and "href" not in body


def test_without_stewards_the_grid_worker_is_named_with_the_notice_board_for_a_phone(world: World) -> None:
    building = world.d.buildings[0]
    world.grid0.display_name = "李网格"
    world.grid0.save(update_fields=["display_name"])
    root = fromstring(client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/poster.svg").content)
    drawn = texts(root)
    assert "李网格" in drawn and "网格员" in drawn and "值守电话:见社区公示栏" in drawn


def test_every_text_is_escaped_and_control_characters_dropped(world: World) -> None:
    building = world.d.buildings[0]
    building.name = '1栋<script>alert(1)</script>&"\x07'
    building.save(update_fields=["name"])
    _steward(building, name="A&B <管家>", duty="</text><script>x</script>", organisation='"物业"&')
    answer = client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/poster.svg")
    body = answer.content.decode()
    assert "<script" not in body and "\x07" not in body
    drawn = texts(fromstring(answer.content)).replace("\n", "")  # long lines were wrapped
    assert '1栋<script>alert(1)</script>&"' in drawn  # the text survives, as text
    assert "A&B <管家>" in drawn and '"物业"&' in drawn and "</text><script>x</script>" in drawn


def test_many_people_go_into_two_columns_and_the_rest_are_summarised() -> None:
    people = [
        PosterPerson(role="楼栋长", name=f"王{i:02d}", duty="很长的职责说明" * 12, phone="0816-1234567")
        for i in range(13)
    ]
    svg = building_poster_svg(
        url="https://example.org/cases/q/x:y/", building_name="1栋", building_code="B1", people=people
    )
    drawn = texts(fromstring(svg.encode()))
    assert "王00" in drawn and "王08" in drawn and "王09" not in drawn
    assert "另有4人,详见社区公示栏" in drawn
    assert "…" in drawn  # the long duty text was cut, not run off the page
    for node in fromstring(svg.encode()).iter(f"{SVG}text"):
        assert 0 <= float(node.get("y", "0")) <= 297


@pytest.mark.parametrize("suffix", ["poster.svg", "poster.pdf"])
def test_buildings_outside_the_scope_forged_ids_and_non_buildings_answer_404(
    world: World, suffix: str
) -> None:
    building = world.d.buildings[0]  # community 0
    not_a_building = world.d.estates[0]
    missing = Region.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    assert client_for(world.grid2).get(f"/cases/wb/qr/{building.pk}/{suffix}").status_code == 404
    assert client_for(world.resident).get(f"/cases/wb/qr/{building.pk}/{suffix}").status_code == 404
    secretary = client_for(world.secretary0)
    assert secretary.get(f"/cases/wb/qr/{not_a_building.pk}/{suffix}").status_code == 404
    assert secretary.get(f"/cases/wb/qr/{missing}/{suffix}").status_code == 404
    assert secretary.get(f"/cases/wb/qr/{world.d.buildings[4].pk}/{suffix}").status_code == 404  # community 2
    anonymous = client_for(None).get(f"/cases/wb/qr/{building.pk}/{suffix}")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_the_html_poster_links_the_downloads(world: World) -> None:
    building = world.d.buildings[0]
    html = client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/").content.decode()
    assert f"/cases/wb/qr/{building.pk}/poster.svg" in html
    assert (f"/cases/wb/qr/{building.pk}/poster.pdf" in html) == pdf_available()


@pytest.mark.skipif(not pdf_available(), reason="WeasyPrint is not installed")
def test_the_poster_renders_as_a_pdf(world: World) -> None:
    building = world.d.buildings[0]
    answer = client_for(world.secretary0).get(f"/cases/wb/qr/{building.pk}/poster.pdf")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")


def test_without_weasyprint_the_pdf_answers_501_and_points_to_the_svg(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("linli.cases.views.posters.html_to_pdf", lambda html, stylesheet="": None)
    answer = client_for(world.secretary0).get(f"/cases/wb/qr/{world.d.buildings[0].pk}/poster.pdf")
    assert answer.status_code == 501 and "SVG" in answer.content.decode()
