"""Helpers for testing code that uses wireline.

- :func:`no_sleep` — middleware waits return at once and are recorded.
- :func:`llm_server` — a local server that imitates an LLM API (see :mod:`wireline.testing.llm_server`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from wireline import _clock
from wireline.testing.llm_server import ANSWER, Failure, LLMServer, Received, llm_server

__all__ = ["ANSWER", "Failure", "LLMServer", "Received", "llm_server", "no_sleep"]


@contextmanager
def no_sleep() -> Iterator[list[float]]:
    """Within the block, middleware waits (``yield Sleep(s)``) return at once.

    Yields the list the waits are recorded in, in order, so tests can assert on the computed
    backoff without spending it::

        with wireline.testing.no_sleep() as waits:
            client.get(url)
        assert waits == [0.5, 1.0]

    wireline's own clock moves on by each skipped wait, so deadlines, retry budgets and circuit
    breakers see the time the waits would have taken (``Retry(deadline=...)`` gives up where it
    would for real). Socket timeouts are real: they are not skipped.
    """
    previous, previous_skipped = _clock.waits, _clock.skipped
    recorded: list[float] = []
    _clock.waits = recorded
    try:
        yield recorded
    finally:
        _clock.waits = previous
        _clock.skipped = previous_skipped
