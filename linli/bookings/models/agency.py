"""代办/帮办: the errand details of a case of kind 代办 and the steps of carrying it out.

The request itself is a ``cases.Case`` (kind ``agency``) and travels the closed loop (梳理, 交办, 办结,
评价) like any case. ``AgencyDetail`` adds what the loop does not know: which catalogue item, who asked for
whom, whether somebody goes to the door, and the errand's own steps — materials collected, submitted,
result returned — each an ``AgencyEvent`` written by the one apply function.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.bookings.models.common import EventBase
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag


class AgencyStep(models.TextChoices):
    REQUESTED = "requested", _("已申请")  # the case exists; nobody has the materials yet
    MATERIALS_COLLECTED = "materials_collected", _("已收取材料")  # at the window or at the door
    SUBMITTED = "submitted", _("已递交办理")  # handed to the office that decides
    RESULT_RETURNED = "result_returned", _("已送回结果")  # the certificate/decision is back with the resident


STEP_ORDER = list(AgencyStep.values)

_AGENCY_RETENTION = "工单关闭后3年"


class AgencyDetail(TimeStampedModel):
    case = models.OneToOneField(
        "cases.Case", verbose_name=_("工单"), on_delete=models.PROTECT, related_name="agency"
    )
    item = models.ForeignKey(
        "catalog.ServiceItem", verbose_name=_("代办事项"), on_delete=models.PROTECT, related_name="+"
    )
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("承办阵地"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    # The resident the errand is for, when they have an account (a resident asking for themself: the same).
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代办对象(账号)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agency_requests",
    )
    beneficiary_name = models.CharField(_("代办对象姓名"), max_length=50, blank=True)
    beneficiary_phone = EncryptedTextField(_("代办对象电话"), blank=True, default="")
    beneficiary_phone_index = BlindIndexField(source="beneficiary_phone", kind="phone")
    door_to_door = models.BooleanField(_("上门代办"), default=False)
    # The person is in the care registry (分类分色): found there when the request was filed (``care_record``
    # set), or confirmed by hand by staff when the registry lookup in their scope found nobody (a manual
    # override, explained in ``care_note``). Door-to-door visits need it (constraint below).
    in_care_registry = models.BooleanField(_("关爱名册对象"), default=False)
    # The registry record the lookup found; door-visit steps are recorded on it as care visits.
    care_record = models.ForeignKey(
        "people.CareRecord",
        verbose_name=_("关爱记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # the retention job deletes closed records; the errand stays
        related_name="agency_requests",
    )
    care_note = models.CharField(_("关爱说明"), max_length=200, blank=True)
    step = models.CharField(
        _("进度"), max_length=24, choices=AgencyStep.choices, default=AgencyStep.REQUESTED
    )
    step_at = models.DateTimeField(_("进度时间"), null=True, blank=True)
    # The grid worker's grid (or the case's): a grid worker reaches the requests of their grid.
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects: ClassVar[ScopedQuerySet[AgencyDetail]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    # Through the case's region: when the district dispatcher places an unlocated request in a community
    # (梳理), that community's staff see it from then on.
    scope = ScopeFields(
        capability=Capability.BOOKINGS_AGENCY,
        region_path="case__region_path",
        grid="grid",
        owner="on_behalf_of",
    )

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "beneficiary_name": PiiTag(
            category="name",
            purpose="代办对象称呼(无账号的老人等)",
            retention=_AGENCY_RETENTION,
            retention_days=1095,
            legal_basis="个人同意(申请代办时)",
        ),
        "beneficiary_phone": PiiTag(
            category="phone",
            purpose="代办过程中联系代办对象",
            retention=_AGENCY_RETENTION,
            retention_days=1095,
            legal_basis="个人同意(申请代办时)",
        ),
        "beneficiary_phone_index": PiiTag(
            category="phone",
            purpose="按手机号查找代办记录(密钥哈希,不可逆)",
            retention=_AGENCY_RETENTION,
            retention_days=1095,
            legal_basis="个人同意(申请代办时)",
        ),
        "in_care_registry": PiiTag(
            category="care",
            purpose="上门代办仅面向关爱名册对象(分类分色)",
            retention=_AGENCY_RETENTION,
            retention_days=1095,
            sensitive=True,
            legal_basis="履行法定职责(特殊群体关爱服务)",
        ),
        "care_record": PiiTag(
            category="care",
            purpose="上门代办对象在关爱名册中的记录,上门步骤记为关爱走访",
            retention=_AGENCY_RETENTION,
            retention_days=1095,
            sensitive=True,
            legal_basis="履行法定职责(特殊群体关爱服务)",
        ),
        "care_note": PiiTag(
            category="care",
            purpose="上门代办的关爱情况说明",
            retention=_AGENCY_RETENTION,
            retention_days=1095,
            sensitive=True,
            legal_basis="履行法定职责(特殊群体关爱服务)",
        ),
    }

    class Meta:
        verbose_name = _("代办事项")
        verbose_name_plural = _("代办事项")
        ordering = ["-created_at", "-id"]
        indexes = [
            # "My 代办": a resident's requests, newest first.
            models.Index(fields=["on_behalf_of", "-created_at"], name="agency_beneficiary"),
            models.Index(fields=["requested_by", "-created_at"], name="agency_requester"),
            # Staff lists: requests not yet finished (joined to the case for the region filter).
            models.Index(fields=["step", "-created_at"], name="agency_step_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(step__in=AgencyStep.values), name="agency_step_valid"),
            # Door-to-door only for people in the care registry.
            models.CheckConstraint(
                condition=Q(door_to_door=False) | Q(in_care_registry=True), name="agency_door_needs_care"
            ),
        ]

    def __str__(self) -> str:
        return f"代办 {self.case_id}"


class AgencyEvent(EventBase):
    detail = models.ForeignKey(AgencyDetail, on_delete=models.CASCADE, related_name="events")

    class Meta:
        verbose_name = _("代办进度记录")
        verbose_name_plural = _("代办进度记录")
        ordering = ["detail_id", "created_at", "id"]
