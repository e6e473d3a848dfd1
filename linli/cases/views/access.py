"""What every cases page shares: the staff gate, the scoped case lookup, htmx and JSON answers, paging,
and the mapping of service refusals to form fields."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, JsonResponse, QueryDict
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.cases import selectors
from linli.cases.errors import CaseError
from linli.cases.models import Case
from linli.places.models import Level, Region
from linli.security.denials import ScopeDenied

View = Callable[..., HttpResponseBase]
PER_PAGE = 30

# Which form field a service refusal belongs to (the rest are shown above the form).
ERROR_FIELDS: dict[str, str] = {
    "text_required": "text",
    "text_too_long": "text",
    "contact_required": "contact_phone",
    "invalid_phone": "contact_phone",
    "unknown_category": "category",
    "invalid_kind": "kind",
    "outside_jurisdiction": "location",
    "outside_china": "location",
    "invalid_coordinates": "location",
    "location_required": "location",
    "unknown_community": "community",
    "unknown_building": "location",
    "image_empty": "photos",
    "image_too_big": "photos",
    "image_too_large": "photos",
    "image_type_not_allowed": "photos",
    "image_unreadable": "photos",
    "too_many_photos": "photos",
    "note_required": "note",
    "note_too_long": "note",
    "result_required": "result_text",
    "result_too_long": "result_text",
    "right_unit_required": "rejected_to_text",
    "unknown_unit": "unit",
    "invalid_assignee": "assignee",
    "assignee_out_of_scope": "assignee",
    "assign_target_required": "unit",
    "unknown_original": "duplicate_of",
    "merge_into_self": "duplicate_of",
    "original_cancelled": "duplicate_of",
    "invalid_rating": "rating",
    "invalid_urgency": "urgency",
    "invalid_decision": "decision",
}


def staff_view(capability: str = Capability.CASES_VIEW) -> Callable[[View], View]:
    """Signed-in users holding ``capability`` somewhere; anonymous → sign-in; anyone else → 404, audited
    (a resident on a staff page learns nothing, AC-3). Rows are scoped by each view's selector."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_capability(request.user, capability):
                raise ScopeDenied(reason=f"no_capability:{capability}")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def user_of(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def case_for_user_or_404(user: User, case_id: int) -> Case:
    """The case if the user may see it; otherwise 404 — audited when the case exists (AC-1)."""
    case = selectors.case_detail_for_user(user, case_id)
    if case is not None:
        return case
    if Case.objects.filter(pk=case_id).exists():
        raise ScopeDenied(object_type="cases.case", object_id=case_id)
    raise Http404


def district_bbox() -> str:
    row = (
        Region.objects.filter(level=Level.DISTRICT)
        .order_by("path")
        .values_list("min_lng", "min_lat", "max_lng", "max_lat")
        .first()
    )
    return ",".join(str(v) for v in row) if row and None not in row else ""


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_json(request: HttpRequest) -> bool:
    """The report page's script posts with ``Accept: application/json``; plain forms get HTML."""
    return "application/json" in request.headers.get("Accept", "")


def json_error(message: str, *, status: int = 400, code: str = "invalid", **extra: Any) -> JsonResponse:
    return JsonResponse({"ok": False, "code": code, "message": message, **extra}, status=status)


def paginate(request: HttpRequest, rows: Any, per_page: int = PER_PAGE) -> Page[Any]:
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def form_add_case_error(form: forms.Form, exc: CaseError) -> str | None:
    """Put a service refusal on the form field it concerns, never losing the input. Returns the name of
    a page-level place (``location``, ``photos``) when the refusal belongs to no form field, else None."""
    field = ERROR_FIELDS.get(exc.code)
    if field and field in form.fields:
        form.add_error(field, exc.message)
        return None
    if field in ("location", "photos"):
        return field
    form.add_error(None, exc.message)
    return None


def form_errors_dict(form: forms.Form) -> dict[str, list[str]]:
    """Field errors for the JSON answer; ``__all__`` holds the form-wide ones."""
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


@dataclass(frozen=True)
class KeyReused:
    """A form sent before with other words (back button, rewritten): what the page says and a fresh key."""

    data: QueryDict  # the posted data with the fresh key, to bind the re-shown form to
    key: str
    number: str
    message: str


def key_reused(exc: CaseError, posted: QueryDict) -> KeyReused | None:
    """For ``idempotency_key_reused``: nothing was filed; the re-shown form carries a fresh key, so sending
    it again files the new words as a case of its own (the earlier case is named). None for other codes."""
    if exc.code != "idempotency_key_reused":
        return None
    fresh = secrets.token_urlsafe(18)
    data = posted.copy()
    data["idempotency_key"] = fresh
    number = str((exc.details or {}).get("number", ""))
    message = _(
        "这份表单已提交过(工单编号%(number)s),本次内容不同,尚未提交。如要另报这个问题,请再次点击提交。"
    ) % {"number": number}
    return KeyReused(data=data, key=fresh, number=number, message=message)


def id_param(value: str | None) -> int | None:
    """A row id from a query or form value: ASCII digits within a database integer, else None.

    ``str.isdigit`` alone accepts "²" (int() then fails) and 25-digit numbers (the database overflows):
    a bad value is ignored or refused by the caller, never a 500.
    """
    if not value or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)
