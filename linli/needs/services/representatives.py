"""Organisations acting for themselves: staff name an organisation's representatives (组织联络人), and a
representative claims a project for the organisation (项目认领) without staff recording it for them.

A representative holds no role and no region scope: ``OrganisationMember`` links one account to one
organisation, and the only things it opens are the organisation's own page of claimable and claimed
projects and the claim itself (see docs/needs.md, "Organisation accounts"). Adding and removing a
representative is audited like a role change (``role.grant`` / ``role.revoke``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q

from linli.needs.errors import NeedsError, not_found
from linli.needs.models import Organisation, OrganisationMember, Project, ProjectStatus
from linli.needs.services.common import as_id, scoped_row
from linli.needs.services.projects import claim_apply
from linli.security.audit import audit_record
from linli.security.models import AuditResult
from linli.security.validation import IdentifierError, phone_validate

if TYPE_CHECKING:
    from django.http import HttpRequest

    from linli.accounts.models import User

MAX_REPRESENTATIVES = 10


def organisation_member_add(
    *, actor: User, organisation_id: int, phone: str, request: HttpRequest | None = None
) -> OrganisationMember:
    """Make the account with this mobile number a representative of the organisation (staff with
    ``needs.manage`` over it). The person signs in with that number first (an SMS code creates the
    account); the number is looked up through its blind index and never stored here."""
    from linli.accounts.models import User as UserModel

    organisation: Organisation = scoped_row(Organisation.objects.all(), actor, organisation_id, noun="组织")
    try:
        number = phone_validate(str(phone or "").strip())
    except IdentifierError as exc:
        raise NeedsError("invalid_phone", exc.message) from exc
    user = UserModel.objects.filter(phone_index__matches=number, is_active=True).first()
    if user is None:
        raise NeedsError("account_not_found", "该手机号尚未注册,请联络人先用手机号登录一次")
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()  # orders concurrent adds
        member, created = OrganisationMember.objects.get_or_create(
            organisation=organisation, user=user, defaults={"added_by": actor}
        )
        if not created and member.is_active:
            return member  # already a representative (a double submit)
        active = OrganisationMember.objects.filter(organisation=organisation, is_active=True).count()
        if active >= MAX_REPRESENTATIVES:
            raise NeedsError("too_many_representatives", f"每个组织最多{MAX_REPRESENTATIVES}名联络人")
        if not created:
            member.is_active, member.added_by = True, actor
            member.save(update_fields=["is_active", "added_by", "updated_at"])
        audit_record(
            action="role.grant", actor=actor, obj=member, result=AuditResult.OK,
            data={"kind": "organisation_member", "organisation_id": organisation.pk, "user_id": user.pk},
            request=request,
        )  # fmt: skip
    return member


def organisation_member_remove(
    *, actor: User, member_id: int, request: HttpRequest | None = None
) -> OrganisationMember:
    """Remove a representative (the row stays, inactive); their next request no longer acts for it."""
    with transaction.atomic():
        member = OrganisationMember.objects.select_for_update().filter(pk=as_id(member_id)).first()
        if member is None:
            raise not_found("联络人")
        scoped_row(Organisation.objects.all(), actor, member.organisation_id, noun="联络人")
        if member.is_active:
            member.is_active = False
            member.save(update_fields=["is_active", "updated_at"])
            audit_record(
                action="role.revoke", actor=actor, obj=member, result=AuditResult.OK,
                data={"kind": "organisation_member", "organisation_id": member.organisation_id,
                      "user_id": member.user_id},
                request=request,
            )  # fmt: skip
    return member


def represented_organisation(*, user: User, organisation_id: int) -> Organisation:
    """The active organisation ``user`` actively represents, else 404 (the same answer for a missing one)."""
    organisation = Organisation.objects.filter(
        pk=as_id(organisation_id),
        is_active=True,
        members__user=user,
        members__is_active=True,
    ).first()
    if organisation is None or not getattr(user, "is_active", False):
        raise not_found("组织")
    return organisation


def claimable_q(organisation: Organisation) -> Q:
    """Projects an organisation may claim: in its region's subtree, or in the community that holds it (an
    estate-level organisation serves its community) — the staff pool's rule seen from the organisation."""
    path = organisation.region_path
    parts = [p for p in path.split("/") if p]
    above = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]
    return Q(region_path__startswith=path) | Q(region_path__in=above)


def project_claim_as_organisation(
    *, user: User, project_id: int, organisation_id: int, note: str = ""
) -> Project:
    """A representative claims an open project for their organisation (项目认领). A project the
    organisation may not claim answers 404; one no longer open answers ``invalid_transition``."""
    organisation = represented_organisation(user=user, organisation_id=organisation_id)
    project = Project.objects.filter(claimable_q(organisation), pk=as_id(project_id)).first()
    if project is None or (
        project.status != ProjectStatus.OPEN and project.organisation_id != organisation.pk
    ):
        # Only open projects and the organisation's own are visible to it: anything else is as if absent.
        raise not_found("项目")
    return claim_apply(actor=user, project=project, organisation=organisation, note=note, by="organisation")
