"""Writes of the party app, one function per use case (keyword-only, typed). Import them from here."""

from linli.party.services.certificates import certificate_issue
from linli.party.services.checkin import (
    checkin_activate,
    checkin_confirm,
    checkin_register,
    checkin_reject,
    checkin_withdraw,
    commitment_fulfil,
    volunteer_for_member,
)
from linli.party.services.orgs import party_member_create, party_org_create
from linli.party.services.volunteers import (
    HoursResult,
    hours_correct,
    hours_credit,
    hours_record,
    team_create,
    team_member_add,
    volunteer_register,
)

__all__ = [
    "HoursResult",
    "certificate_issue",
    "checkin_activate",
    "checkin_confirm",
    "checkin_register",
    "checkin_reject",
    "checkin_withdraw",
    "commitment_fulfil",
    "hours_correct",
    "hours_credit",
    "hours_record",
    "party_member_create",
    "party_org_create",
    "team_create",
    "team_member_add",
    "volunteer_for_member",
    "volunteer_register",
]
