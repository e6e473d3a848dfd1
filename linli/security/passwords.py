"""Staff password policy per 等保 (AU-6), as Django password validators.

Django's own validators give the length (10), the common-password list, "not all digits" and "not like the
user's name". These add what 等保 asks for on top: at least three of four character classes, the username
never inside the password, no reuse of the last five passwords, and (optionally) a maximum age. ASVS 5.0
advises against composition rules and periodic rotation; docs/security.md ("Sign-in") records the deviation.

``PasswordHistoryValidator.password_changed`` is Django's hook after every successful ``set_password`` +
``save`` (admin, ``changepassword``, our forms and commands alike), so the history cannot be skipped.
"""

from __future__ import annotations

import string
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

_CLASSES = (
    ("lower", set(string.ascii_lowercase)),
    ("upper", set(string.ascii_uppercase)),
    ("digit", set(string.digits)),
)


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other characters the password uses."""
    used = {name for name, chars in _CLASSES if any(c in chars for c in password)}
    if any(not (c in string.ascii_letters or c in string.digits) for c in password):
        used.add("other")
    return len(used)


class CharacterClassesValidator:
    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少%(n)d类。") % {"n": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("密码须包含大写字母、小写字母、数字、符号中的至少%(n)d类。") % {"n": self.min_classes}


class UsernameNotInPasswordValidator:
    """The username (or its reverse), in any case, must not appear inside the password."""

    def validate(self, password: str, user: Any = None) -> None:
        username = (getattr(user, "username", "") or "").lower()
        if len(username) < 3:
            return
        lowered = password.lower()
        if username in lowered or username[::-1] in lowered:
            raise ValidationError(_("密码不能包含用户名。"), code="password_contains_username")

    def get_help_text(self) -> str:
        return _("密码不能包含用户名。")


class PasswordHistoryValidator:
    """Refuses the current password and the last ``keep`` ones; records each new one after it is saved."""

    def __init__(self, keep: int = 5) -> None:
        self.keep = keep

    def _recent_hashes(self, user: Any) -> list[str]:
        from linli.accounts.models import PasswordHistory

        if user is None or user.pk is None:
            return []
        return list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-id")
            .values_list("password", flat=True)[: self.keep]
        )

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        from linli.accounts.models import User

        # The stored hash, not user.password: set_password may already have replaced it in memory.
        current = User.objects.filter(pk=user.pk).values_list("password", flat=True).first() or ""
        for encoded in [current, *self._recent_hashes(user)]:
            if encoded and check_password(password, encoded):
                raise ValidationError(
                    _("新密码不能与最近%(n)d次使用过的密码相同。") % {"n": self.keep},
                    code="password_reused",
                )

    def password_changed(self, password: str, user: Any = None) -> None:
        from linli.accounts.services import password_history_record

        if user is not None and user.pk is not None and user.has_usable_password():
            password_history_record(user=user, keep=self.keep)

    def get_help_text(self) -> str:
        return _("新密码不能与最近%(n)d次使用过的密码相同。") % {"n": self.keep}


def password_expired(user: Any) -> bool:
    """True when a staff password is older than LINLI_STAFF_PASSWORD_MAX_AGE_DAYS (0 switches this off)."""
    max_age = settings.LINLI_STAFF_PASSWORD_MAX_AGE_DAYS
    if not max_age or getattr(user, "is_resident", True) or not user.has_usable_password():
        return False
    from linli.accounts.models import PasswordHistory

    changed = (
        PasswordHistory.objects.filter(user_id=user.pk)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    # Accounts made before the history existed (or by bulk loaders) count from when they were created.
    since = changed or user.date_joined
    return bool(timezone.now() - since > timedelta(days=max_age))
