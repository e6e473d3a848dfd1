"""办事指南 search: Chinese, full pinyin and initials, ranked exact > prefix > substring > initials > description."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.catalog.models import Category, ServiceItem
from linli.catalog.search import (
    NO_MATCH,
    TIER_DESCRIPTION,
    TIER_EXACT,
    TIER_INITIALS,
    TIER_PREFIX,
    TIER_SUBSTRING,
    Candidate,
    rank,
    search_keys,
    tier_of,
)
from linli.catalog.selectors import items_search
from linli.catalog.services import CatalogError, service_item_create


def cand(name: str, keywords: tuple[str, ...] = (), description: str = "", order: int = 100) -> Candidate:
    pinyin, initials = search_keys(name, keywords)
    return Candidate(name, name, keywords, pinyin, initials, description, order, name)


def test_search_keys_hold_syllables_and_initials_of_name_and_keywords() -> None:
    assert search_keys("最低生活保障(低保)申请", ["低保证"]) == (
        "zui di sheng huo bao zhang di bao shen qing|di bao zheng",
        "zdshbzdbsq|dbz",
    )


@pytest.mark.parametrize(
    ("query", "tier"),
    [
        ("低保证", TIER_EXACT),  # a keyword, exactly
        ("dibaozheng", TIER_EXACT),  # its full pinyin
        ("最低", TIER_PREFIX),
        ("zuidi", TIER_PREFIX),
        ("生活保障", TIER_SUBSTRING),
        ("baozhang", TIER_SUBSTRING),  # from a syllable start
        ("dbz", TIER_INITIALS),
        ("zdsh", TIER_INITIALS),
        ("户口簿", TIER_DESCRIPTION),
        ("居住证", NO_MATCH),
        ("aozh", NO_MATCH),  # not from a syllable start, not initials
    ],
)
def test_each_kind_of_match_reaches_its_tier(query: str, tier: int) -> None:
    item = cand("最低生活保障申请", ("低保证",), description="需提供居民户口簿")
    assert tier_of(query, item) == tier


def test_ranking_prefers_exact_then_prefix_then_initials_then_description() -> None:
    items = [
        cand("老年人优待证办理", description="凭证享受低保家庭优待"),  # description only
        cand("低保证明打印", ("打印",)),  # prefix of the name
        cand("低保", ()),  # exact name
        cand("大病补助", ()),  # initials dbbz contain "db"
    ]
    assert [c.name for c in rank("低保", items)] == ["低保", "低保证明打印", "老年人优待证办理"]
    by_initials = [c.name for c in rank("db", items)]
    assert by_initials[0] == "低保" and set(by_initials[1:3]) == {"低保证明打印", "大病补助"}
    assert rank("   ", items) == []
    assert [c.name for c in rank("低保 打印", items)] == ["低保证明打印"]  # every word must match


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("低保", "ZW-MZ-001"),
        ("dibao", "ZW-MZ-001"),
        ("dbz", "ZW-MZ-001"),
        ("DiBao", "ZW-MZ-001"),
        ("准生证", "ZW-WJ-001"),
        ("zsz", "ZW-WJ-001"),
        ("独生子女证", "ZW-WJ-002"),
        ("残疾证", "ZW-CL-001"),
        ("cjz", "ZW-CL-001"),
        ("居住证", "ZW-GA-001"),
        ("老年优待证", "ZW-MZ-005"),
        ("指纹", "ZW-SB-002"),
        ("yijian", "GY-004"),
        ("法律咨询", "GY-001"),
        ("临时看护", "TS-001"),
        ("医保审核缴费", "ZW-YB-001"),
        ("养老保险审核", "ZW-SB-001"),
        ("爱心义诊", "GY-003"),
        ("ｄｉｂａｏ", "ZW-MZ-001"),  # full-width letters from a Chinese keyboard
    ],
)
def test_the_seeded_catalogue_finds_what_residents_type(query: str, first: str) -> None:
    assert items_search(q=query)[0].code == first


@pytest.mark.django_db
def test_the_catalogue_is_seeded_with_at_least_60_items_in_every_category() -> None:
    assert ServiceItem.objects.filter(is_active=True).count() >= 60
    for category in Category.values:
        assert ServiceItem.objects.filter(category=category).count() >= 5
    assert all(i.name_initials for i in ServiceItem.objects.all())


@pytest.mark.django_db
def test_items_api_paginates_and_rejects_unknown_categories(client: Client) -> None:
    r = client.get("/api/catalog/items", {"q": "dbz"})
    assert r.status_code == 200 and r.json()["items"][0]["code"] == "ZW-MZ-001"
    page = client.get("/api/catalog/items", {"page_size": 10, "page": 2}).json()
    assert len(page["items"]) == 10 and page["count"] >= 60 and page["page"] == 2
    assert client.get("/api/catalog/items", {"page_size": 1000}).status_code == 422  # capped
    gov = client.get("/api/catalog/items", {"category": "government", "page_size": 100}).json()
    assert {i["category"] for i in gov["items"]} == {"government"}
    bad = client.get("/api/catalog/items", {"category": "magic"})
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_category"
    detail = client.get("/api/catalog/items/ZW-MZ-001").json()
    assert "低保证" in detail["keywords"] and detail["materials"] and detail["faqs"][0]["q"]
    assert client.get("/api/catalog/items/NOPE").status_code == 404


@pytest.mark.django_db
def test_catalogue_pages_render_on_a_phone(client: Client) -> None:
    html = client.get("/catalog/", {"q": "dibao"}).content.decode()
    assert "最低生活保障(低保)申请" in html and "style=" not in html
    detail = client.get("/catalog/ZW-MZ-001/").content.decode()
    assert "所需材料" in detail and "区民政局" in detail
    assert client.get("/catalog/NOPE/").status_code == 404


@pytest.mark.django_db
def test_creating_an_item_computes_its_keys_and_checks_time_limits() -> None:
    item = service_item_create(code="T-1", name="测试事项", category="convenience", keywords="测一测")
    assert item.name_initials == "cssx|cyc"
    assert items_search(q="cyc")[0].code == "T-1"
    with pytest.raises(CatalogError) as exc:
        service_item_create(code="T-2", name="x", category="convenience", legal_days=5, promised_days=9)
    assert exc.value.code == "promise_exceeds_legal"
    with pytest.raises(CatalogError) as exc:
        service_item_create(code="T-1", name="重复", category="convenience")
    assert exc.value.code == "duplicate_code"
