"""Chinese search over the catalogue: Chinese substrings, full pinyin and pinyin initials. No database.

Residents type "低保", "dibao", "db" or "dbz" (低保证) and expect the 低保 item first. Each item carries
search keys made once when it is saved (``search_keys``): for its name and every keyword, the pinyin
syllables (``"di bao"``) and the initials (``"db"``), "|"-separated. A query is ranked by the best tier any
of its terms reaches (lower is better); ties go to the earlier match, the shorter name, then display order:

| tier | Chinese query ("低保") | ASCII query ("dibao", "dbz") |
|---|---|---|
| 0 exact | equals the name or a keyword | equals a name's or keyword's full pinyin |
| 1 prefix | a name or keyword starts with it | a full pinyin starts with it |
| 2 substring | contained in a name or keyword | a full pinyin contains it from a syllable start |
| 3 initials | — | the initials of a name or keyword start with / contain it |
| 4 description | contained in the summary, conditions, materials, steps or department | the same, case-insensitively |

A query of several words (split on spaces) must match every word; its tier is the worst of theirs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

TIER_EXACT, TIER_PREFIX, TIER_SUBSTRING, TIER_INITIALS, TIER_DESCRIPTION = range(5)
NO_MATCH = 99
_ASCII = re.compile(r"^[a-z0-9]+$")
_TOKEN = re.compile(r"[a-z0-9]+")
_HAN = re.compile(r"[\u3400-\u9fff]")


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, no spaces at the ends; "ü" typed as "v" (pinyin input)."""
    return unicodedata.normalize("NFKC", text).lower().replace("ü", "v").strip()


def syllables(text: str) -> list[str]:
    """Pinyin syllables of the Chinese characters, plus the letter/digit runs of anything else."""
    out: list[str] = []
    for chunk in lazy_pinyin(normalize(text), style=Style.NORMAL, v_to_u=False, errors="default"):
        if _HAN.search(chunk):  # a character pypinyin does not know: keep it, it still matches itself
            out.append(chunk)
        else:
            out.extend(_TOKEN.findall(chunk.lower()))
    return out


def search_keys(name: str, keywords: Iterable[str]) -> tuple[str, str]:
    """(``name_pinyin``, ``name_initials``) for storing: one part per name/keyword, "|"-separated."""
    texts = [name, *[k for k in keywords if k.strip()]]
    parts = [syllables(t) for t in texts]
    return "|".join(" ".join(p) for p in parts), "|".join("".join(s[0] for s in p if s) for p in parts)


@dataclass(frozen=True)
class Candidate:
    """What the ranking needs of one item (built from a model row or from test data)."""

    key: object  # the item (or its id): returned as given
    name: str
    keywords: Sequence[str]
    name_pinyin: str  # from search_keys
    name_initials: str
    description: str  # summary, conditions, materials, steps, department joined
    sort_order: int = 100
    code: str = ""


def _term_tier(term: str, c: Candidate) -> tuple[int, int]:
    """(tier, position of the match) of one normalized term against one candidate."""
    names = [normalize(t) for t in (c.name, *c.keywords)]
    best = (NO_MATCH, 0)

    def better(tier: int, pos: int) -> None:
        nonlocal best
        best = min(best, (tier, pos))

    for text in names:
        if text == term:
            better(TIER_EXACT, 0)
        elif text.startswith(term):
            better(TIER_PREFIX, 0)
        else:
            pos = text.find(term)
            if pos >= 0:
                better(TIER_SUBSTRING, pos)
    if _ASCII.match(term):
        for pinyin in c.name_pinyin.split("|"):
            sylls = pinyin.split()
            joined = "".join(sylls)
            if not joined:
                continue
            if joined == term:
                better(TIER_EXACT, 0)
            elif joined.startswith(term):
                better(TIER_PREFIX, 0)
            else:
                offset = 0
                for i, s in enumerate(sylls):  # only from a syllable start: "bao" in "dibao", not "iba"
                    if joined.startswith(term, offset):
                        better(TIER_SUBSTRING, i)
                        break
                    offset += len(s)
        for initials in c.name_initials.split("|"):
            pos = initials.find(term)
            if pos >= 0:  # all the initials first ("db" for 低保), then from the start, then inside
                better(TIER_INITIALS, 0 if initials == term else pos + 1)
    if best[0] == NO_MATCH:
        pos = normalize(c.description).find(term)
        if pos >= 0:
            better(TIER_DESCRIPTION, pos)
    return best


def rank(query: str, candidates: Iterable[Candidate]) -> list[Candidate]:
    """The candidates matching every word of the query, best first. An empty query matches nothing."""
    terms = [t for t in normalize(query).split() if t]
    if not terms:
        return []
    scored: list[tuple[tuple[int, int, int, int, str], Candidate]] = []
    for c in candidates:
        results = [_term_tier(t, c) for t in terms]
        tier = max(r[0] for r in results)
        if tier == NO_MATCH:
            continue
        pos = min(r[1] for r in results)
        scored.append(((tier, pos, len(c.name), c.sort_order, c.code), c))
    scored.sort(key=lambda pair: pair[0])
    return [c for _, c in scored]


def tier_of(query: str, candidate: Candidate) -> int:
    """The tier a query reaches on one candidate (NO_MATCH if none); for tests and explanations."""
    terms = [t for t in normalize(query).split() if t]
    if not terms:
        return NO_MATCH
    return max(_term_tier(t, candidate)[0] for t in terms)
