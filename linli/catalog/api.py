"""办事指南 endpoints: search and read service items (public)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from linli.catalog.models import Category
from linli.catalog.selectors import category_valid, item_public, items_search
from linli.core.api import ApiError, CappedPagination, ErrorOut

router = Router(tags=["catalog"])


class ItemOut(Schema):
    id: int
    code: str
    name: str
    category: str
    category_label: str
    department: str
    summary: str
    legal_days: int | None = Field(None, description="法定时限,工作日")
    promised_days: int | None = Field(None, description="承诺时限,工作日;0 = 即办")
    fee: str
    universal: bool = Field(..., description="通办:任一阵地可受理")
    online: bool = Field(..., description="不见面办理")
    agency_allowed: bool = Field(..., description="可代办")
    appointment_required: bool


class FaqOut(Schema):
    q: str
    a: str


class ItemDetailOut(ItemOut):
    keywords: list[str]
    conditions: str
    materials: list[str]
    steps: list[str]
    legal_basis: str
    online_note: str
    faqs: list[FaqOut]


def _out(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "code": item.code,
        "name": item.name,
        "category": item.category,
        "category_label": str(Category(item.category).label),
        "department": item.department,
        "summary": item.summary,
        "legal_days": item.legal_days,
        "promised_days": item.promised_days,
        "fee": item.fee,
        "universal": item.universal,
        "online": item.online,
        "agency_allowed": item.agency_allowed,
        "appointment_required": item.appointment_required,
    }


@router.get("/items", response={200: list[ItemOut], 400: ErrorOut}, auth=None, url_name="catalog_items")
@paginate(CappedPagination)
def item_list(request: HttpRequest, q: str = "", category: str = "") -> Any:
    """Service items; with ``q`` (Chinese, full pinyin like "dibao" or initials like "dbz") best match first:
    exact name > prefix > substring > initials > description. ``category``: government | convenience |
    featured | welfare."""
    if not category_valid(category):
        raise ApiError("unknown_category", f"未知的类别:{category[:40]}", status=400)
    return [_out(i) for i in items_search(q=q[:50], category=category)]


@router.get("/items/{code}", response={200: ItemDetailOut, 404: ErrorOut}, auth=None, url_name="catalog_item")
def item_detail(request: HttpRequest, code: str) -> Any:
    item = item_public(code=code)
    if item is None:
        raise Http404
    return {
        **_out(item),
        "keywords": item.keyword_list,
        "conditions": item.conditions,
        "materials": [str(m) for m in item.materials],
        "steps": [str(s) for s in item.steps],
        "legal_basis": item.legal_basis,
        "online_note": item.online_note,
        "faqs": [f for f in item.faqs if isinstance(f, dict)],
    }
