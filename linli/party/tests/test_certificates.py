"""Certificates of hours: the printable page, the PDF, the public check, and who may read them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from linli.party.errors import PartyError
from linli.party.models import HoursCertificate, HoursSource, Volunteer
from linli.party.pdf import pdf_available
from linli.party.services import certificate_issue, hours_correct, hours_record, volunteer_register
from linli.party.tests.conftest import PartyWorld
from linli.security.models import AuditEvent


def with_hours(pw: PartyWorld) -> Volunteer:
    v = volunteer_register(
        actor=pw.w.secretary0, name="李卫东", community_id=pw.w.d.communities[0].pk, user=pw.member_user
    )
    today = timezone.localdate()
    for i, hours in enumerate(["2", "3.5", "1"]):
        entry = hours_record(
            actor=pw.w.secretary0,
            volunteer_id=v.pk,
            hours=hours,
            served_on=today - dt.timedelta(days=30 * i),
            title="社区志愿服务",
            source=HoursSource.ACTIVITY,
            source_ref=f"activity:{i}",
        ).entry
    hours_correct(actor=pw.w.secretary0, entry_id=entry.pk, hours="0.5", reason="记录有误")
    return v


def client_for(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_a_volunteer_issues_a_certificate_of_their_verified_hours(pw: PartyWorld) -> None:
    v = with_hours(pw)
    c = certificate_issue(actor=pw.member_user, volunteer_id=v.pk)
    assert (c.hours, c.entries) == (Decimal("6.00"), 3)
    assert c.number == f"ZYSC{timezone.localdate():%Y}{c.pk:06d}"
    page = client_for(pw.member_user).get(f"/party/certificates/{c.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "李卫东" in text and "6.00" in text and c.verify_code in text and c.number in text
    assert not AuditEvent.objects.filter(action="pii.read", object_type="party.hourscertificate").exists()


def test_a_period_without_hours_gets_no_certificate(pw: PartyWorld) -> None:
    v = with_hours(pw)
    long_ago = dt.date(2020, 1, 1)
    with pytest.raises(PartyError) as err:
        certificate_issue(actor=pw.member_user, volunteer_id=v.pk, period_start=long_ago, period_end=long_ago)
    assert err.value.code == "no_hours"
    with pytest.raises(PartyError) as err:
        certificate_issue(
            actor=pw.member_user, volunteer_id=v.pk, period_start=timezone.localdate(), period_end=long_ago
        )
    assert err.value.code == "invalid_period"


@pytest.mark.skipif(not pdf_available(), reason="WeasyPrint is not installed")
def test_the_certificate_renders_as_a_pdf(pw: PartyWorld) -> None:
    c = certificate_issue(actor=pw.member_user, volunteer_id=with_hours(pw).pk)
    response = client_for(pw.member_user).get(f"/party/certificates/{c.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 5000
    assert response["Cache-Control"] == "private, no-store"


def test_the_secretary_reads_it_audited_and_other_communities_get_404(pw: PartyWorld) -> None:
    c = certificate_issue(actor=pw.w.secretary0, volunteer_id=with_hours(pw).pk)
    assert client_for(pw.w.secretary0).get(f"/party/certificates/{c.pk}/").status_code == 200
    assert (
        AuditEvent.objects.filter(
            action="pii.read", object_type="party.hourscertificate", actor_id=pw.w.secretary0.pk
        ).count()
        == 1
    )
    masked = client_for(pw.w.back_office0).get(f"/party/certificates/{c.pk}/").content.decode()
    assert "李**" in masked and "李卫东" not in masked  # back office may view but not reveal names
    for who in ("secretary2", "grid0", "window0", "resident"):
        assert client_for(getattr(pw.w, who)).get(f"/party/certificates/{c.pk}/").status_code == 404
    with pytest.raises(PartyError):
        certificate_issue(actor=pw.w.secretary2, volunteer_id=c.volunteer_id)


def test_anyone_can_check_a_certificate_by_its_code_and_sees_a_masked_name(pw: PartyWorld) -> None:
    c = certificate_issue(actor=pw.member_user, volunteer_id=with_hours(pw).pk)
    found = Client().get(f"/party/verify/?code={c.verify_code.lower()}").content.decode()
    assert "证明有效" in found and c.number in found and "李**" in found and "李卫东" not in found
    missing = Client().get("/party/verify/?code=NOPE").content.decode()
    assert "未找到" in missing
    assert HoursCertificate.objects.count() == 1
