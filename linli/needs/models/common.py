"""Vocabulary shared by the three lists: categories (and which are related), urgency, status categories, and
the event row every workflow change leaves."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """One vocabulary for needs, resources and projects, so a need and a resource can be compared.

    Drawn from seed 003's public-service system (家政服务、医疗卫生、文体娱乐、教育培训、上岗就业 …) and
    seed 002's care groups (老弱病残)."""

    ELDERLY = "elderly", _("养老助老")
    CHILDREN = "children", _("儿童关爱")
    HEALTH = "health", _("医疗健康")
    DISABLED = "disabled", _("助残服务")
    HARDSHIP = "hardship", _("困难帮扶")
    HOUSEKEEPING = "housekeeping", _("家政便民")
    CULTURE = "culture", _("文体娱乐")
    EDUCATION = "education", _("教育培训")
    EMPLOYMENT = "employment", _("就业创业")
    LEGAL = "legal", _("法律维权")
    ENVIRONMENT = "environment", _("环境整治")
    FACILITIES = "facilities", _("设施改造")
    SAFETY = "safety", _("平安建设")
    OTHER = "other", _("其他")


# Pairs of different categories whose resources partly serve each other's needs (symmetric). A pair not
# listed (and not equal) does not match at all. Matching reads CATEGORY_AFFINITY only.
RELATED_CATEGORIES: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        (Category.ELDERLY, Category.HEALTH),
        (Category.ELDERLY, Category.HOUSEKEEPING),
        (Category.ELDERLY, Category.DISABLED),
        (Category.DISABLED, Category.HEALTH),
        (Category.DISABLED, Category.HARDSHIP),
        (Category.HARDSHIP, Category.EMPLOYMENT),
        (Category.HARDSHIP, Category.LEGAL),
        (Category.CHILDREN, Category.EDUCATION),
        (Category.CHILDREN, Category.CULTURE),
        (Category.CULTURE, Category.EDUCATION),
        (Category.EDUCATION, Category.EMPLOYMENT),
        (Category.ENVIRONMENT, Category.FACILITIES),
        (Category.SAFETY, Category.FACILITIES),
    )
)
EXACT_AFFINITY = 1.0
RELATED_AFFINITY = 0.5


def category_affinity(need_category: str, resource_category: str) -> float:
    """1 for the same category, 0.5 for a related one, 0 otherwise (no suggestion)."""
    if need_category == resource_category:
        return EXACT_AFFINITY
    if frozenset((need_category, resource_category)) in RELATED_CATEGORIES:
        return RELATED_AFFINITY
    return 0.0


def categories_matching(need_category: str) -> list[str]:
    """Resource categories with a non-zero affinity to ``need_category`` (the SQL prefilter)."""
    return sorted(c for c in Category.values if category_affinity(need_category, c) > 0)


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class StatusCategory(models.TextChoices):
    """What a status means for counts and the public page (never a hard-coded list of statuses)."""

    OPEN = "open", _("进行中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已撤销")


class EventBase(models.Model):
    """One applied transition: who did what, from which state to which, when, and why.

    Written only by ``linli.needs.transitions.transition_apply`` and, for a new row's first event, by the
    creating service. Append-only: nothing updates or deletes events.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=30)
    from_state = models.CharField(_("原状态"), max_length=30, blank=True)
    to_state = models.CharField(_("新状态"), max_length=30)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    data = models.JSONField(_("附加信息"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state or '-'} → {self.to_state}"
