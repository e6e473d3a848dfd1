"""Showing a full personal-data value ("reveal"): capability, scope, a reason, and an audit row (PI-2).

Every output masks by default (``linli.security.masking``). A staff member who needs the full value (to
phone a resident back, to check an ID at the window) calls ``pii_reveal``, which:

1. refuses a field that is not in the PI registry (reveal is not a general getter);
2. refuses an empty reason;
3. requires ``people.reveal`` in a membership whose scope covers the object, and that the viewer may
   see the object at all (``may_view``);
4. writes one ``AuditEvent`` (``pii.reveal``), granted or refused, with the field and the reason (never
   the value), then returns the value.

A person's scope: a model with ``scope = ScopeFields(...)`` uses it; a ``User`` is placed by their active
memberships (a resident's membership is anchored on their community). Anything else cannot be revealed.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _

from linli.accounts.models import Membership, User
from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.core.scoping import Scope, ScopeFields, may_view, scope_for
from linli.security.audit_hook import audit_record
from linli.security.masking import mask_text
from linli.security.models import AuditResult
from linli.security.pii import pii_tag

REVEAL_ACTION = "pii.reveal"
REASON_MAX = 200


class RevealError(Exception):
    """A refused reveal, with a machine-readable code and a Chinese message. Already audited."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _value_at(obj: Any, dotted: str) -> Any:
    value = obj
    for part in dotted.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value.pk if isinstance(value, models.Model) else value


def _covers(scope: Scope, fields: ScopeFields, obj: models.Model) -> bool:
    """``may_view``'s rule for an arbitrary capability's scope (``may_view`` is bound to the model's own
    capability). Ownership does not count: nobody reveals through being the owner of a record."""
    if scope.is_global:
        return True
    if fields.region_path:
        path = _value_at(obj, fields.region_path)
        if path and any(str(path).startswith(p) for p in scope.region_paths):
            return True
    if fields.grid and _value_at(obj, fields.grid) in scope.grid_ids:
        return True
    return bool(fields.unit and _value_at(obj, fields.unit) in scope.unit_ids)


def _person_covered(viewer: User, person: User, capability: str) -> bool:
    scope = scope_for(viewer, capability)
    if scope.is_global:
        return True
    for membership in Membership.objects.filter(user=person, is_active=True).select_related("region", "grid"):
        paths = [membership.region.path] if membership.region is not None else []
        if membership.grid is not None:
            paths.append(membership.grid.region_path)
            if membership.grid_id in scope.grid_ids:
                return True
        if any(path.startswith(p) for path in paths for p in scope.region_paths):
            return True
    return False


def may_reveal(viewer: Any, obj: models.Model) -> bool:
    """True when ``viewer`` holds ``people.reveal`` over ``obj`` and may view it."""
    if viewer is None or not viewer.is_authenticated or not viewer.is_active:
        return False
    if not user_has_capability(viewer, Capability.REVEAL_PEOPLE):
        return False
    fields: ScopeFields | None = getattr(type(obj), "scope", None)
    if isinstance(fields, ScopeFields):
        return may_view(viewer, obj) and _covers(scope_for(viewer, Capability.REVEAL_PEOPLE), fields, obj)
    if isinstance(obj, User):
        return _person_covered(viewer, obj, Capability.VIEW_PEOPLE) and _person_covered(
            viewer, obj, Capability.REVEAL_PEOPLE
        )
    return False


def pii_reveal(
    *,
    viewer: Any,
    obj: models.Model,
    field: str,
    reason: str,
    request: HttpRequest | None = None,
    duty: str = "",
) -> str:
    """The full value of ``obj.<field>`` for ``viewer``, or ``RevealError``; audited either way.

    ``duty``: a grant the calling module has established for this one object instead of people.reveal —
    e.g. ``"case_handler"``, the handler of a case in their hands calling the reporter back. It is named in
    the audit row; the reason is required all the same. Only modules that checked the duty pass it.
    """
    reason = (reason or "").strip()

    def refuse(code: str, message: str) -> RevealError:
        audit_record(
            action=REVEAL_ACTION,
            actor=viewer,
            obj=obj,
            result=AuditResult.DENIED,
            data={"field": field, "code": code, "reason": mask_text(reason[:REASON_MAX])},
            request=request,
        )
        return RevealError(code, message)

    tag = pii_tag(type(obj), field)
    if tag is None:
        raise refuse("not_personal_field", _("该字段不是登记的个人信息字段"))
    if not reason:
        raise refuse("reason_required", _("查看完整信息须填写理由"))
    if len(reason) > REASON_MAX:
        raise refuse("reason_too_long", _("理由不能超过200字"))
    if not duty and not may_reveal(viewer, obj):
        raise refuse("reveal_forbidden", _("您无权查看该对象的完整个人信息"))
    value = getattr(obj, field)
    data = {"field": field, "category": tag.category, "reason": mask_text(reason)}
    if duty:
        data["duty"] = duty
    audit_record(
        action=REVEAL_ACTION,
        actor=viewer,
        obj=obj,
        result=AuditResult.OK,
        data=data,
        request=request,
    )
    return "" if value is None else str(value)
