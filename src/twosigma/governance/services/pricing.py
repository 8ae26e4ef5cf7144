"""What a turn cost: the price table (`llm.prices` over the built-in defaults) and the arithmetic."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from twosigma.system_settings.effective import EffectiveSettings


@dataclass(frozen=True)
class Price:
    input_per_mtok: float  # USD per million input tokens
    output_per_mtok: float


# The models the providers name by default (llm/factory.py DEFAULT_MODELS) and their siblings, in USD per million
# tokens. An operator prices other models, or corrects these, with the setting `llm.prices`.
DEFAULT_PRICES: Mapping[str, Price] = {
    "claude-sonnet-5-5": Price(3.0, 15.0),
    "global.anthropic.claude-sonnet-5-5": Price(3.0, 15.0),
    "claude-haiku-4-5": Price(1.0, 5.0),
    "claude-opus-4-5": Price(5.0, 25.0),
    "gpt-4o-mini": Price(0.15, 0.6),
    "gpt-4o": Price(2.5, 10.0),
    "gpt-4.1-mini": Price(0.4, 1.6),
}

PriceTable = Mapping[str, Price]


def price_table(effective: EffectiveSettings) -> PriceTable:
    """The defaults with `llm.prices` on top (a model named there replaces its default). The setting was checked
    when written (system_settings/registry.py `check_price_table`)."""
    table = dict(DEFAULT_PRICES)
    if effective.llm_prices:
        for model, price in json.loads(effective.llm_prices).items():
            table[model] = Price(float(price["input_per_mtok"]), float(price["output_per_mtok"]))
    return table


def price_of(table: PriceTable, model: str) -> Price | None:
    """The model's price; a dated snapshot (`claude-sonnet-5-5-20261001`) takes the price of the longest name in the
    table it starts with. None: the model has no price (the turn costs nothing in the ledger; docs)."""
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name + "-")]
    return table[max(prefixes, key=len)] if prefixes else None


def cost_usd(price: Price, input_tokens: int, output_tokens: int) -> float:
    """Rounded to a millionth of a dollar (the ledger sums these; floating-point dust would show in reports)."""
    return round((input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1_000_000, 6)
