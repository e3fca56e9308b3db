"""Rows of the merchants and products files checked as staff type them: what is read, and what
a row that cannot be is told to fix."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from handlers.import_files import open_table
from handlers.import_rows import (
    MERCHANT_COLUMNS,
    PRODUCT_COLUMNS,
    check_merchants,
    check_products,
)
from models.importing import MerchantRecord, ProductRecord, category_key

MERCHANT_HEADER = [
    "jakpreneur_id", "name", "owner_name", "phone", "kota", "kecamatan", "kelurahan",
    "address", "pickup_allowed", "delivery_allowed", "description",
]  # fmt: skip
WARUNG = [
    "JP-001", "Warung Bu Atiék", "Atiek", "0812-3456-7890", "Jakarta Selatan",
    "Kebayoran Lama", "Grogol Utara", "Jl. Kebayoran Lama No. 1", "ya", "tidak", "Kue basah",
]  # fmt: skip
PRODUCT_HEADER = [
    "jakpreneur_id", "sku", "name", "category", "price", "unit", "stock", "description",
    "photo_url", "curated",
]  # fmt: skip
KUE = [
    "JP-001", "KL-1", "Kue Lumpur", "Makanan & Minuman", "15.000", "pcs", "12", "Manis",
    "https://example.com/kue.jpg", "ya",
]  # fmt: skip


def checked(tmp_path: Path, header: list[str], *rows: list[str]) -> list[object]:
    """Each row's record, or the English texts of what is wrong with it."""
    path = tmp_path / "file.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([header, *rows])
    merchants = header is MERCHANT_HEADER
    with open_table(path, MERCHANT_COLUMNS if merchants else PRODUCT_COLUMNS) as table:
        check = check_merchants if merchants else check_products
        return [
            result.record or [problem.text("en") for problem in result.problems]
            for result in check(table)
        ]


def merchant(tmp_path: Path, **changes: str) -> object:
    row = dict(zip(MERCHANT_HEADER, WARUNG, strict=True)) | changes
    [result] = checked(tmp_path, MERCHANT_HEADER, list(row.values()))
    return result


def product(tmp_path: Path, **changes: str) -> object:
    row = dict(zip(PRODUCT_HEADER, KUE, strict=True)) | changes
    [result] = checked(tmp_path, PRODUCT_HEADER, list(row.values()))
    return result


def test_a_merchant_row_becomes_a_record_with_its_phone_in_international_form(
    tmp_path: Path,
) -> None:
    assert merchant(tmp_path) == MerchantRecord(
        jakpreneur_id="JP-001",
        name="Warung Bu Atiék",
        phone="+6281234567890",
        kota="Jakarta Selatan",
        kecamatan="Kebayoran Lama",
        kelurahan="Grogol Utara",
        owner_name="Atiek",
        address="Jl. Kebayoran Lama No. 1",
        pickup=True,
        delivery=False,
        description="Kue basah",
    )


def test_areas_are_read_as_jakarta_spells_them(tmp_path: Path) -> None:
    record = merchant(
        tmp_path,
        kota="Kota Administrasi Jakarta Selatan",
        kecamatan="  kebayoran   LAMA ",
        kelurahan="grogol utara",
        phone="+62 812 3456 7890",
    )
    assert isinstance(record, MerchantRecord)
    assert (record.kota, record.kecamatan, record.kelurahan) == (
        "Jakarta Selatan",
        "Kebayoran Lama",
        "Grogol Utara",
    )
    assert record.phone == "+6281234567890"


def test_a_misspelt_area_gets_the_closest_valid_name(tmp_path: Path) -> None:
    assert merchant(tmp_path, kecamatan="Kebayoran Lma") == [
        'kecamatan "Kebayoran Lma" is not in Jakarta; did you mean Kebayoran Lama?'
    ]
    assert merchant(tmp_path, kelurahan="Grogol Utra") == [
        'kelurahan "Grogol Utra" is not in Jakarta; did you mean Grogol Utara?'
    ]
    assert merchant(tmp_path, kota="Jakarta Selatn") == [
        'kota "Jakarta Selatn" is not in Jakarta; did you mean Jakarta Selatan?'
    ]
    assert merchant(tmp_path, kota="Bandung") == ['kota "Bandung" is not in Jakarta']


def test_a_kecamatan_of_another_kota_says_where_it_is(tmp_path: Path) -> None:
    assert merchant(tmp_path, kecamatan="gambir", kelurahan="") == [
        "kecamatan Gambir is not in Jakarta Selatan but in Jakarta Pusat"
    ]


def test_a_merchant_row_names_everything_to_fix_at_once(tmp_path: Path) -> None:
    assert merchant(
        tmp_path,
        jakpreneur_id=" ",
        phone="12345",
        pickup_allowed="tidak",
        delivery_allowed="no",
        name="x" * 121,
    ) == [
        "jakpreneur_id is required",
        "name is too long (at most 120 characters)",
        'phone "12345" is not an Indonesian WhatsApp number; write it like 0812-3456-7890',
        "A shop must allow pickup or delivery: pickup_allowed and delivery_allowed cannot both "
        "be no",
    ]


def test_a_merchant_without_a_phone_or_the_optional_values_is_read(tmp_path: Path) -> None:
    record = merchant(
        tmp_path,
        phone="",
        owner_name="",
        kelurahan="",
        address="",
        pickup_allowed="",
        delivery_allowed="",
        description="",
    )
    assert isinstance(record, MerchantRecord)
    assert record.phone is None and record.kelurahan is None and record.owner_name is None
    assert (record.pickup, record.delivery) == (None, None)


def test_a_jakpreneur_id_seen_before_refuses_the_later_rows(tmp_path: Path) -> None:
    other = [*WARUNG]
    other[1] = "Toko Lain"
    first, second, third = checked(tmp_path, MERCHANT_HEADER, WARUNG, other, other)
    assert isinstance(first, MerchantRecord)
    expected = ["jakpreneur_id is the same as in row 2; every row must be unique"]
    assert second == expected and third == expected


@pytest.mark.parametrize(
    "typed",
    ["15000", "15.000", "Rp15.000", "Rp 15.000", "rp15000", "15,000", "Rp 15.000,00", "15.000,-"],
)
def test_a_price_is_read_as_people_write_rupiah(tmp_path: Path, typed: str) -> None:
    record = product(tmp_path, price=typed)
    assert isinstance(record, ProductRecord) and record.price == 15000


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0", "price must be more than 0"),
        ("15.5", 'price "15.5" is not a whole rupiah amount; write it like 15000 or 15.000'),
        ("lima", 'price "lima" is not a whole rupiah amount; write it like 15000 or 15.000'),
        ("-5000", 'price "-5000" is not a whole rupiah amount; write it like 15000 or 15.000'),
        ("", "price is required"),
    ],
)  # fmt: skip
def test_a_price_that_is_no_whole_amount_above_zero_is_refused(
    tmp_path: Path, typed: str, expected: str
) -> None:
    assert product(tmp_path, price=typed) == [expected]


@pytest.mark.parametrize(("typed", "stock"), [("0", 0), ("12", 12), ("1.000", 1000)])
def test_stock_is_a_whole_number_of_zero_or_more(tmp_path: Path, typed: str, stock: int) -> None:
    record = product(tmp_path, stock=typed)
    assert isinstance(record, ProductRecord) and record.stock == stock


@pytest.mark.parametrize("typed", ["-1", "2.5", "banyak"])
def test_stock_below_zero_or_in_parts_is_refused(tmp_path: Path, typed: str) -> None:
    assert product(tmp_path, stock=typed) == [f'stock "{typed}" is not a whole number of 0 or more']


@pytest.mark.parametrize(
    ("typed", "curated"),
    [("ya", True), ("YES", True), ("y", True), ("True", True), ("1", True),
     ("tidak", False), ("No", False), ("n", False), ("FALSE", False), ("0", False), ("", None)],
)  # fmt: skip
def test_yes_and_no_are_read_in_both_languages(
    tmp_path: Path, typed: str, curated: bool | None
) -> None:
    record = product(tmp_path, curated=typed)
    assert isinstance(record, ProductRecord) and record.curated is curated


def test_anything_else_is_no_yes_or_no(tmp_path: Path) -> None:
    assert product(tmp_path, curated="mungkin") == ['curated "mungkin" must be yes or no']


@pytest.mark.parametrize(
    "typed",
    ["http://example.com/kue.jpg", "example.com/kue.jpg", "https:///kue.jpg", "https://a b"],
)
def test_a_photo_url_must_be_https(tmp_path: Path, typed: str) -> None:
    assert product(tmp_path, photo_url=typed) == [
        f'photo_url "{typed}" must be a full address starting with https://'
    ]


def test_a_sku_repeated_for_the_same_merchant_is_refused_and_for_another_is_not(
    tmp_path: Path,
) -> None:
    other_merchant = ["JP-002", *KUE[1:]]
    first, second, third = checked(tmp_path, PRODUCT_HEADER, KUE, other_merchant, KUE)
    assert isinstance(first, ProductRecord) and isinstance(second, ProductRecord)
    assert third == ["jakpreneur_id + sku is the same as in row 2; every row must be unique"]


def test_a_category_is_taken_as_typed_and_compared_by_its_key(tmp_path: Path) -> None:
    record = product(tmp_path, category="  makanan  &  Minuman ")
    assert isinstance(record, ProductRecord)
    assert record.category == "makanan & Minuman"
    assert category_key(record.category) == category_key("Makanan & Minuman")
    assert category_key("makanan-minuman") != category_key("Makanan & Minuman")


def test_a_long_value_is_cut_where_the_error_quotes_it(tmp_path: Path) -> None:
    [problem] = product(tmp_path, price="9" * 60)
    assert problem == (
        f'price "{"9" * 39}…" is not a whole rupiah amount; write it like 15000 or 15.000'
    )
