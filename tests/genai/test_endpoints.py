"""Recognising LLM endpoints: provider, operation and wire format from host, path and the adapter's hint."""

from __future__ import annotations

import pytest

from wireline.genai import match_endpoint, provider_for_host

CASES = [
    # host, path, hint -> provider, operation, format, path model, stream
    ("api.openai.com", "/v1/chat/completions", None, "openai", "chat", "openai_chat", None, False),
    ("api.openai.com", "/v1/responses", None, "openai", "chat", "openai_responses", None, False),
    ("api.openai.com", "/v1/completions", None, "openai", "text_completion", "openai_chat", None, False),
    ("api.openai.com", "/v1/embeddings", None, "openai", "embeddings", "openai_chat", None, False),
    (
        "myres.openai.azure.com",
        "/openai/deployments/prod-gpt4o/chat/completions",
        None,
        "azure.ai.openai",
        "chat",
        "openai_chat",
        "prod-gpt4o",
        False,
    ),
    (
        "myres.openai.azure.com",
        "/openai/v1/responses",
        None,
        "azure.ai.openai",
        "chat",
        "openai_responses",
        None,
        False,
    ),
    ("api.groq.com", "/openai/v1/chat/completions", None, "groq", "chat", "openai_chat", None, False),
    ("api.mistral.ai", "/v1/chat/completions", None, "mistral_ai", "chat", "openai_chat", None, False),
    ("api.deepseek.com", "/chat/completions", None, "deepseek", "chat", "openai_chat", None, False),
    ("localhost", "/v1/chat/completions", None, "openai", "chat", "openai_chat", None, False),
    ("localhost", "/v1/chat/completions", "openai_compatible", "openai", "chat", "openai_chat", None, False),
    ("127.0.0.1", "/v1/chat/completions", "mistral", "mistral_ai", "chat", "openai_chat", None, False),
    ("api.anthropic.com", "/v1/messages", None, "anthropic", "chat", "anthropic_messages", None, False),
    ("127.0.0.1", "/v1/messages", None, "anthropic", "chat", "anthropic_messages", None, False),
    (
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        None,
        "gcp.gemini",
        "generate_content",
        "gemini",
        "gemini-2.5-flash",
        False,
    ),
    (
        "generativelanguage.googleapis.com",
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
        None,
        "gcp.gemini",
        "generate_content",
        "gemini",
        "gemini-2.0-flash",
        True,
    ),
    (
        "us-central1-aiplatform.googleapis.com",
        "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent",
        None,
        "gcp.vertex_ai",
        "generate_content",
        "gemini",
        "gemini-2.0-flash",
        False,
    ),
    (
        "us-east5-aiplatform.googleapis.com",
        "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5:streamRawPredict",
        None,
        "gcp.vertex_ai",
        "chat",
        "anthropic_messages",
        "claude-sonnet-4-5",
        True,
    ),
    (
        "proxy.corp",
        "/v1beta/models/gemini-pro:generateContent",
        None,
        "gcp.gen_ai",
        "generate_content",
        "gemini",
        "gemini-pro",
        False,
    ),
    ("api.cohere.com", "/v2/chat", None, "cohere", "chat", "cohere_chat", None, False),
]


@pytest.mark.parametrize(("host", "path", "hint", "provider", "operation", "fmt", "model", "stream"), CASES)
def test_llm_endpoints_are_recognised(host, path, hint, provider, operation, fmt, model, stream) -> None:  # noqa: PLR0917
    endpoint = match_endpoint(host, path, hint)
    assert endpoint is not None
    assert (endpoint.provider, endpoint.operation, endpoint.wire_format.name) == (provider, operation, fmt)
    assert (endpoint.model, endpoint.stream) == (model, stream)


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("api.openai.com", "/v1/models"),
        ("api.openai.com", "/v1/files"),
        ("api.openai.com", "/v1/responses/resp_123/cancel"),
        ("api.anthropic.com", "/v1/models"),
        ("example.com", "/messages"),  # not Anthropic's host nor the /v1/messages shape
        ("api.cohere.com", "/v1/chat"),  # the old v1 format is not parsed
        ("generativelanguage.googleapis.com", "/v1beta/models/gemini-pro:countTokens"),
        ("example.com", "/"),
    ],
)
def test_other_requests_are_not_llm_calls(host: str, path: str) -> None:
    assert match_endpoint(host, path) is None


@pytest.mark.parametrize(
    ("host", "provider"),
    [
        ("api.openai.com", "openai"),
        ("eu.api.openai.com", "openai"),
        ("contoso.openai.azure.com", "azure_openai"),
        ("contoso.cognitiveservices.azure.com", "azure_openai"),
        ("api.anthropic.com", "anthropic"),
        ("generativelanguage.googleapis.com", "gemini"),
        ("europe-west4-aiplatform.googleapis.com", "vertex_ai"),
        ("api.mistral.ai", "mistral"),
        ("api.cohere.com", "cohere"),
        ("api.groq.com", "groq"),
        ("bedrock-runtime.us-east-1.amazonaws.com", "bedrock"),
        ("s3.amazonaws.com", None),
        ("example.com", None),
    ],
)
def test_providers_by_host(host: str, provider: str | None) -> None:
    assert provider_for_host(host) == provider
