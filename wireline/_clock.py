"""Time, for the flow shells and the layers that plan with it, with a switch for tests.

``wireline.testing.no_sleep()`` flips the switch: sleeps are recorded instead of slept, and the
clocks here move forward by what was skipped, so deadline arithmetic sees the waits it asked for
(a test of "the third wait would pass the deadline" behaves as it would for real, instantly).
"""

from __future__ import annotations

import time

import anyio

__all__ = ["async_sleep", "monotonic", "sleep", "waits", "wall"]

#: When not ``None``, sleeps are appended here instead of being slept.
waits: list[float] | None = None

#: Seconds of sleep skipped under ``no_sleep()``; the clocks below add them.
skipped = 0.0


def monotonic() -> float:
    """``time.monotonic()``, plus the sleeps skipped under ``no_sleep()``."""
    return time.monotonic() + skipped


def wall() -> float:
    """``time.time()``, plus the sleeps skipped under ``no_sleep()`` (for HTTP dates)."""
    return time.time() + skipped


def _skip(seconds: float, recorded: list[float]) -> None:
    global skipped  # noqa: PLW0603 - one process-wide test switch, flipped by no_sleep()
    recorded.append(seconds)
    skipped += seconds


def sleep(seconds: float) -> None:
    """Sleep in a sync chain (or record the wait under ``no_sleep()``)."""
    recorded = waits
    if recorded is not None:
        _skip(seconds, recorded)
        return
    time.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """Sleep in an async chain (or record the wait under ``no_sleep()``)."""
    recorded = waits
    if recorded is not None:
        _skip(seconds, recorded)
        await anyio.lowlevel.checkpoint()
        return
    await anyio.sleep(seconds)
