"""wireline's copies of the semantic-convention names match the opentelemetry-semantic-conventions package."""

from __future__ import annotations

import warnings

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai, http_attributes as http_dev
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics, http_metrics as http_metrics_dev
from opentelemetry.semconv.attributes import (
    error_attributes,
    http_attributes,
    network_attributes,
    server_attributes,
    url_attributes,
)
from opentelemetry.semconv.metrics import http_metrics

from wireline import _semconv as sc


def test_http_names() -> None:
    assert sc.HTTP_REQUEST_METHOD == http_attributes.HTTP_REQUEST_METHOD
    assert sc.HTTP_REQUEST_METHOD_ORIGINAL == http_attributes.HTTP_REQUEST_METHOD_ORIGINAL
    assert sc.HTTP_REQUEST_RESEND_COUNT == http_attributes.HTTP_REQUEST_RESEND_COUNT
    assert sc.HTTP_RESPONSE_STATUS_CODE == http_attributes.HTTP_RESPONSE_STATUS_CODE
    assert sc.HTTP_RESPONSE_BODY_SIZE == http_dev.HTTP_RESPONSE_BODY_SIZE
    assert sc.HTTP_CONNECTION_STATE == http_dev.HTTP_CONNECTION_STATE
    assert sc.SERVER_ADDRESS == server_attributes.SERVER_ADDRESS
    assert sc.SERVER_PORT == server_attributes.SERVER_PORT
    assert sc.URL_FULL == url_attributes.URL_FULL
    assert sc.ERROR_TYPE == error_attributes.ERROR_TYPE
    assert error_attributes.ErrorTypeValues.OTHER.value == sc.ERROR_TYPE_OTHER
    assert sc.NETWORK_PROTOCOL_VERSION == network_attributes.NETWORK_PROTOCOL_VERSION
    assert sc.NETWORK_PEER_ADDRESS == network_attributes.NETWORK_PEER_ADDRESS
    assert sc.HTTP_CLIENT_REQUEST_DURATION == http_metrics.HTTP_CLIENT_REQUEST_DURATION
    assert sc.HTTP_CLIENT_ACTIVE_REQUESTS == http_metrics_dev.HTTP_CLIENT_ACTIVE_REQUESTS
    assert sc.HTTP_CLIENT_OPEN_CONNECTIONS == http_metrics_dev.HTTP_CLIENT_OPEN_CONNECTIONS
    known = {m.value for m in http_attributes.HttpRequestMethodValues} - {"_OTHER"}
    assert known <= sc.KNOWN_METHODS


def test_genai_names() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the constants say they moved; the strings stand
        pairs = [
            (sc.GEN_AI_PROVIDER_NAME, genai.GEN_AI_PROVIDER_NAME),
            (sc.GEN_AI_OPERATION_NAME, genai.GEN_AI_OPERATION_NAME),
            (sc.GEN_AI_REQUEST_MODEL, genai.GEN_AI_REQUEST_MODEL),
            (sc.GEN_AI_REQUEST_MAX_TOKENS, genai.GEN_AI_REQUEST_MAX_TOKENS),
            (sc.GEN_AI_REQUEST_TEMPERATURE, genai.GEN_AI_REQUEST_TEMPERATURE),
            (sc.GEN_AI_REQUEST_TOP_P, genai.GEN_AI_REQUEST_TOP_P),
            (sc.GEN_AI_REQUEST_TOP_K, genai.GEN_AI_REQUEST_TOP_K),
            (sc.GEN_AI_REQUEST_STOP_SEQUENCES, genai.GEN_AI_REQUEST_STOP_SEQUENCES),
            (sc.GEN_AI_REQUEST_SEED, genai.GEN_AI_REQUEST_SEED),
            (sc.GEN_AI_REQUEST_CHOICE_COUNT, genai.GEN_AI_REQUEST_CHOICE_COUNT),
            (sc.GEN_AI_RESPONSE_ID, genai.GEN_AI_RESPONSE_ID),
            (sc.GEN_AI_RESPONSE_MODEL, genai.GEN_AI_RESPONSE_MODEL),
            (sc.GEN_AI_RESPONSE_FINISH_REASONS, genai.GEN_AI_RESPONSE_FINISH_REASONS),
            (sc.GEN_AI_USAGE_INPUT_TOKENS, genai.GEN_AI_USAGE_INPUT_TOKENS),
            (sc.GEN_AI_USAGE_OUTPUT_TOKENS, genai.GEN_AI_USAGE_OUTPUT_TOKENS),
            (sc.GEN_AI_TOKEN_TYPE, genai.GEN_AI_TOKEN_TYPE),
            (sc.GEN_AI_INPUT_MESSAGES, genai.GEN_AI_INPUT_MESSAGES),
            (sc.GEN_AI_OUTPUT_MESSAGES, genai.GEN_AI_OUTPUT_MESSAGES),
            (sc.GEN_AI_SYSTEM_INSTRUCTIONS, genai.GEN_AI_SYSTEM_INSTRUCTIONS),
            (sc.GEN_AI_CLIENT_TOKEN_USAGE, gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE),
            (sc.GEN_AI_CLIENT_OPERATION_DURATION, gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION),
        ]
        for ours, theirs in pairs:
            assert ours == theirs
        providers = {value.value for value in genai.GenAiProviderNameValues}
    from wireline.genai.hosts import SEMCONV_PROVIDER

    assert set(SEMCONV_PROVIDER.values()) - providers == {"openrouter"}  # the one custom value
