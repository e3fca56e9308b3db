"""Rupiah and phone numbers, for every value a person could produce."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.money import MAX_AMOUNT, format_rupiah, parse_rupiah
from handlers.phones import display_phone, normalize_phone
from models.people import canonical_identity

amounts = st.integers(min_value=0, max_value=MAX_AMOUNT)


@given(amounts)
def test_rupiah_shows_dots_between_thousands(amount: int) -> None:
    shown = format_rupiah(amount)
    assert shown.startswith("Rp")
    digits = shown[2:]
    groups = digits.split(".")
    assert all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
    assert int(digits.replace(".", "")) == amount


@given(amounts)
def test_what_is_shown_parses_back(amount: int) -> None:
    assert parse_rupiah(format_rupiah(amount)) == amount
    assert parse_rupiah(str(amount)) == amount
    assert parse_rupiah(f"Rp {format_rupiah(amount)[2:]}") == amount


@given(st.integers(min_value=1, max_value=999_999))
def test_ribu_and_juta_shorthands(thousands: int) -> None:
    assert parse_rupiah(f"{thousands}rb") == thousands * 1000
    assert parse_rupiah(f"{thousands} ribu") == thousands * 1000
    assert parse_rupiah(f"{thousands}k") == thousands * 1000


def test_known_rupiah_examples() -> None:
    assert format_rupiah(25_000) == "Rp25.000"
    assert format_rupiah(-1_500) == "-Rp1.500"
    assert parse_rupiah("1,5 jt") == 1_500_000
    assert parse_rupiah("2 juta") == 2_000_000
    for nonsense in ["", "abc", "-3", "25.00", "1,5", "Rp", "12.34.567", "1e9", "25,000"]:
        assert parse_rupiah(nonsense) is None, nonsense
    assert parse_rupiah("9" * 14) is None


@given(st.text(max_size=40))
def test_parse_never_crashes_and_never_goes_negative(text: str) -> None:
    amount = parse_rupiah(text)
    assert amount is None or 0 <= amount <= MAX_AMOUNT


mobile_digits = st.from_regex(r"8[1-5][0-9]{8,9}", fullmatch=True)


@given(mobile_digits, st.sampled_from(["0{}", "+62{}", "62{}", "+62 {}", "0{}  "]))
def test_indonesian_mobiles_normalise_to_plus_62_however_typed(digits: str, shape: str) -> None:
    expected = normalize_phone("0" + digits)
    if expected is None:  # a prefix the numbering plan does not assign
        return
    assert expected == "+62" + digits
    spaced = " ".join([digits[:3], digits[3:7], digits[7:]])
    dashed = "-".join([digits[:3], digits[3:7], digits[7:]])
    for typed in (shape.format(digits), shape.format(spaced), shape.format(dashed)):
        assert normalize_phone(typed) == expected, typed
    assert normalize_phone(display_phone(expected)) == expected


@given(st.text(max_size=60))
def test_normalised_numbers_are_valid_indonesian_e164(text: str) -> None:
    phone = normalize_phone(text)
    if phone is not None:
        number = phonenumbers.parse(phone)
        assert phone.startswith("+62") and phonenumbers.is_valid_number(number)


def test_known_phone_examples() -> None:
    assert normalize_phone("0812-3456-7890") == "+6281234567890"
    assert normalize_phone("(021) 555-1234") == "+62215551234"
    for invalid in ["12345", "+44 20 7946 0958", "0812", "nomor saya", "+62 0000 0000", "9" * 40]:
        assert normalize_phone(invalid) is None, invalid
    assert display_phone("+6281234567890") == "0812-3456-7890"


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("whatsapp:+6285712345678", "whatsapp:+6285712345678"),
        ("whatsapp:+62 857-1234-5678", "whatsapp:+6285712345678"),
        ("whatsapp:0857 1234 5678", "whatsapp:+6285712345678"),
        ("+62 857 1234 5678", "whatsapp:+6285712345678"),
        ("whatsapp:+1 415 555 2671", "whatsapp:+14155552671"),
        ("telegram:5005", "telegram:5005"),
        ("console:budi", "console:budi"),
    ],
)
def test_identities_have_one_spelling(given: str, canonical: str) -> None:
    assert canonical_identity(given) == canonical


@pytest.mark.parametrize("given", ["whatsapp:halo", "whatsapp:+62", "whatsapp:"])
def test_a_whatsapp_identity_that_is_no_number_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match="is not a phone number"):
        canonical_identity(given)
