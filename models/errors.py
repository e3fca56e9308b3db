"""The one exception domain operations raise when a rule says no."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """An operation was refused; `key` names the reason, `params` fill the person's text.

    The conversation turns the key into a sentence in the person's language, so this layer
    never holds wording.
    """

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
