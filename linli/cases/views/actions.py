"""The workbench's action forms: which form each allowed action shows, its pickers, and the service
call it makes. The buttons come only from ``case_actions_for_user`` (the transition table); the
services check the table, the scope and the input again on the locked row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import Unit, User
from linli.accounts.roles import Capability
from linli.cases import services as svc
from linli.cases.errors import CaseError
from linli.cases.forms import (
    AssignForm,
    MergeForm,
    NoteForm,
    RateForm,
    RejectForm,
    ResolveForm,
    ReviewForm,
    SuperviseForm,
    TriageForm,
    assignee_choices,
)
from linli.cases.models import Case
from linli.cases.pickers import (
    assignees_for_case,
    category_choices,
    communities_for_user,
    units_all,
    units_for_case,
)
from linli.cases.transitions import TRANSITIONS


@dataclass(frozen=True)
class ActionSpec:
    key: str  # the form's name on the page and in the URL
    label: str | Promise
    table_actions: tuple[str, ...]  # rows of TRANSITIONS this form performs (any one allowed shows it)
    form: type[forms.Form]
    photos: bool = False
    primary: bool = False  # the expected next step: drawn as the main button


def _spec(key: str, form: type[forms.Form], *actions: str, **kw: Any) -> ActionSpec:
    label = kw.pop("label", None) or TRANSITIONS[actions[0] if actions else key].label
    return ActionSpec(key, label, actions or (key,), form, **kw)


# Page order: the loop's next steps first, then the side actions.
SPECS: list[ActionSpec] = [
    _spec("triage", TriageForm, primary=True),
    _spec("assign", AssignForm, primary=True),
    _spec("accept", NoteForm, primary=True),
    _spec("resolve", ResolveForm, photos=True, primary=True),
    _spec("review", ReviewForm, "review_uphold", "review_redo", label=_("评议"), primary=True),
    _spec("rate", RateForm, "rate", "reopen", "send_to_review", label=_("回访评价")),
    _spec("answer", ResolveForm, photos=True),
    _spec("reassign", AssignForm),
    _spec("return", NoteForm),
    _spec("escalate", NoteForm),
    _spec("reject", RejectForm),
    _spec("merge", MergeForm),
    _spec("supervise", SuperviseForm),
    _spec("close_unresolved", NoteForm),
    _spec("publish", NoteForm),
    _spec("unpublish", NoteForm),
    _spec("comment", NoteForm),
]
SPEC_BY_KEY = {s.key: s for s in SPECS}


def note_required(spec: ActionSpec) -> bool:
    return any(TRANSITIONS[a].note_required for a in spec.table_actions)


def specs_allowed(actions: list[str], case: Case) -> list[ActionSpec]:
    allowed = set(actions)
    out = []
    for spec in SPECS:
        if not allowed.intersection(spec.table_actions):
            continue
        # 公示 / 取消公示 both pass the table on a solved case; offer the one that changes something.
        if (spec.key == "publish" and case.is_public) or (spec.key == "unpublish" and not case.is_public):
            continue
        out.append(spec)
    return out


class Pickers:
    """Choices shared by the forms of one page (each list is loaded once, only if a form needs it)."""

    def __init__(self, user: User, case: Case) -> None:
        self.user = user
        self.case = case
        self._cache: dict[str, list[tuple[str, str]]] = {}
        self._units: list[Unit] | None = None

    def get(self, name: str) -> list[tuple[str, str]]:
        if name not in self._cache:
            self._cache[name] = self._load(name)
        return self._cache[name]

    def units(self) -> list[Unit]:
        if self._units is None:
            self._units = units_for_case(self.case)
        return self._units

    def _load(self, name: str) -> list[tuple[str, str]]:
        if name == "units":
            return [(str(u.pk), u.name) for u in self.units()]
        if name == "assignees":
            return assignee_choices(assignees_for_case(self.case, self.units()))
        if name == "all_units":
            return [(str(u.pk), u.name) for u in units_all()]
        if name == "communities":
            return [(str(c.pk), c.name) for c in communities_for_user(self.user, Capability.CASES_TRIAGE)]
        raise KeyError(name)


def build_form(spec: ActionSpec, pickers: Pickers, data: Any = None, files: Any = None) -> forms.Form:
    kwargs: dict[str, Any] = {"note_required": note_required(spec)}
    case = pickers.case
    if spec.form is AssignForm:
        kwargs["initial"] = {"has_unit": case.unit_id is not None, "unit": case.unit_id}
    form = spec.form(data, files, **kwargs) if files is not None else spec.form(data, **kwargs)
    if isinstance(form, TriageForm):
        form.fields["category"].choices = [("", "—"), *category_choices()]  # type: ignore[attr-defined]
        form.set_choices("unit", pickers.get("units"), blank=str(_("按规则自动匹配")))
        if case.level:
            del form.fields["community"]  # already placed; only an unlocated case is placed at triage
        else:
            form.set_choices("community", pickers.get("communities"))
    elif isinstance(form, AssignForm):
        blank = str(_("保持当前单位")) if case.unit_id else "—"
        form.set_choices("unit", pickers.get("units"), blank=blank)
        form.set_choices("assignee", pickers.get("assignees"), blank=str(_("交单位,由单位接单")))
    elif isinstance(form, RejectForm):
        form.set_choices("rejected_to_unit", pickers.get("all_units"))
    return form


def _merge_target(user: User, number: str) -> int:
    original = Case.objects.for_user(user).filter(number=number.strip()).values_list("pk", flat=True).first()
    if original is None:
        raise CaseError("unknown_original", "要合并到的工单不存在或无权访问")
    return int(original)


Runner = Callable[[User, Case, dict[str, Any], list[bytes]], object]

RUNNERS: dict[str, Runner] = {
    "triage": lambda u, c, d, p: svc.case_triage(
        case_id=c.pk,
        actor=u,
        kind=d.get("kind") or None,
        category_id=d.get("category"),
        unit_id=d.get("unit"),
        community_id=d.get("community"),
        note=d["note"],
    ),
    "assign": lambda u, c, d, p: svc.case_assign(
        case_id=c.pk, actor=u, unit_id=d["unit"], assignee_id=d["assignee"], note=d["note"]
    ),
    "reassign": lambda u, c, d, p: svc.case_reassign(
        case_id=c.pk, actor=u, unit_id=d["unit"], assignee_id=d["assignee"], note=d["note"]
    ),
    "reject": lambda u, c, d, p: svc.case_reject(
        case_id=c.pk,
        actor=u,
        note=d["note"],
        rejected_to_unit_id=d["rejected_to_unit"],
        rejected_to_text=d["rejected_to_text"],
    ),
    "merge": lambda u, c, d, p: svc.case_merge(
        case_id=c.pk, actor=u, duplicate_of_id=_merge_target(u, d["duplicate_of"]), note=d["note"]
    ),
    "answer": lambda u, c, d, p: svc.case_answer(
        case_id=c.pk, actor=u, result_text=d["result_text"], photos=p, photos_public=d["photos_public"]
    ),
    "accept": lambda u, c, d, p: svc.case_accept(case_id=c.pk, actor=u, note=d["note"]),
    "return": lambda u, c, d, p: svc.case_return(case_id=c.pk, actor=u, note=d["note"]),
    "resolve": lambda u, c, d, p: svc.case_resolve(
        case_id=c.pk, actor=u, result_text=d["result_text"], photos=p, photos_public=d["photos_public"]
    ),
    "escalate": lambda u, c, d, p: svc.case_escalate(case_id=c.pk, actor=u, note=d["note"]),
    "supervise": lambda u, c, d, p: svc.case_supervise(
        case_id=c.pk, actor=u, note=d["note"], urgency=d["urgency"]
    ),
    "rate": lambda u, c, d, p: svc.case_rate(case_id=c.pk, actor=u, rating=d["rating"], comment=d["comment"]),
    "review": lambda u, c, d, p: svc.case_review(
        case_id=c.pk, actor=u, decision=d["decision"], note=d["note"]
    ),
    "close_unresolved": lambda u, c, d, p: svc.case_close_unresolved(case_id=c.pk, actor=u, note=d["note"]),
    "publish": lambda u, c, d, p: svc.case_publish(case_id=c.pk, actor=u, public=True, note=d["note"]),
    "unpublish": lambda u, c, d, p: svc.case_publish(case_id=c.pk, actor=u, public=False, note=d["note"]),
    "comment": lambda u, c, d, p: svc.case_comment(case_id=c.pk, actor=u, note=d["note"]),
}
