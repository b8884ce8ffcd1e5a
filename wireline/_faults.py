"""Telemetry never breaks a request: failures of telemetry code are contained and reported once.

Logging and Tracing call into code wireline does not own -- structlog processors, OpenTelemetry
span processors, samplers, propagators, metric views. When one of them raises, the request goes on
without that piece of telemetry, and the failure is reported through the standard ``logging``
logger ``"wireline"`` once per place and exception type (not once per request, which would flood
the logs that are perhaps the very thing failing). The report is redacted like everything else.
"""

from __future__ import annotations

import logging
import threading
import traceback

from wireline.redaction import redact_text

__all__ = ["report_once", "reset_reports"]

_log = logging.getLogger("wireline")
_reported: set[tuple[str, type[BaseException]]] = set()
_lock = threading.Lock()


def report_once(where: str, exc: BaseException) -> None:
    """Report that ``where`` (e.g. ``"Tracing: span end"``) raised ``exc``, the first time only."""
    key = (where, type(exc))
    if key in _reported:
        return
    with _lock:
        if key in _reported:
            return
        _reported.add(key)
    try:
        details = redact_text("".join(traceback.format_exception(exc)).rstrip())
        _log.error(
            "wireline: %s raised %s; the request goes on without it (reported once per place and error type)\n%s",
            where,
            type(exc).__name__,
            details,
        )
    except Exception:  # noqa: BLE001, S110 - reporting must not fail either; the request matters more
        pass


def reset_reports() -> None:
    """Forget what was reported, so the next failure of each kind is reported again (for tests)."""
    with _lock:
        _reported.clear()
