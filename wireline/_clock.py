"""Sleeping, for the flow shells, with a switch that turns sleeps into records for tests.

``wireline.testing.no_sleep()`` flips the switch; the waits a flow asked for stay observable.
"""

from __future__ import annotations

import time

import anyio

__all__ = ["async_sleep", "sleep", "waits"]

#: When not ``None``, sleeps are appended here instead of being slept.
waits: list[float] | None = None


def sleep(seconds: float) -> None:
    """Sleep in a sync chain (or record the wait under ``no_sleep()``)."""
    if waits is not None:
        waits.append(seconds)
        return
    time.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """Sleep in an async chain (or record the wait under ``no_sleep()``)."""
    if waits is not None:
        waits.append(seconds)
        await anyio.lowlevel.checkpoint()
        return
    await anyio.sleep(seconds)
