"""Writes behind the Open311 endpoints other than POST requests (which is ``case_submit`` itself).

FixMyStreet's ``POST servicerequestupdates``: a client's system reports progress on a request. Which client
may update which case is decided here; the write is the cases service ``case_external_update`` (a public
note on the timeline, idempotent by the client's own update id).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from linli.cases.errors import CaseError
from linli.cases.models import Case, Channel
from linli.cases.services import ExternalUpdate, case_external_update
from linli.cases.services.submit import client_scope
from linli.integrations.models import Open311Client


def open311_client_may_update(client: Open311Client, *, scope: str, unit_id: int | None) -> bool:
    """A client may update the requests it POSTed itself, and, when it belongs to a unit, that unit's cases."""
    if scope == client_scope(channel=Channel.OPEN311, client_id=str(client.pk)):
        return True
    return client.unit_id is not None and unit_id == client.unit_id


def open311_update_post(
    *,
    client: Open311Client,
    service_request_id: str,
    description: str,
    update_id: str = "",
    status: str = "",
    updated_datetime: datetime | None = None,
    photos: Sequence[bytes] = (),
) -> ExternalUpdate:
    """Record ``description`` as a progress update (办理进展) on the case numbered ``service_request_id``.

    A case the client may not update answers like one that does not exist (404): a key does not reveal
    other units' cases. ``status`` and ``updated_datetime`` are recorded with the event; they do not move
    the case (its handling steps are taken in the workbench, by people). ``photos`` (the ``media``
    uploads) are attached to the update.
    """
    row = (
        Case.objects.filter(number=service_request_id)
        .values_list("pk", "idempotency_scope", "unit_id")
        .first()
    )
    if row is None or not open311_client_may_update(client, scope=row[1], unit_id=row[2]):
        raise CaseError("not_found", f"诉求 {service_request_id} 不存在或无权更新", status=404)
    return case_external_update(
        case_id=row[0],
        source=f"open311:{client.pk}",
        ref=update_id,
        note=description,
        data={
            "client": client.name,
            "status": status,
            "updated_datetime": updated_datetime.isoformat() if updated_datetime else "",
        },
        photos=photos,
    )


__all__ = ["open311_client_may_update", "open311_update_post"]
