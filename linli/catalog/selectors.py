"""Reads of the 办事指南. The catalogue is public: residents read it without signing in."""

from __future__ import annotations

from django.db.models import QuerySet

from linli.catalog.models import Category, ServiceItem
from linli.catalog.search import Candidate, rank


def items_public(*, category: str = "") -> QuerySet[ServiceItem]:
    qs = ServiceItem.objects.filter(is_active=True)
    if category:
        qs = qs.filter(category=category)
    return qs.order_by("sort_order", "code")


def _candidate(item: ServiceItem) -> Candidate:
    description = " ".join(
        [item.summary, item.conditions, item.department, *map(str, item.materials), *map(str, item.steps)]
    )
    return Candidate(
        key=item,
        name=item.name,
        keywords=item.keyword_list,
        name_pinyin=item.name_pinyin,
        name_initials=item.name_initials,
        description=description,
        sort_order=item.sort_order,
        code=item.code,
    )


def items_search(*, q: str, category: str = "") -> list[ServiceItem]:
    """Active items matching ``q`` (Chinese, full pinyin or initials), best first; all items when empty.

    Ranking happens in process over the whole active catalogue (a district has hundreds of items, one
    query), so the tiers of ``linli.catalog.search`` apply exactly; a catalogue of many thousands would
    first narrow by the stored pinyin columns in SQL.
    """
    items = items_public(category=category)
    if not q.strip():
        return list(items)
    return [c.key for c in rank(q, (_candidate(i) for i in items))]  # type: ignore[misc]


def item_public(*, code: str) -> ServiceItem | None:
    return ServiceItem.objects.filter(code=code, is_active=True).first()


def category_valid(category: str) -> bool:
    return category == "" or category in Category.values
