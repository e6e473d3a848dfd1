"""API fuzzing (issue item 7): schemathesis generates requests from ``/api/openapi.json`` for every
operation, once per role, and every answer must be a non-5xx that the schema documents (status code,
content type and body). ``LINLI_FUZZ_ONLY=/api/cases/`` narrows a local run to some operations and
``LINLI_FUZZ_FULL=1`` prints schemathesis' whole report (response body, full curl) for each failure.

Runs in-process against the Django WSGI application (no server, no network). The number of examples per
operation is ``LINLI_FUZZ_EXAMPLES`` (default 2, and 1 for the anonymous role on operations that need a
sign-in). Roles: anonymous and every ``Role`` (13 in all, one staff account each, anchored by
``staff_with_role``). Bound: ~120 operations x 13 roles x <= 2 examples, about a minute on an idle 2-core
machine (each role ~2-6 s plus ~20 s to build the district and load the schema); raise it for a deeper
local run, e.g. ``LINLI_FUZZ_EXAMPLES=25 pytest linli/security/tests/test_api_fuzz.py`` (found the 500s
fixed in core/api.py and linli/api.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from linli.accounts.roles import Role
from linli.accounts.services import api_token_create
from linli.accounts.tests.factories import ResidentFactory, staff_with_role
from linli.places.tests.factories import SmallDistrict

EXAMPLES = int(os.environ.get("LINLI_FUZZ_EXAMPLES", "2"))
ONLY = os.environ.get(
    "LINLI_FUZZ_ONLY", ""
)  # e.g. "/api/cases/": fuzz only the operations whose label has it
ROLES = ["anonymous", *Role.values]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    # Like Django's test client: a request must not close the test's connection (and its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


_OPERATIONS: list[Any] = []


def api_operations() -> list[Any]:
    """The schema's operations, loaded once through the app itself (``/api/openapi.json``) for all roles:
    loading and compiling the schema costs more than fuzzing one role's operations."""
    if not _OPERATIONS:
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
        _OPERATIONS.extend(result.ok() for result in schema.get_all_operations())
    return _OPERATIONS


def bearer_for(role: str, district: SmallDistrict) -> dict[str, str]:
    if role == "anonymous":
        return {}
    # One account per role, anchored where the role's membership needs it (grid, community, street, ...).
    user = ResidentFactory() if role == Role.RESIDENT else staff_with_role(role, district=district)
    _, raw = api_token_create(user=user, name="fuzz")
    return {"Authorization": f"Bearer {raw}"}


def fuzz_operation(operation: Any, headers: dict[str, str], examples: int) -> None:
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure here is reproducible
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    run()


def _summary(exc: BaseException) -> str:
    """The failure's name, the status it got and the curl line that reproduces it (the report is long)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    wanted = [line for line in lines if line.startswith(("- ", "Received", "Documented", "[", "curl"))]
    if os.environ.get("LINLI_FUZZ_FULL"):
        return str(exc)
    return " | ".join(wanted[:7] or lines[:2] or [type(exc).__name__])[:700]


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_within_its_schema_for_each_role(
    role: str, small_district: SmallDistrict, in_process_requests: None, settings: Any
) -> None:
    # Fuzzing sends many requests from one address; limits are tested in test_ratelimit.py.
    settings.LINLI_RATE_LIMITS_ENABLED = False
    headers = bearer_for(role, small_district)
    failures: list[str] = []
    operations = 0
    for operation in api_operations():
        if ONLY and ONLY not in operation.label:
            continue
        operations += 1
        try:
            # Without credentials an operation that needs them answers 401 whatever it is sent: one will do.
            needs_sign_in = bool(operation.definition.raw.get("security"))
            fuzz_operation(operation, headers, 1 if needs_sign_in and not headers else EXAMPLES)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            failures.append(f"{operation.label}: {_summary(exc)}")
    assert operations > (0 if ONLY else 10)
    assert failures == [], "\n".join(failures)
