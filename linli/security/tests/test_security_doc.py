"""docs/security.md tells the truth: its role matrix and retention table are the code's own."""

from __future__ import annotations

import pytest

from linli.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from linli.security.doc_tables import doc_block, retention_markdown, role_matrix_markdown


@pytest.mark.parametrize(
    ("block", "generate", "command"),
    [
        ("role-matrix", role_matrix_markdown, "manage.py role_matrix --markdown --write"),
        ("retention", retention_markdown, "manage.py pii_retention --markdown --write"),
    ],
)
def test_the_generated_tables_in_the_document_match_the_code(
    block: str, generate: object, command: str
) -> None:
    stored = doc_block(block)

    assert stored is not None, f"docs/security.md lost its <!-- {block}:begin/end --> markers"
    assert stored.strip() == generate().strip(), f"docs/security.md is out of date: run `{command}`"  # type: ignore[operator]


def test_the_role_matrix_marks_exactly_the_capabilities_each_role_has() -> None:
    lines = role_matrix_markdown().splitlines()
    roles = list(Role)

    for capability in Capability:
        [line] = [row for row in lines if f"`{capability.value}`" in row]
        marks = [cell.strip() == "✓" for cell in line.strip("|").split("|")[1:]]
        assert marks == [capability in ROLE_CAPABILITIES[r] for r in roles], capability
    auditor = next(row for row in lines if "`audit.view`" in row)
    assert auditor.count("✓") == 1
