"""Reveal: capability + scope + reason, one audit row per attempt (PI-2, AUD-1)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.services import membership_grant
from linli.accounts.tests.factories import ResidentFactory, staff_with_role
from linli.places.tests.factories import SmallDistrict
from linli.security.models import AuditEvent, AuditResult
from linli.security.reveal import REVEAL_ACTION, RevealError, may_reveal, pii_reveal

PHONE = "13812345678"
pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture
def resident(small_district: SmallDistrict) -> User:
    person = ResidentFactory(phone=PHONE)
    membership_grant(user=person, role=Role.RESIDENT, region_id=small_district.communities[0].id)
    return person


def _request() -> object:
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
    request.request_id = "req-12345678"  # type: ignore[attr-defined]
    return request


@pytest.mark.parametrize(
    ("role", "index"),
    [(Role.COMMUNITY_SECRETARY, 0), (Role.STREET_STAFF, 0), (Role.DISTRICT_STAFF, 0)],
)
def test_staff_with_reveal_in_scope_get_the_value_and_an_audit_row(
    small_district: SmallDistrict, resident: User, role: str, index: int
) -> None:
    viewer = staff_with_role(role, district=small_district, index=index)

    value = pii_reveal(
        viewer=viewer, obj=resident, field="phone", reason="回访诉求 A-001", request=_request()
    )

    assert value == PHONE
    event = AuditEvent.objects.get(action="pii.reveal")
    assert (event.action, event.result, event.actor, event.role) == (
        REVEAL_ACTION,
        AuditResult.OK,
        viewer,
        role,
    )
    assert (event.object_type, event.object_id) == ("accounts.user", str(resident.pk))
    assert (event.ip, event.request_id) == ("10.1.2.3", "req-12345678")
    assert event.data == {"field": "phone", "category": "phone", "reason": "回访诉求 A-001"}
    assert PHONE not in str(event.data)


@pytest.mark.parametrize(
    ("role", "index", "why"),
    [
        (Role.COMMUNITY_SECRETARY, 1, "another community"),
        (Role.STREET_STAFF, 1, "another street"),
        (Role.GRID_WORKER, 0, "no reveal capability"),
        (Role.WINDOW_STAFF, 0, "no reveal capability"),
        (Role.AUDITOR, 0, "auditors read the trail, not residents' data"),
        (Role.ADMIN, 0, "system admins hold no people capability"),
    ],
)
def test_reveal_is_refused_and_audited_outside_scope_or_capability(
    small_district: SmallDistrict, resident: User, role: str, index: int, why: str
) -> None:
    viewer = staff_with_role(role, district=small_district, index=index)
    assert not may_reveal(viewer, resident), why
    with pytest.raises(RevealError) as info:
        pii_reveal(viewer=viewer, obj=resident, field="phone", reason="回访")
    assert info.value.code == "reveal_forbidden"
    event = AuditEvent.objects.get(action="pii.reveal")
    assert (event.result, event.data["code"]) == (AuditResult.DENIED, "reveal_forbidden")


def test_a_reason_is_required(small_district: SmallDistrict, resident: User) -> None:
    viewer = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district)
    with pytest.raises(RevealError) as info:
        pii_reveal(viewer=viewer, obj=resident, field="phone", reason="   ")
    assert info.value.code == "reason_required"
    assert AuditEvent.objects.get(action="pii.reveal").result == AuditResult.DENIED


def test_reveal_is_not_a_general_getter(small_district: SmallDistrict, resident: User) -> None:
    viewer = staff_with_role(Role.DISTRICT_STAFF, district=small_district)
    with pytest.raises(RevealError) as info:
        pii_reveal(viewer=viewer, obj=resident, field="password", reason="好奇")
    assert info.value.code == "not_personal_field"


def test_personal_data_typed_into_the_reason_is_masked_in_the_trail(
    small_district: SmallDistrict, resident: User
) -> None:
    viewer = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district)
    pii_reveal(viewer=viewer, obj=resident, field="phone", reason=f"核对来电 {PHONE}")
    assert AuditEvent.objects.get(action="pii.reveal").data["reason"] == "核对来电 138****5678"


def test_anonymous_viewer_is_refused(resident: User) -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(RevealError):
        pii_reveal(viewer=AnonymousUser(), obj=resident, field="phone", reason="x")
    event = AuditEvent.objects.get(action="pii.reveal")
    assert event.actor is None and event.actor_label == ""


@pytest.mark.django_db
def test_audit_record_takes_the_request_id_from_the_middleware() -> None:
    from django.http import HttpRequest, HttpResponse

    from linli.core.middleware import RequestIdMiddleware
    from linli.security.audit_hook import audit_record

    def view(request: HttpRequest) -> HttpResponse:
        audit_record(action="test.action", actor=None, obj=None, result=AuditResult.OK)
        return HttpResponse("ok")

    RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="abcdef123456"))
    event = AuditEvent.objects.get(action="test.action")
    assert (event.request_id, event.object_type, event.ip) == ("abcdef123456", "", None)
    assert event.created_at.utcoffset() is not None
