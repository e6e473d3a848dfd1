"""Races with real threads and separate connections: of two accepts for a resource's last place exactly one
wins (compare-and-set), and the same pair accepted twice at once makes one match.

On PostgreSQL the losers block on the row and then see the winner's change. The SQLite test database is in
memory with a shared cache, which answers a second writer "database table is locked" at once; the attempt
is retried then (as the file database's busy timeout would wait), so the service's own compare-and-set is
what decides the outcome on both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection

from linli.needs.errors import NeedsError
from linli.needs.models import MatchStatus, NeedEvent, NeedMatch, NeedStatus, Resource
from linli.needs.services import match_accept
from linli.needs.tests.factories import NeedsWorld, make_need, make_resource

pytestmark = pytest.mark.django_db(transaction=True)


def race(targets: list[Callable[[], Any]]) -> list[Any]:
    """Run each target in its own thread at the same moment; each result or exception, in order."""
    barrier = threading.Barrier(len(targets))
    results: list[Any] = [None] * len(targets)

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            for attempt in range(400):
                try:
                    results[i] = targets[i]()
                    return
                except OperationalError as exc:
                    if "locked" not in str(exc) or attempt == 399:
                        raise
                    time.sleep(0.005)
        except Exception as exc:  # the test inspects what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_concurrent_accepts_for_the_last_place_exactly_one_wins(world: NeedsWorld) -> None:
    actor = world.secretary0
    needs = [make_need(actor, world.d.estates[0]), make_need(actor, world.d.estates[1])]
    resource = make_resource(actor, world.d.communities[0], capacity=1)

    results = race(
        [lambda n=n: match_accept(actor=actor, need_id=n.pk, resource_id=resource.pk) for n in needs]
    )

    wins = [r for r in results if isinstance(r, NeedMatch)]
    losses = [r for r in results if isinstance(r, NeedsError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].code in {"capacity_exhausted", "not_a_candidate"}
    resource.refresh_from_db()
    assert resource.remaining == 0
    assert NeedMatch.objects.filter(resource=resource, status=MatchStatus.ACCEPTED).count() == 1
    winner, loser = (needs[0], needs[1]) if wins[0].need_id == needs[0].pk else (needs[1], needs[0])
    winner.refresh_from_db()
    loser.refresh_from_db()
    assert (winner.status, loser.status) == (NeedStatus.MATCHED, NeedStatus.OPEN)
    assert NeedEvent.objects.filter(action="match").count() == 1  # the loser's transaction left nothing


def test_the_same_pair_accepted_twice_at_once_makes_one_match(world: NeedsWorld) -> None:
    actor = world.secretary0
    need = make_need(actor, world.d.estates[0])
    resource = make_resource(actor, world.d.communities[0], capacity=5)

    results = race([lambda: match_accept(actor=actor, need_id=need.pk, resource_id=resource.pk)] * 2)

    assert sum(isinstance(r, NeedMatch) for r in results) == 1, results
    assert [r.code for r in results if isinstance(r, NeedsError)] == ["already_decided"]
    assert Resource.objects.get(pk=resource.pk).remaining == 4
    assert NeedMatch.objects.filter(need=need).count() == 1
