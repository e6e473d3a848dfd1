"""Finds personal data that must never be in a log (AUD-4): ID numbers with a valid GB 11643 check
character and full mainland mobile numbers (with or without +86, spaces or hyphens).

Deliberately separate from ``masking.mask_text`` (the thing under test): the test run's log capture
(``linli/conftest.py``) scans everything the suite logged with this and fails on any hit.
"""

from __future__ import annotations

import re

from linli.security.validation import id_check_character

_ID = re.compile(r"(?<![0-9])([0-9]{17}[0-9Xx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}(?![0-9])")


def pii_leaks(text: str) -> list[str]:
    """Every valid ID number and full mainland mobile in ``text``, as found."""
    found = [m for m in _ID.findall(text) if id_check_character(m[:17]) == m[-1].upper()]
    found += _MOBILE.findall(text)
    return found
