"""Staff decisions on suggested resources: accept (reserve capacity), reject (with a reason), release.

Concurrency: accepting locks the need's row (through ``transition_apply``), then reserves capacity with one
compare-and-set UPDATE (``remaining >= amount`` → ``remaining - amount``). Two accepts racing for the last
place of a resource — for different needs, each holding its own need's lock — both reach the UPDATE; the
database applies them one after the other and the second matches no row, so exactly one wins. The same pair
twice is stopped by the need's lock (the second sees the first's decision) and the unique (need, resource)
constraint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from linli.needs.errors import NeedsError, not_found
from linli.needs.matching import suggestion_for
from linli.needs.models import MatchStatus, Need, NeedMatch, NeedStatus, Resource
from linli.needs.services.common import as_id, scoped_row, text
from linli.needs.services.needs import give_back
from linli.needs.transitions import NEED_FLOW, transition_apply

if TYPE_CHECKING:
    from linli.accounts.models import User

REASON_MAX = 200


def match_accept(*, actor: User, need_id: int, resource_id: int, note: str = "") -> NeedMatch:
    """Accept a suggested resource for a need: reserve its capacity and mark the need matched."""
    scoped_row(Need.objects.all(), actor, need_id, noun="需求")
    resource = Resource.objects.filter(pk=as_id(resource_id)).first()
    if resource is None:
        raise not_found("资源")
    made: list[NeedMatch] = []

    def effect(need: Need) -> dict[str, Any]:
        need = Need.objects.select_related("region", "community").get(pk=need.pk)
        suggestion = suggestion_for(need=need, resource=resource)
        if suggestion is None:
            if NeedMatch.objects.filter(need=need, resource=resource).exists():
                raise NeedsError("already_decided", "该资源已对此需求作出过决定", status=409)
            raise NeedsError(
                "not_a_candidate", "该资源目前不适合此需求(类别、有效期、距离或剩余数量不符)", status=409
            )
        reserved = Resource.objects.filter(
            pk=resource.pk, is_active=True, remaining__gte=suggestion.amount
        ).update(remaining=F("remaining") - suggestion.amount, updated_at=timezone.now())
        if reserved != 1:
            raise NeedsError("capacity_exhausted", "该资源的剩余可服务数量不足,已被其他需求占用", status=409)
        made.append(
            NeedMatch.objects.create(
                need=need,
                resource=resource,
                status=MatchStatus.ACCEPTED,
                score=suggestion.score,
                distance_m=suggestion.distance_m,
                amount=suggestion.amount,
                reason=text(note, label="说明", max_length=REASON_MAX),
                decided_by=actor,
            )
        )
        return {}

    transition_apply(
        flow=NEED_FLOW,
        obj_id=need_id,
        action="match",
        actor=actor,
        note=note,
        effect=effect,
        data={"resource": resource.pk, "resource_name": resource.name},
    )
    return made[0]


def match_reject(*, actor: User, need_id: int, resource_id: int, reason: str) -> NeedMatch:
    """Reject a suggestion with a reason; the pair is never suggested again."""
    reason = text(reason, label="不采纳的理由", max_length=REASON_MAX, required=True)
    scoped_row(Need.objects.all(), actor, need_id, noun="需求")
    resource = Resource.objects.filter(pk=as_id(resource_id)).first()
    if resource is None:
        raise not_found("资源")
    try:
        with transaction.atomic():
            need = Need.objects.select_for_update().get(pk=need_id)
            if need.status not in {NeedStatus.OPEN, NeedStatus.MATCHED}:
                raise NeedsError("need_not_matching", "需求已纳入项目或已结束,无需再匹配资源", status=409)
            return NeedMatch.objects.create(
                need=need, resource=resource, status=MatchStatus.REJECTED, reason=reason, decided_by=actor
            )
    except IntegrityError as exc:
        raise NeedsError("already_decided", "该资源已对此需求作出过决定", status=409) from exc


def match_release(*, actor: User, match_id: int, reason: str) -> NeedMatch:
    """Give an accepted resource back (it fell through); the need returns to 待匹配 when it was its last."""
    reason = text(reason, label="释放理由", max_length=REASON_MAX, required=True)
    match = NeedMatch.objects.filter(pk=as_id(match_id)).first()
    if match is None:
        raise not_found("资源匹配")
    scoped_row(Need.objects.all(), actor, match.need_id, noun="资源匹配")
    now = timezone.now()
    with transaction.atomic():
        need = Need.objects.select_for_update().get(pk=match.need_id)
        match = NeedMatch.objects.select_for_update().get(pk=match.pk)
        if match.status != MatchStatus.ACCEPTED:
            raise NeedsError("not_accepted", "只能释放已采纳的资源", status=409)
        give_back(resource_id=match.resource_id, amount=match.amount)
        match.status, match.released_at = MatchStatus.RELEASED, now
        match.reason = reason
        match.save(update_fields=["status", "released_at", "reason"])
        last = not NeedMatch.objects.filter(need=need, status=MatchStatus.ACCEPTED).exists()
        if last and need.status == NeedStatus.MATCHED:
            transition_apply(
                flow=NEED_FLOW, obj_id=need.pk, action="unmatch", actor=actor, note=reason,
                data={"resource": match.resource_id}, now=now,
            )  # fmt: skip
    return match
