"""SDK clients built on one stack share its pool; an SDK that closes its client closes only that client.

OpenAI, Anthropic, Groq and Cohere close the client they were given when they are closed (Mistral
and Gemini do not). The stack ignores that close for its pools, so the other SDK clients built on
it — of the same flavour and of the other — keep working, on the same pooled connection.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import wireline
from tests.providers.sdks import ROWS, Case, cases, close_sdk, given_http_client
from wireline.testing import ANSWER, LLMServer

pytestmark = pytest.mark.anyio

StackFactory = Callable[..., wireline.Stack]


@pytest.mark.parametrize("case", cases(streams=[False]))
async def test_closing_one_sdk_client_leaves_the_others_working(
    case: Case, llm: LLMServer, sdk_stack: StackFactory
) -> None:
    stack = sdk_stack(case.base)
    first, second = case.build(stack, llm), case.build(stack, llm)
    other_row = ROWS["groq"] if case.row.flavor == "httpx2" else ROWS["openai"]
    other = other_row.build(stack, llm, asynchronous=case.asynchronous)
    assert await case.call(first) == ANSWER
    assert await case.call(second) == ANSWER
    assert await other_row.call(other, asynchronous=case.asynchronous, stream=False) == ANSWER

    given = given_http_client(first, asynchronous=case.asynchronous)
    await close_sdk(first, asynchronous=case.asynchronous)
    assert given.is_closed is case.row.closes_its_client

    assert await case.call(second) == ANSWER
    assert await other_row.call(other, asynchronous=case.asynchronous, stream=False) == ANSWER
    assert await case.call(case.build(stack, llm)) == ANSWER
    assert not stack.closed
    # One pool per flavour: every call of this flavour went over the first call's connection.
    ports = {received.client_port for received in llm.received if received.route == case.path}
    assert len(ports) == 1
