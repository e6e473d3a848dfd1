"""Personal data in the register: encrypted at rest (PI-1), masked in every output unless revealed (PI-2),
each reveal, detail read and export in the audit trail exactly once (AUD-1)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.db import connection
from django.test import Client

from linli.accounts.tests.factories import UserFactory
from linli.people.models import Resident, Steward
from linli.people.tests.factories import People
from linli.security.logscan import pii_leaks
from linli.security.models import AuditEvent, AuditResult

PEOPLE_TABLES = [
    "people_household", "people_resident", "people_residentmove", "people_carerecord", "people_carerecordevent",
    "people_carevisit", "people_carevisitphoto", "people_steward", "people_stewardevent",
]  # fmt: skip
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.django_db
def test_a_raw_dump_of_the_people_tables_holds_no_id_number_and_no_phone(people: People) -> None:
    secrets = {r.id_number for r in people.residents} | {r.phone for r in people.residents}
    secrets |= {s.duty_phone for s in people.stewards if s.duty_phone}
    leaks: list[str] = []
    with connection.cursor() as cursor:
        for table in PEOPLE_TABLES:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = "" if value is None else str(value)
                    if column.endswith("_index"):
                        # Keyed hashes: 32 hex characters (a digit run there is chance, not data).
                        assert text == "" or _HEX32.match(text), (table, column)
                        continue
                    leaks += [f"{table}.{column}: {leak[:3]}…" for leak in pii_leaks(text)]
                    leaks += [f"{table}.{column}: known value" for s in secrets if s and s in text]
    assert leaks == []
    # The rows are really there, encrypted: the ORM reads them back.
    assert Resident.objects.get(pk=people.residents[0].pk).id_number == people.residents[0].id_number


def _body(response: object) -> str:
    content: bytes = response.content  # type: ignore[attr-defined]
    if content.startswith(b"PK\x03\x04"):  # an .xlsx: scan every part's XML, not the compressed bytes
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return "\n".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    return content.decode("utf-8", "replace")


def _outputs(people: People, client: Client) -> dict[str, str]:
    household, resident, record = people.households[0], people.residents[0], people.care[0]
    steward = people.stewards[1]  # an applicant: masked, unlike the public card of an active steward
    responses = {
        "page register": client.get("/people/?status="),
        "page household": client.get(f"/people/households/{household.pk}/"),
        "page resident": client.get(f"/people/residents/{resident.pk}/"),
        "page care list": client.get("/people/care/"),
        "page care": client.get(f"/people/care/{record.pk}/"),
        "page stewards": client.get("/people/stewards/?status=applied"),
        "page steward": client.get(f"/people/stewards/{steward.pk}/"),
        "page lookup": client.post("/people/lookup/", {"id_number": resident.id_number}),
        "api residents": client.get("/api/people/residents?status=&page_size=100"),
        "api households": client.get("/api/people/households?page_size=100"),
        "api household": client.get(f"/api/people/households/{household.pk}"),
        "api resident": client.get(f"/api/people/residents/{resident.pk}"),
        "api lookup": client.post(
            "/api/people/residents/lookup", {"phone": resident.phone}, content_type="application/json"
        ),
        "api care": client.get(f"/api/people/care/{record.pk}"),
        "api care list": client.get("/api/people/care"),
        "api stewards": client.get("/api/people/stewards?status=applied"),
        "api export": client.post("/api/people/register/export", {}),
        "page export": client.post("/people/export/", {"status": ""}),
    }
    return {label: _body(r) for label, r in responses.items() if r.status_code == 200}


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["grid0", "back_office0", "window0", "secretary0"])
def test_no_output_holds_a_full_id_number_phone_or_name_without_a_reveal(
    client: Client, people: People, username: str
) -> None:
    """PI-2 for viewers without reveal rights, and for the secretary who has them but gave no reason."""
    client.force_login(people.users[username])
    outputs = _outputs(people, client)
    assert "page register" in outputs and "api residents" in outputs
    hidden = [("id", r.id_number) for r in people.residents] + [("phone", r.phone) for r in people.residents]
    hidden += [("name", r.name) for r in people.residents]
    hidden += [("steward phone", s.duty_phone) for s in people.stewards if s.status != "active"]
    hidden += [("steward name", s.name) for s in people.stewards if s.status != "active"]
    found = [
        f"{label}: {kind}"
        for label, body in outputs.items()
        for kind, value in hidden
        if value and value in body
    ]
    assert found == []
    # ...while the masked forms are there.
    masked = people.residents[0].phone[:3] + "****" + people.residents[0].phone[-4:]
    assert masked in outputs["page household"]


@pytest.mark.django_db
def test_the_admin_shows_residents_masked(client: Client, people: People) -> None:
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    resident = people.residents[0]

    listing = client.get("/admin/people/resident/").content.decode()
    detail = client.get(f"/admin/people/resident/{resident.pk}/change/").content.decode()

    for body in (listing, detail):
        assert resident.id_number not in body and resident.phone not in body and resident.name not in body
    assert resident.id_number[:3] + "*" * 11 + resident.id_number[-4:] in listing
    assert client.get("/admin/people/carerecord/").status_code == 404  # not in the admin at all (PI-3)


def _rows(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


@pytest.mark.django_db
def test_each_reveal_granted_or_refused_writes_exactly_one_audit_row(client: Client, people: People) -> None:
    resident = people.residents[0]
    client.force_login(people.users["secretary0"])

    api = client.post(
        f"/api/people/residents/{resident.pk}/reveal",
        {"field": "id_number", "reason": "核对低保申请"},
        content_type="application/json",
    )
    page = client.post(f"/people/residents/{resident.pk}/reveal/", {"field": "phone", "reason": "电话回访"})
    no_reason = client.post(f"/people/residents/{resident.pk}/reveal/", {"field": "phone", "reason": ""})
    client.force_login(people.users["grid0"])
    forbidden = client.post(
        f"/api/people/residents/{resident.pk}/reveal",
        {"field": "phone", "reason": "想看"},
        content_type="application/json",
    )

    assert api.status_code == 200 and api.json()["value"] == resident.id_number
    assert "no-store" in api["Cache-Control"]
    assert page.status_code == 200 and resident.phone in page.content.decode()
    assert (no_reason.status_code, forbidden.status_code) == (400, 403)
    rows = _rows("pii.reveal")
    assert [(r.actor_label, r.result, r.data["field"]) for r in rows] == [
        ("sec0", AuditResult.OK, "id_number"),
        ("sec0", AuditResult.OK, "phone"),
        ("sec0", AuditResult.DENIED, "phone"),
        ("gw0", AuditResult.DENIED, "phone"),
    ]
    assert all(resident.phone not in str(r.data) and resident.id_number not in str(r.data) for r in rows)
    # One request, one row: the reveal is not also counted as a read or a denial.
    assert AuditEvent.objects.filter(request_id=rows[0].request_id).count() == 1


@pytest.mark.django_db
def test_each_detail_read_and_each_export_writes_exactly_one_audit_row(
    client: Client, people: People
) -> None:
    client.force_login(people.users["secretary0"])
    resident, record = people.residents[0], people.care[0]

    for url in (
        f"/people/residents/{resident.pk}/",
        f"/api/people/residents/{resident.pk}",
        f"/people/care/{record.pk}/",
        f"/api/people/care/{record.pk}",
    ):
        before = AuditEvent.objects.count()
        assert client.get(url).status_code == 200
        assert AuditEvent.objects.count() == before + 1, url
        assert AuditEvent.objects.order_by("-seq").first().action == "pii.read"  # type: ignore[union-attr]
    before = AuditEvent.objects.count()
    assert client.post("/people/export/", {"status": "", "reason": "年度核对"}).status_code == 200
    assert client.post("/api/people/register/export", {}).status_code == 200
    assert [r.action for r in AuditEvent.objects.order_by("seq")[before:]] == ["data.export", "data.export"]


@pytest.mark.django_db
def test_the_public_card_shows_active_stewards_in_full_and_nobody_else(
    client: Client, people: People
) -> None:
    building = people.d.buildings[0]
    active = Steward.objects.get(pk=people.stewards[0].pk)
    applicant = people.stewards[1]

    page = client.get(f"/people/building/{building.code}/card/").content.decode()
    api = client.get(f"/api/people/buildings/{building.code}/card").json()

    assert active.name in page and active.duty_phone in page
    assert applicant.name not in page and applicant.duty_phone not in page
    assert [s["name"] for s in api["stewards"]] == [active.name]
    assert client.get("/people/building/NOPE/card/").status_code == 404
