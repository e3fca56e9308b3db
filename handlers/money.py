"""Rupiah amounts: whole integers, shown as `Rp25.000`."""

from __future__ import annotations

import re

# Typed prices: "25000", "25.000", "Rp 25.000", "25rb", "25 ribu", "1,5 jt", "2 juta".
_TYPED = re.compile(
    r"^\s*(?:rp\.?\s*)?(?P<number>\d{1,3}(?:\.\d{3})+|\d+(?:,\d+)?)\s*"
    r"(?P<unit>rb|ribu|k|jt|juta)?\s*$",
    re.IGNORECASE,
)
_MULTIPLIERS = {"rb": 1_000, "ribu": 1_000, "k": 1_000, "jt": 1_000_000, "juta": 1_000_000}
MAX_AMOUNT = 10**12


def format_rupiah(amount: int) -> str:
    """`Rp25.000`: dots group thousands, as Indonesians write it, in every language."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


def parse_rupiah(text: str) -> int | None:
    """The whole-rupiah amount a person typed, or None when it is not one."""
    match = _TYPED.match(text)
    if match is None:
        return None
    number, unit = match["number"], (match["unit"] or "").lower()
    multiplier = _MULTIPLIERS.get(unit, 1)
    if "," in number:
        whole, fraction = number.split(",")
        if multiplier == 1 or len(fraction) > len(str(multiplier)) - 1:
            return None
        amount = int(whole) * multiplier + int(fraction.ljust(len(str(multiplier)) - 1, "0"))
    else:
        amount = int(number.replace(".", "")) * multiplier
    return amount if amount <= MAX_AMOUNT else None
