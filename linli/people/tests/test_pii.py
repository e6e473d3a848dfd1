"""Personal data in the register: encrypted at rest (PI-1), masked in every output unless revealed (PI-2),
each reveal, detail read and export in the audit trail exactly once (AUD-1)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.db import connection
from django.test import Client
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from linli.accounts.tests.factories import UserFactory
from linli.people.models import Resident, Steward
from linli.people.tests.factories import People
from linli.security.models import AuditEvent, AuditResult

# Columns allowed to hold a plain phone number: none (every phone column is an EncryptedTextField with a
# blind index, see linli/security/pii.py). Valid ID numbers are allowed nowhere either.
PLAINTEXT_PHONE_COLUMNS: set[tuple[str, str]] = set()
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
# An ID number standing on its own (not inside a longer run of ASCII letters and digits): hex digests and
# salts (password hashes, blind indexes, tokens) hold digit runs that pass the check character by chance
# (seen in CI: a password hash, about one run in a few hundred). A leaked number in text, JSON or CSV is
# bounded by punctuation, spaces or CJK characters and is still found.
_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])([0-9]{17}[0-9Xx])(?![0-9A-Za-z])")


def is_valid_id_number(number: str) -> bool:
    """A 居民身份证号 by python-stdnum's cn.ric rules: GB 11643 check character and a real birth date. (Not
    ``ric.is_valid``: it also wants the area code to have existed in the birth year, and a leak detector
    must not miss a number because its county was renamed.)"""
    number = number.upper()
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return False
    return ric.calc_check_digit(number) == number[-1]


def valid_id_numbers(text: str) -> list[str]:
    """Every 18-character run in ``text`` that is a valid ID number."""
    return [m for m in _ID_CANDIDATE.findall(text) if is_valid_id_number(m)]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _data_in_every_app(people: People) -> set[str]:
    """Rows carrying ID numbers or phones in every app that keeps them, written through the services (and
    the requests that leave audit rows); returns the phone numbers used."""
    from django.db import transaction
    from django.test import Client

    from linli.accounts.tests.factories import ResidentFactory
    from linli.bookings.models import Outcome
    from linli.bookings.services.window import service_record_create
    from linli.bookings.tests.factories import build_booking_world
    from linli.cases.models import Channel
    from linli.cases.services import case_submit
    from linli.cases.tests.factories import case_rules_ensure, category, grid_point
    from linli.needs.services import (
        need_create,
        organisation_create,
        organisation_member_add,
        resource_create,
    )
    from linli.notifications.services import notification_send
    from linli.party.services import checkin_register, party_member_create, volunteer_register

    phones = {f"1371234{n:04d}" for n in range(8)}
    p = sorted(phones)
    d, secretary = people.d, people.users["secretary0"]
    community = d.communities[0]
    member_user = ResidentFactory(phone=p[0])
    party_member_create(actor=secretary, name="党员甲", community_id=community.pk, phone=p[1])
    volunteer_register(actor=secretary, name="志愿者乙", community_id=community.pk, phone=p[2])
    checkin_register(
        user=member_user, community_id=community.pk, name="李卫东", employer="区税务局",
        commitments=[("volunteer", "每月参加楼道清洁")],
    )  # fmt: skip
    need_create(
        actor=secretary, title="助餐", category="elderly", source_kind="resident", region_id=community.pk,
        contact_name="王大爷", contact_phone=p[3],
    )  # fmt: skip
    org = organisation_create(
        actor=secretary, name="向日葵公益", kind="social_org", region_id=community.pk, contact_phone=p[4]
    )
    organisation_member_add(actor=secretary, organisation_id=org.pk, phone=member_user.phone)
    resource_create(
        actor=secretary, name="送餐", kind="services", category="elderly", provider_kind="organisation",
        organisation_id=org.pk, region_id=community.pk, capacity=3, contact_phone=p[5],
    )  # fmt: skip
    bw = build_booking_world(d)
    service_record_create(
        actor=bw.window0, station_id=bw.station0.pk, item_id=bw.item.pk, outcome=Outcome.CONSULTED,
        minutes=5, resident_phone=p[6], visitor_name="过路人",
    )  # fmt: skip
    with transaction.atomic():  # the outbox: an SMS to an account's phone and to a phone without one
        notification_send(
            recipients=[member_user], kind="test.pii", title="测试", body="您的报到已确认", sms_text="报到已确认",
            dedup_key="test:pii:1", phones=[p[7]],
        )  # fmt: skip
    case_rules_ensure()
    lat, lng = grid_point(d, 0)
    case_submit(
        text="楼道灯坏了", channel=Channel.RESIDENT, reporter=member_user,
        category_id=category("city.litter").pk, lat=lat, lng=lng, contact_phone=p[6],
    )  # fmt: skip
    client = Client()  # audit rows of lookups and reveals (by ID number and phone)
    client.force_login(secretary)
    resident = people.residents[0]
    client.post(
        "/api/people/residents/lookup", {"id_number": resident.id_number}, content_type="application/json"
    )
    client.post("/api/people/residents/lookup", {"phone": resident.phone}, content_type="application/json")
    client.post(
        f"/api/people/residents/{resident.pk}/reveal",
        {"field": "id_number", "reason": "核对低保申请"},
        content_type="application/json",
    )
    return phones | {member_user.phone}


@pytest.mark.django_db
def test_a_raw_dump_of_every_table_holds_no_valid_id_number_and_no_phone(people: People) -> None:
    """PI-1 over the whole database, not only the people tables: every text and binary column of every
    table, after people, party, needs, bookings, cases, the outbox and the audit trail have rows."""
    phones = _data_in_every_app(people)
    phones |= {r.phone for r in people.residents} | {s.duty_phone for s in people.stewards if s.duty_phone}
    id_numbers = {r.id_number for r in people.residents}
    assert all(is_valid_id_number(n) for n in id_numbers)  # the test data would be found if it leaked
    assert not is_valid_id_number(next(iter(id_numbers))[:-1] + "Y")
    leaks: list[str] = []
    scanned: set[str] = set()
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - catalogue names
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                scanned.add(table)
                for column, value in zip(columns, row, strict=True):
                    text = _text(value)
                    if not text or not any(ch.isdigit() for ch in text):
                        continue
                    if column.endswith("_index"):
                        # Keyed hashes: 32 hex characters (a digit run there is chance, not data).
                        assert _HEX32.match(text), (table, column)
                        continue
                    leaks += [f"{table}.{column}: ID {n[:3]}…" for n in valid_id_numbers(text)]
                    leaks += [f"{table}.{column}: known ID" for n in id_numbers if n in text]
                    if (table, column) not in PLAINTEXT_PHONE_COLUMNS:
                        leaks += [f"{table}.{column}: phone {n[:3]}…" for n in phones if n in text]
    assert leaks == []
    # The scan saw the apps' tables with rows in them (the data is there, encrypted).
    for table in (
        "people_resident", "people_steward", "party_partymember", "party_volunteer", "needs_need",
        "needs_organisation", "needs_resource", "needs_organisationmember", "bookings_servicerecord",
        "notifications_outboxmessage", "security_auditevent", "accounts_user", "cases_case",
    ):  # fmt: skip
        assert table in scanned, table
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


def test_the_dump_scanner_finds_a_number_in_text_but_not_inside_a_hex_digest() -> None:
    number = "11010519491231002X"  # valid check character and birth date
    texts = [f"身份证{number}。", f'{{"id": "{number}"}}', f"{number},张三", f"md5$ab12${number}a9f0"]
    assert [valid_id_numbers(t) for t in texts] == [[number], [number], [number], []]
