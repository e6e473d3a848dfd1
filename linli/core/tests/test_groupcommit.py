"""Group commit (``linli.core.groupcommit``) on the real database with real threads: concurrent work shares
one transaction, a member's error stays that member's, and inside a caller's transaction it runs there."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from linli.cases.models import CaseNumberCounter
from linli.core.groupcommit import GroupCommit, enabled

pytestmark = pytest.mark.django_db(transaction=True)
DAY = date(2031, 1, 1)


@pytest.fixture
def on(settings: Any) -> GroupCommit:
    settings.LINLI_GROUP_COMMIT = True  # on PostgreSQL too (off there by default)
    return GroupCommit()


def _insert(day: date, last: int) -> int:
    CaseNumberCounter.objects.create(day=day, last=last)
    return last


def _in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn()
        except BaseException as exc:  # the test inspects what the thread got
            out["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _wait_queued(gc: GroupCommit, n: int) -> None:
    for _ in range(2000):
        with gc._lock:
            if len(gc._queue) >= n:
                return
        threading.Event().wait(0.005)
    raise AssertionError(f"{n} members did not queue")


def test_members_arriving_while_a_batch_is_written_share_the_next_commit(on: GroupCommit) -> None:
    gate = threading.Event()

    def first() -> int:
        gate.wait(10)  # the first batch is being written while the others arrive
        return _insert(DAY, 0)

    lead, lead_out = _in_thread(lambda: on.run(first))
    for _ in range(200):  # the first member is inside its batch
        if on._leading and not on._queue:
            break
        threading.Event().wait(0.005)
    others = [
        _in_thread(lambda i=i: on.run(lambda: _insert(DAY + timedelta(days=i), i))) for i in range(1, 6)
    ]
    _wait_queued(on, 5)
    gate.set()
    for thread, _ in [(lead, lead_out), *others]:
        thread.join(30)
    assert lead_out == {"result": 0}
    assert sorted(out["result"] for _, out in others) == [1, 2, 3, 4, 5]
    assert on.batches == 2  # the first alone, then the five together
    assert CaseNumberCounter.objects.filter(day__gte=DAY).count() == 6


def test_a_member_that_fails_is_rolled_back_alone_and_hears_of_it(on: GroupCommit) -> None:
    CaseNumberCounter.objects.create(day=DAY, last=99)
    gate = threading.Event()
    lead = _in_thread(lambda: on.run(lambda: gate.wait(10) and 0))
    for _ in range(200):
        if on._leading and not on._queue:
            break
        threading.Event().wait(0.005)
    good_a = _in_thread(lambda: on.run(lambda: _insert(DAY + timedelta(days=1), 1)))
    _wait_queued(on, 1)
    bad = _in_thread(lambda: on.run(lambda: _insert(DAY, 2)))  # the day's row exists: IntegrityError
    _wait_queued(on, 2)
    good_b = _in_thread(lambda: on.run(lambda: _insert(DAY + timedelta(days=3), 3)))
    _wait_queued(on, 3)
    gate.set()
    for thread, _ in (lead, good_a, bad, good_b):
        thread.join(30)
    assert good_a[1] == {"result": 1} and good_b[1] == {"result": 3}
    assert isinstance(bad[1]["error"], IntegrityError)
    assert on.batches == 2
    assert CaseNumberCounter.objects.get(day=DAY).last == 99
    assert set(CaseNumberCounter.objects.filter(day__gt=DAY).values_list("last", flat=True)) == {1, 3}


def test_alone_a_failing_member_rolls_back_its_transaction(on: GroupCommit) -> None:
    def work() -> None:
        _insert(DAY, 1)
        _insert(DAY, 2)  # fails after the first row was written

    with pytest.raises(IntegrityError):
        on.run(work)
    assert not CaseNumberCounter.objects.filter(day=DAY).exists() and on.batches == 0
    assert on.run(lambda: _insert(DAY, 3)) == 3  # the next batch is led normally
    assert on.batches == 1


def test_inside_the_callers_transaction_the_work_runs_there(on: GroupCommit) -> None:
    with transaction.atomic():
        assert on.run(lambda: _insert(DAY, 1)) == 1
        assert CaseNumberCounter.objects.filter(day=DAY).exists()
        transaction.set_rollback(True)
    assert not CaseNumberCounter.objects.filter(day=DAY).exists()  # it was the caller's to commit
    assert on.batches == 0


def test_on_by_default_only_where_the_database_has_one_writer(settings: Any) -> None:
    settings.LINLI_GROUP_COMMIT = None
    assert enabled("sqlite") and not enabled("postgresql")
    settings.LINLI_GROUP_COMMIT = False
    assert not enabled("sqlite")
