"""Logs hold 0 valid ID numbers and 0 full mainland mobiles (AUD-4), through the configured LOGGING."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest
import structlog

from linli.security.logging import PiiMaskingFilter, mask_pii_processor
from linli.security.validation import id_check_character

IDS = [
    "110105199003071239",
    "44030419851231001" + id_check_character("44030419851231001"),
    "11010519900307128X",
]
PHONES = ["13812345678", "15011112222", "19987654321"]


def leaked(text: str) -> list[str]:
    """Valid ID numbers (MOD 11-2) and full mainland mobiles anywhere in ``text``."""
    found = [
        m
        for m in re.findall(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])", text)
        if id_check_character(m[:17]) == m[-1].upper()
    ]
    digits_only = re.sub(r"[ \-]", "", text)
    found += re.findall(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])", digits_only)
    return found


@pytest.fixture
def root_output() -> Iterator[io.StringIO]:
    """Point the configured root console handler (from settings.LOGGING) at a buffer."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and any(isinstance(f, PiiMaskingFilter) for f in h.filters)
    ]
    assert handlers, "settings.LOGGING must install PiiMaskingFilter on the root console handler"
    buffer = io.StringIO()
    previous = [h.setStream(buffer) for h in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)


def test_configured_logging_masks_ids_and_phones_everywhere(root_output: io.StringIO) -> None:
    log = logging.getLogger("linli.test.pii")
    log.warning("resident %s phone %s", IDS[0], PHONES[0])
    log.warning(f"inline id {IDS[1]} and +86 {PHONES[1][:3]}-{PHONES[1][3:7]}-{PHONES[1][7:]}")
    log.warning("mapping %(id)s", {"id": IDS[2]})
    log.warning("number argument %d", int(PHONES[2]))
    try:
        raise ValueError(f"bad row: {IDS[0]} / {PHONES[0]}")
    except ValueError:
        log.exception("import failed")
    logging.getLogger("django.request").error("Not Found: /api/people/%s", IDS[1])

    output = root_output.getvalue()
    assert output.count("\n") >= 6
    assert leaked(output) == []
    assert "110***********1239" in output and "138****5678" in output
    assert "ValueError: bad row: 110***********1239 / 138****5678" in output


def test_filter_leaves_ordinary_messages_alone() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "case %s took %d ms", ("A-2026-000123", 42), None
    )
    PiiMaskingFilter().filter(record)
    assert record.getMessage() == "case A-2026-000123 took 42 ms"


def test_structlog_processor_masks_nested_values() -> None:
    output = io.StringIO()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(output),
        processors=[mask_pii_processor, structlog.processors.JSONRenderer()],
    )
    logger.info(
        f"sign-in for {PHONES[0]}",
        id_number=IDS[0],
        phone=int(PHONES[1]),
        rows=[{"id": IDS[1]}, (PHONES[2], 3)],
        count=7,
    )
    text = output.getvalue()
    assert leaked(text) == []
    assert '"count": 7' in text
    assert "138****5678" in text and "150****2222" in text


def test_every_configured_handler_masks() -> None:
    # Django installs its own handlers (console when DEBUG, runserver's access log); LOGGING replaces them,
    # so no record can reach an output without passing the filter. pytest's capture handlers are not ours.
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    unmasked = [
        f"{logger.name}: {handler!r}"
        for logger in loggers
        for handler in logger.handlers
        if not type(handler).__module__.startswith("_pytest")
        and not isinstance(handler, logging.NullHandler)  # libraries' "no output" default
        and not any(isinstance(f, PiiMaskingFilter) for f in handler.filters)
    ]
    assert unmasked == []
