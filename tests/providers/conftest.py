"""Fixtures of the provider tests: the imitation LLM API, stacks over a named base transport, telemetry capture."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import wireline
from tests.conftest import BASE_TRANSPORTS

# The telemetry fixtures of the middleware tests, shared: ``otel`` (the OpenTelemetry SDK in memory)
# and ``logs`` (structlog events).
from tests.middleware.conftest import logs, otel  # noqa: F401
from wireline.testing import LLMServer, llm_server

# LiteLLM fetches its model price list from the internet when imported, unless told to use its own
# copy, and looks tokenizers up on the Hugging Face Hub: the tests send nothing beyond 127.0.0.1.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    """A fresh ``llm_server`` for the test, streaming without pauses between events."""
    with llm_server() as server:
        server.chunk_delay = 0.0
        yield server


@pytest.fixture
def sdk_stack() -> Iterator[Callable[..., wireline.Stack]]:
    """``sdk_stack(base, *layers, **base_settings)``: a stack over that base transport, closed after the test.

    The provider tests' ``make_stack``: their cases carry the base transport (see ``sdks.cases``),
    because which bases can serve a case depends on the SDK's flavour, not on the ``driver``.
    """
    made: list[wireline.Stack] = []

    def make(base: str, *layers: Any, **settings: Any) -> wireline.Stack:
        stack = wireline.Stack(*layers, transport=BASE_TRANSPORTS[base](**settings))
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.close()
