"""Every write of the three lists and organisations. Import services from here."""

from linli.needs.services.matches import match_accept, match_reject, match_release
from linli.needs.services.needs import need_act, need_create, need_update
from linli.needs.services.organisations import organisation_create, organisation_incubate, organisation_update
from linli.needs.services.projects import (
    project_act,
    project_claim,
    project_create,
    project_evaluate,
    project_report,
)
from linli.needs.services.representatives import (
    organisation_member_add,
    organisation_member_remove,
    project_claim_as_organisation,
)
from linli.needs.services.resources import resource_create, resource_update
from linli.needs.services.volunteering import project_serve, project_services_credit

__all__ = [
    "match_accept",
    "match_reject",
    "match_release",
    "need_act",
    "need_create",
    "need_update",
    "organisation_create",
    "organisation_incubate",
    "organisation_member_add",
    "organisation_member_remove",
    "organisation_update",
    "project_act",
    "project_claim",
    "project_claim_as_organisation",
    "project_create",
    "project_evaluate",
    "project_report",
    "project_serve",
    "project_services_credit",
    "resource_create",
    "resource_update",
]
