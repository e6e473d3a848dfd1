"""XSS payloads for IO-4: every free-text field a person can type must come back escaped.

Reuse from any module's tests::

    from linli.security.tests.xss_corpus import XSS_PAYLOADS, assert_escaped

    @pytest.mark.parametrize("payload", XSS_PAYLOADS)
    def test_case_description_renders_escaped(client, payload): ...
        assert_escaped(response.content.decode(), payload)

Each payload fits in 50 characters (the shortest free-text columns, e.g. a display name) and contains at
least one character that HTML escaping changes, so "the raw payload is absent" is a real check.
"""

from __future__ import annotations

from django.utils.html import escape

XSS_PAYLOADS: list[str] = [
    "<script>alert(1)</script>",
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "'\"><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    '<a href="javascript:alert(1)">点我</a>',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<style>*{display:none}</style>",
    "<math><mtext><img src=x onerror=alert(1)>",
    "张三<b>加粗</b>&amp;",
    "{{ 7*7 }}<i>{% now 'Y' %}</i>",  # template syntax must stay text
    "${alert(1)}<x>",
    "\u202e<script>alert(1)</script>",  # right-to-left override
    "<scr<script>ipt>alert(1)</script>",
]


# Fragments of the payloads' live markup that no page of ours contains: a page that shortens a field
# (``truncatechars``) must still not let any of them through. Escaped text keeps e.g. "onerror=alert" but
# never the "<" in front of it.
RAW_MARKUP: list[str] = [
    "<script>alert",
    "<img src=x",
    "<svg onload",
    "<svg><script",
    "<iframe src=javascript",
    '<a href="javascript',
    "<body onload",
    "<details open",
    "<input autofocus",
    "<style>*{",
    "<math><mtext>",
    "<b>加粗",
    "<i>{%",
    "<x>",
    "<scr<script>",
]


def assert_no_raw_markup(html: str) -> None:
    """No live fragment of any payload anywhere in the page (whole or shortened)."""
    found = [fragment for fragment in RAW_MARKUP if fragment in html]
    assert not found, f"raw payload markup in the page: {found!r}"


def assert_escaped(html: str, payload: str) -> None:
    """The payload is in the page only in its escaped form: no raw tag, no live attribute."""
    assert payload not in html, f"raw payload in the page: {payload!r}"
    assert escape(payload) in html, f"escaped payload missing from the page: {payload!r}"
