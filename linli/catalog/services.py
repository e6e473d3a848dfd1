"""Writes to the 办事指南: every save recomputes the pinyin search keys in the same step."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from linli.catalog.models import Category, ServiceItem
from linli.catalog.search import search_keys


class CatalogError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def service_item_validate(item: ServiceItem) -> None:
    if not item.code.strip() or not item.name.strip():
        raise CatalogError("missing_field", "事项编码和名称不能为空")
    if item.category not in Category.values:
        raise CatalogError("unknown_category", f"未知的类别:{item.category}")
    if (
        item.legal_days is not None
        and item.promised_days is not None
        and item.promised_days > item.legal_days
    ):
        raise CatalogError("promise_exceeds_legal", "承诺时限不能超过法定时限")
    if not isinstance(item.materials, list) or not isinstance(item.steps, list):
        raise CatalogError("invalid_list", "所需材料和办理流程应为列表")
    for faq in item.faqs if isinstance(item.faqs, list) else [None]:
        if not (isinstance(faq, dict) and faq.get("q") and faq.get("a")):
            raise CatalogError("invalid_faq", '常见问题应为 [{"q": 问题, "a": 回答}] 列表')


def _refresh_keys(item: ServiceItem) -> None:
    item.name_pinyin, item.name_initials = search_keys(item.name, item.keyword_list)


def service_item_create(**fields: Any) -> ServiceItem:
    item = ServiceItem(**fields)
    service_item_validate(item)
    _refresh_keys(item)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as exc:
        raise CatalogError("duplicate_code", f"事项编码 {item.code} 已存在") from exc
    return item


def service_item_save(*, item: ServiceItem) -> ServiceItem:
    """Save an edited item (admin form or import), keeping its search keys in step with its names."""
    service_item_validate(item)
    _refresh_keys(item)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as exc:
        raise CatalogError("duplicate_code", f"事项编码 {item.code} 已存在") from exc
    return item
