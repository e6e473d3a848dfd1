"""Tables in docs/security.md that are generated from code, so the document cannot drift from it:
the role matrix (``linli.accounts.roles``) and retention per data category (the PI registry)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

from linli.accounts.roles import ROLE_CAPABILITIES, ROLE_SCOPE_KIND, Capability, Role, ScopeKind
from linli.security.pii import pii_registry

DOC = Path(settings.BASE_DIR) / "docs" / "security.md"
MARKERS = {
    "role-matrix": "manage.py role_matrix --markdown --write",
    "retention": "manage.py pii_retention --markdown --write",
}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def role_matrix_markdown() -> str:
    """Capabilities (rows) × roles (columns); ✓ where the role has it inside its scope."""
    with translation.override("zh-hans"):
        roles = list(Role)
        scope = {k.value: str(k.label) for k in ScopeKind}
        lines = [
            "| 权限 \\ 角色 | " + " | ".join(f"{_cell(r.label)}<br>`{r.value}`" for r in roles) + " |",
            "|---|" + "---|" * len(roles),
            "| *授权范围* | " + " | ".join(scope[ROLE_SCOPE_KIND[r]] for r in roles) + " |",
        ]
        for capability in Capability:
            marks = ["✓" if capability in ROLE_CAPABILITIES.get(r, frozenset()) else "" for r in roles]
            lines.append(f"| {_cell(capability.label)} `{capability.value}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)


def retention_markdown() -> str:
    """Every registered personal-data field: category, purpose, retention, legal basis."""
    rows = sorted(pii_registry().items(), key=lambda item: (item[1].category, item[0]))
    lines = [
        "| 类别 | 字段 | 用途 | 保存期限 | 依据 | 敏感 |",
        "|---|---|---|---|---|---|",
    ]
    for (model, field), tag in rows:
        lines.append(
            f"| {tag.category} | `{model}.{field}` | {_cell(tag.purpose)} | {_cell(tag.retention)} | "
            f"{_cell(tag.legal_basis) or '—'} | {'是' if tag.sensitive else ''} |"
        )
    return "\n".join(lines)


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {name}:begin[^>]*-->)\n(.*?)\n?(<!-- {name}:end -->)", re.DOTALL)


def doc_block(name: str, text: str | None = None) -> str | None:
    """The generated block ``name`` as it stands in the document (None when its markers are missing)."""
    match = _pattern(name).search(DOC.read_text(encoding="utf-8") if text is None else text)
    return match.group(2) if match else None


def doc_write(name: str, table: str) -> bool:
    """Replace block ``name`` in the document with ``table``; False when the markers are missing."""
    text = DOC.read_text(encoding="utf-8")
    pattern = _pattern(name)
    if not pattern.search(text):
        return False
    DOC.write_text(pattern.sub(lambda m: f"{m.group(1)}\n{table}\n{m.group(3)}", text), encoding="utf-8")
    return True
