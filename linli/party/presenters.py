"""Names and phones as the viewer may see them (PI-2): masked unless the viewer is the person or may reveal."""

from __future__ import annotations

from typing import Any

from linli.security.masking import mask_name, mask_phone
from linli.security.reveal import may_reveal


def shown_name(viewer: Any, person: Any) -> str:
    """``person`` is a PartyMember or Volunteer: the full name for the person themself and for staff who
    may reveal personal data over it; ``张*`` for everyone else."""
    if getattr(person, "user_id", None) is not None and person.user_id == getattr(viewer, "pk", None):
        return str(person.name)
    if may_reveal(viewer, person):
        return str(person.name)
    return mask_name(person.name)


def shown_phone(person: Any) -> str:
    """Phones are always masked in lists and pages; the full number needs a reveal with a reason."""
    return mask_phone(person.phone)
