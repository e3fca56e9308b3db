"""Indonesian phone numbers, as people type them, normalised to +62…."""

from __future__ import annotations

import phonenumbers

MAX_PHONE_INPUT = 30


def normalize_phone(text: str) -> str | None:
    """`0812-3456-7890`, `+62 812 3456 7890` or `62812…` → `+6281234567890`; else None.

    Only valid Indonesian numbers pass: orders are delivered in Jakarta.
    """
    if len(text) > MAX_PHONE_INPUT:
        return None
    candidate = text.strip()
    if candidate.startswith("62"):
        candidate = "+" + candidate
    try:
        number = phonenumbers.parse(candidate, "ID")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 62 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """`+6281234567890` → `0812-3456-7890`, the way Indonesians read a number."""
    number = phonenumbers.parse(e164, "ID")
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return national
