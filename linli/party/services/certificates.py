"""Certificates of service hours: a numbered, verifiable statement of the verified total for a period."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from linli.party.access import party_manages
from linli.party.errors import PartyError
from linli.party.models import HoursCertificate, HoursSource, Volunteer, VolunteerHours

if TYPE_CHECKING:
    from linli.accounts.models import User

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand


def verify_code_new() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))


def certificate_issue(
    *, actor: User, volunteer_id: int, period_start: dt.date | None = None, period_end: dt.date | None = None
) -> HoursCertificate:
    """Issue a certificate for the volunteer's verified hours in the period (by default: everything up to
    today). The volunteer may issue their own; community managers issue for their volunteers."""
    volunteer = Volunteer.objects.filter(pk=volunteer_id).first()
    if volunteer is None:
        raise PartyError("not_found", "志愿者不存在", status=404)
    is_self = volunteer.user_id is not None and volunteer.user_id == actor.pk
    if not is_self and not party_manages(actor, volunteer.region_path):
        raise PartyError("not_found", "志愿者不存在", status=404)
    today = timezone.localdate()
    period_end = period_end or today
    ledger = VolunteerHours.objects.filter(volunteer=volunteer)
    first = ledger.order_by("served_on").values_list("served_on", flat=True).first()
    period_start = period_start or first or today
    if period_end < period_start:
        raise PartyError("invalid_period", "截止日期不能早于起始日期")
    if period_end > today:
        raise PartyError("invalid_period", "截止日期不能晚于今天")
    figures = ledger.filter(served_on__gte=period_start, served_on__lte=period_end).aggregate(
        total=Sum("hours"), entries=Count("id", filter=~Q(source=HoursSource.CORRECTION))
    )
    total = figures["total"] or Decimal(0)
    if total <= 0:
        raise PartyError("no_hours", "该期间没有已核实的志愿服务时长")
    now = timezone.now()
    with transaction.atomic():
        certificate = HoursCertificate.objects.create(
            number=f"tmp-{secrets.token_hex(8)}",
            volunteer=volunteer,
            region_path=volunteer.region_path,
            period_start=period_start,
            period_end=period_end,
            hours=total,
            entries=figures["entries"] or 0,
            issued_by=actor,
            issued_at=now,
            verify_code=verify_code_new(),
        )
        # The number carries the year and the row id: unique without a counter row to contend for.
        certificate.number = f"ZYSC{timezone.localtime(now):%Y}{certificate.pk:06d}"
        certificate.save(update_fields=["number"])
    return certificate
