"""The provider defaults used when `llm.default_model` is unset must be models the pinned SDK still serves."""

from __future__ import annotations

from anthropic._data import DEPRECATED_MODELS  # the SDK's own list; it warns on every call with one of these

from twosigma.llm.factory import DEFAULT_MODELS


def test_the_anthropic_default_is_not_deprecated_by_the_sdk() -> None:
    assert DEFAULT_MODELS["anthropic"] not in DEPRECATED_MODELS


def test_the_bedrock_default_names_the_same_model_family_as_the_anthropic_default() -> None:
    # Bedrock ids wrap the Anthropic id (`global.anthropic.<id>`): keep the two defaults on one model.
    assert DEFAULT_MODELS["bedrock"].endswith(DEFAULT_MODELS["anthropic"])
