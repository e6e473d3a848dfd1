"""Party organisations and members, 我是党员我报到, volunteers and their service hours."""

from linli.party.models.checkin import (
    OPEN_STATUSES,
    CheckIn,
    CheckInEvent,
    CheckInStatus,
    Commitment,
    CommitmentKind,
)
from linli.party.models.orgs import ORG_RULES, OrgKind, PartyMember, PartyOrg
from linli.party.models.volunteers import (
    MAX_HOURS_PER_ENTRY,
    HoursCertificate,
    HoursSource,
    TeamMembership,
    Volunteer,
    VolunteerHours,
    VolunteerTeam,
)

__all__ = [
    "MAX_HOURS_PER_ENTRY",
    "OPEN_STATUSES",
    "ORG_RULES",
    "CheckIn",
    "CheckInEvent",
    "CheckInStatus",
    "Commitment",
    "CommitmentKind",
    "HoursCertificate",
    "HoursSource",
    "OrgKind",
    "PartyMember",
    "PartyOrg",
    "TeamMembership",
    "Volunteer",
    "VolunteerHours",
    "VolunteerTeam",
]
