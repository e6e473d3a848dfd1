"""``manage.py rotate_keys [--batch 1000] [--reindex] [--check]``: see ``linli.security.rotation``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.security import crypto
from linli.security.rotation import (
    RotationResult,
    blind_indexes_rebuild,
    ciphertexts_pending,
    ciphertexts_rotate,
)


class Command(BaseCommand):
    help = (
        "Re-encrypt personal data under the active key (LINLI_DATA_KEY_ID); --reindex rebuilds blind indexes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=1000, help="rows per transaction (default 1000)")
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="also recompute blind indexes (after LINLI_BLIND_INDEX_KEY changed)",
        )
        parser.add_argument(
            "--check", action="store_true", help="only count values not under the active key; exit 1 if any"
        )

    def handle(self, *args: Any, batch: int, reindex: bool, check: bool, **options: Any) -> None:
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        ring = crypto.keyring()
        self.stdout.write(f"active key {ring.active_id!r}, algorithm {ring.active_algorithm}")
        if check:
            pending = ciphertexts_pending()
            for label, count in pending.items():
                self.stdout.write(f"{label}: {count} value(s) not under the active key")
            if any(pending.values()):
                raise CommandError("some values still need rotation")
            return
        results = ciphertexts_rotate(batch=batch)
        if reindex:
            results += blind_indexes_rebuild(batch=batch)
        self._report(results)

    def _report(self, results: list[RotationResult]) -> None:
        failures = 0
        for result in results:
            self.stdout.write(f"{result.label}: {result.changed} updated, {len(result.failed)} failed")
            for failure in result.failed[:20]:
                self.stderr.write(f"  {result.label} {failure}")
            failures += len(result.failed)
        if failures:
            raise CommandError(f"{failures} value(s) could not be decrypted; they were left as they are")
