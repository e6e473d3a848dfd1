"""Input and output schemas of the cases API (validation only; no logic)."""

# No "from __future__ import annotations": django-ninja and pydantic resolve these at runtime.
from datetime import datetime

from ninja import Field, Schema

from linli.cases.models import Channel
from linli.security.masking import MaskedName


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    default_kind: str
    children: list["CategoryOut"]


CategoryOut.model_rebuild()


class CaseOut(Schema):
    id: int
    number: str
    kind: str
    category: str | None = Field(None, alias="category.name")
    category_id: int | None
    channel: str
    title: str
    text: str
    status: str
    status_label: str
    status_category: str
    level: str
    address: str
    lat: float | None
    lng: float | None
    community: str | None = Field(None, alias="community.name")
    grid: str | None = Field(None, alias="grid.name")
    unit: str | None = Field(None, alias="unit.name")
    assignee: str | None = Field(None, alias="assignee.display_name")
    contact_name: MaskedName  # 张* (PI-2): the full name only through an audited reveal
    contact_phone_masked: str
    created_at: datetime
    triage_due_at: datetime | None
    accept_due_at: datetime | None
    resolve_due_at: datetime | None
    is_overdue: bool
    is_triage_overdue: bool
    is_accept_overdue: bool
    resolved_at: datetime | None
    result_text: str
    rating: str
    reopen_count: int
    supervision_count: int
    urgency: str
    follower_count: int
    is_public: bool


class OwnCaseOut(CaseOut):
    """A case in the reporter's own list (/mine): they see the contact name they gave unmasked."""

    contact_name: str


class NearbyOut(Schema):
    id: int
    number: str
    title: str
    status: str
    distance_m: float
    follower_count: int


class SubmitIn(Schema):
    text: str = Field(..., max_length=2000, description="问题描述")
    kind: str | None = Field(None, description="complaint/help/inquiry/suggestion/tip_off/praise/agency")
    category_id: int | None = None
    title: str = Field("", max_length=100)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    address: str = Field("", max_length=200)
    building_id: int | None = None
    community_id: int | None = None
    district_id: int | None = None
    channel: str = Field(
        Channel.RESIDENT,
        description="resident/building_qr for residents; window/grid_patrol/hotline for staff intake",
    )
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    is_public: bool | None = None
    idempotency_key: str = Field("", max_length=64)
    with_similar: bool = Field(
        False,
        description="also list similar open cases nearby in the answer (else GET /nearby before submitting)",
    )


class SubmitOut(Schema):
    case: CaseOut
    created: bool
    similar: list[NearbyOut] = Field(
        ..., description="only with with_similar: open cases of the same kind nearby"
    )


class TimelineOut(Schema):
    action: str
    label: str
    from_status: str
    to_status: str
    from_level: str
    to_level: str
    note: str
    actor: str
    created_at: datetime
    is_public: bool


class AttachmentOut(Schema):
    id: int
    kind: str
    content_type: str
    width: int
    height: int
    is_public: bool


class CaseDetailOut(Schema):
    case: CaseOut | None = Field(
        ..., description="null after an action that took the case out of your scope (退单)"
    )
    timeline: list[TimelineOut]
    actions: list[str]
    attachments: list[AttachmentOut]


class ActionIn(Schema):
    note: str = Field("", max_length=1000)
    kind: str | None = None
    category_id: int | None = None
    unit_id: int | None = None
    assignee_id: int | None = None
    clear_unit: bool = False
    community_id: int | None = None
    building_id: int | None = None
    rejected_to_unit_id: int | None = None
    rejected_to_text: str = Field("", max_length=100)
    duplicate_of_id: int | None = None
    result_text: str = Field("", max_length=2000)
    phone: str = Field(
        "", max_length=20, description="caller_follow: the caller's mobile (SMS at the outcome)"
    )
    photos_public: bool = False
    rating: str = ""
    urgency: str = "normal"
    decision: str = ""


class QueueIn(Schema):
    queue: str = Field("all", pattern="^(all|dispatch|handle|review|mine)$")
    status: str = Field("", description="comma-separated statuses")
    status_category: str = ""
    level: str = ""
    deadline: str = Field(
        "resolve",
        pattern="^(resolve|triage|accept|any)$",
        description="which deadline overdue/warned look at: resolve, triage, accept or any",
    )
    overdue: bool | None = None
    warned: bool | None = None
    category_id: int | None = None
    grid_id: int | None = None
    unit_id: int | None = None
    channel: str = ""
    q: str = Field("", max_length=40)


class PublicOut(Schema):
    id: int
    number: str
    kind: str
    category: str
    title: str
    status: str
    status_label: str
    community: str
    created_at: datetime
    resolved_at: datetime | None
    result_text: str
    lat: float | None
    lng: float | None


class SharesOut(Schema):
    total: int
    by_level: dict[str, int]
    shares_721: dict[str, float]


class UnitSupervisionOut(Schema):
    unit: str  # blank: no unit yet (flagged before assignment)
    supervisions: int
    cases: int


class SupervisionStatsOut(Schema):
    supervisions: int
    by_urgency: dict[str, int]
    cases: int
    cases_solved: int
    cases_open: int
    by_unit: list[UnitSupervisionOut]


class FollowOut(Schema):
    id: int
    number: str
    title: str
    status: str
    follower_count: int
    created: bool
