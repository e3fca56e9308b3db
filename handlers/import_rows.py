"""The rows of the merchants and products files checked into typed records: each row is either a
record, ready for the upsert, or the problems a person must fix in it. Nothing here reads the
database: a product's category and merchant are matched when the records are written."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from handlers.cleaning import clean_text
from handlers.import_files import Columns, Problem, Row, Table
from handlers.money import parse_rupiah
from handlers.phones import normalize_phone
from models.areas import UnknownArea, kecamatan_named, kelurahan_named, kota_named
from models.importing import MerchantRecord, ProductRecord

MERCHANT_COLUMNS = Columns(
    required=("jakpreneur_id", "name", "phone", "kota", "kecamatan"),
    optional=(
        "owner_name",
        "kelurahan",
        "address",
        "pickup_allowed",
        "delivery_allowed",
        "description",
    ),
)
PRODUCT_COLUMNS = Columns(
    required=("jakpreneur_id", "sku", "name", "category", "price", "stock"),
    optional=("unit", "description", "photo_url", "curated"),
)
# The longest value each text column takes: the tables' own columns (models/catalog.py).
KEY_LENGTH = 40
SKU_LENGTH = 60
NAME_LENGTH = 120
SHORT_LENGTH = 120
ADDRESS_LENGTH = 500
DESCRIPTION_LENGTH = 4000
UNIT_LENGTH = 20
URL_LENGTH = 500
MAX_STOCK = 2**31 - 1
# A value quoted back in an error is cut here: the error names it, the row holds it whole.
SHOWN_LENGTH = 40

_YES = frozenset({"ya", "yes", "y", "true", "1"})
_NO = frozenset({"tidak", "no", "n", "false", "0"})
# Spreadsheets in English write 15,000; a currency format may add ,00 or .00, people ,-.
_COMMA_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
_ZERO_CENTS = re.compile(r"(?<=\d)(?:[.,]00?|,-)$")
_SPACE = re.compile(r"\s")
_RP = re.compile(r"^rp\.?\s*", re.IGNORECASE)
_WHOLE = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+|\d+)")
# "Kota Administrasi Jakarta Selatan" is the formal name of what the list calls Jakarta Selatan.
_KOTA_PREFIX = re.compile(r"^\s*(?:kota|kabupaten|kab\.)(?:\s+administrasi)?\s+", re.IGNORECASE)


R = TypeVar("R")


@dataclass(frozen=True)
class Checked(Generic[R]):
    """A row and what came of it: its record, or (when `problems` is not empty) None."""

    row: Row
    record: R | None
    problems: tuple[Problem, ...] = ()


def check_merchants(table: Table) -> Iterator[Checked[MerchantRecord]]:
    """Each row of a merchants file, checked; a jakpreneur_id seen before is refused."""
    return _checked(table, _merchant, ("jakpreneur_id",))


def check_products(table: Table) -> Iterator[Checked[ProductRecord]]:
    """Each row of a products file, checked; a jakpreneur_id and sku seen before are refused."""
    return _checked(table, _product, ("jakpreneur_id", "sku"))


class _Cells:
    """One row's values by column name, collecting the problems of those that do not fit."""

    def __init__(self, table: Table, row: Row) -> None:
        self.table = table
        self.row = row
        self.problems: list[Problem] = []

    def raw(self, column: str) -> str:
        position = self.table.index.get(column)
        return "" if position is None else self.row.cells[position]

    def heading(self, column: str) -> str:
        """The column as the file names it: what the person sees in their spreadsheet."""
        return self.table.header[self.table.index[column]]

    def refuse(self, key: str, column: str | None = None, **params: object) -> None:
        if column is not None and self.heading(column) in self.row.formulas:
            return  # the formula is the row's problem; its text is no value to judge
        if column is not None:
            params["column"] = self.heading(column)
            params.setdefault("value", _shown(self.raw(column)))
        self.problems.append(Problem(key, params))

    def text(self, column: str, limit: int, *, required: bool = False, lines: bool = False) -> str:
        value = clean_text(self.raw(column))
        value = value.strip() if lines else " ".join(value.split())
        if not value:
            if required:
                self.refuse("import_required", column)
            return ""
        if len(value) > limit:
            self.refuse("import_too_long", column, limit=limit)
        return value

    def optional(self, column: str, limit: int, *, lines: bool = False) -> str | None:
        return self.text(column, limit, lines=lines) or None

    def yes_no(self, column: str) -> bool | None:
        value = self.raw(column).strip().casefold()
        if not value:
            return None
        if value in _YES:
            return True
        if value in _NO:
            return False
        self.refuse("import_bad_yes_no", column)
        return None


def _checked(
    table: Table, check: Callable[[_Cells], object], key_columns: tuple[str, ...]
) -> Iterator[Checked]:
    # Digests of the keys, not the keys: a million products' keys would weigh far more.
    seen: dict[bytes, int] = {}
    for row in table.rows:
        cells = _Cells(table, row)
        if row.formulas:
            cells.refuse("import_formula", columns=", ".join(row.formulas))
        if row.extra:
            values = ", ".join(f'"{_shown(value)}"' for value in row.extra)
            cells.refuse("import_extra_cells", values=values)
        record = check(cells)
        keys = [" ".join(cells.raw(column).split()) for column in key_columns]
        if all(keys):
            digest = hashlib.blake2b("\x1f".join(keys).encode(), digest_size=12).digest()
            first = seen.setdefault(digest, row.line)
            if first != row.line:
                names = " + ".join(cells.heading(column) for column in key_columns)
                cells.refuse("import_duplicate", columns=names, line=first)
        if cells.problems:
            yield Checked(row, None, tuple(cells.problems))
        else:
            yield Checked(row, record)


def _merchant(cells: _Cells) -> MerchantRecord:
    # Checked in the file's order of columns, so the problems are told in that order.
    jakpreneur_id = cells.text("jakpreneur_id", KEY_LENGTH, required=True)
    name = cells.text("name", NAME_LENGTH, required=True)
    owner_name = cells.optional("owner_name", SHORT_LENGTH)
    phone = _phone(cells)
    kota, kecamatan, kelurahan = _area(cells)
    address = cells.optional("address", ADDRESS_LENGTH, lines=True)
    pickup, delivery = cells.yes_no("pickup_allowed"), cells.yes_no("delivery_allowed")
    if pickup is False and delivery is False:
        cells.refuse("import_no_pickup_or_delivery")
    return MerchantRecord(
        jakpreneur_id=jakpreneur_id,
        name=name,
        phone=phone,
        kota=kota,
        kecamatan=kecamatan,
        kelurahan=kelurahan,
        owner_name=owner_name,
        address=address,
        pickup=pickup,
        delivery=delivery,
        description=cells.optional("description", DESCRIPTION_LENGTH, lines=True),
    )


def _product(cells: _Cells) -> ProductRecord:
    return ProductRecord(
        jakpreneur_id=cells.text("jakpreneur_id", KEY_LENGTH, required=True),
        sku=cells.text("sku", SKU_LENGTH, required=True),
        name=cells.text("name", NAME_LENGTH, required=True),
        category=cells.text("category", SHORT_LENGTH, required=True),
        price=_price(cells),
        stock=_stock(cells),
        unit=cells.optional("unit", UNIT_LENGTH),
        description=cells.optional("description", DESCRIPTION_LENGTH, lines=True),
        photo_url=_photo_url(cells),
        curated=cells.yes_no("curated"),
    )


def _phone(cells: _Cells) -> str | None:
    typed = cells.raw("phone").strip()
    if not typed:
        return None
    phone = normalize_phone(typed)
    if phone is None:
        cells.refuse("import_bad_phone", "phone")
    return phone


def _area(cells: _Cells) -> tuple[str, str, str | None]:
    """Kota, kecamatan and kelurahan as Jakarta spells them; each is checked in the one above."""
    kota_typed = " ".join(cells.raw("kota").split())
    kecamatan_typed = " ".join(cells.raw("kecamatan").split())
    kelurahan_typed = " ".join(cells.raw("kelurahan").split())
    kota = kecamatan = ""
    if not kota_typed:
        cells.refuse("import_required", "kota")
    else:
        kota = _named(cells, "kota", kota_named, _KOTA_PREFIX.sub("", kota_typed))
    if not kecamatan_typed:
        cells.refuse("import_required", "kecamatan")
    elif kota:
        kecamatan = _named(
            cells, "kecamatan", lambda typed: kecamatan_named(typed, kota)[0], kecamatan_typed, kota
        )
    if not kelurahan_typed or not kecamatan:
        return kota, kecamatan, None
    kelurahan = _named(
        cells, "kelurahan", lambda typed: kelurahan_named(typed, kecamatan), kelurahan_typed
    )
    return kota, kecamatan, kelurahan or None


def _named(
    cells: _Cells, column: str, name: Callable[[str], str], typed: str, kota: str = ""
) -> str:
    """The area as `name` spells it, or "" with the row's problem (and the closest name)."""
    try:
        return name(typed)
    except UnknownArea as unknown:
        if unknown.found_in is not None:
            cells.refuse(
                "import_area_elsewhere",
                column,
                suggestion=unknown.suggestion,
                kota=kota,
                found_in=unknown.found_in,
            )
        elif unknown.suggestion is not None:
            cells.refuse("import_unknown_area_suggest", column, suggestion=unknown.suggestion)
        else:
            cells.refuse("import_unknown_area", column)
        return ""


def _price(cells: _Cells) -> int:
    typed = cells.raw("price").strip()
    if not typed:
        cells.refuse("import_required", "price")
        return 0
    amount = parse_rupiah(_without_cents(typed))
    if amount is None:
        cells.refuse("import_bad_price", "price")
        return 0
    if amount <= 0:
        cells.refuse("import_price_zero", "price")
    return amount


def _without_cents(typed: str) -> str:
    number = _ZERO_CENTS.sub("", _RP.sub("", typed))
    if _COMMA_THOUSANDS.fullmatch(number):
        number = number.replace(",", "")
    return number


def _stock(cells: _Cells) -> int:
    typed = cells.raw("stock").strip()
    if not typed:
        cells.refuse("import_required", "stock")
        return 0
    if not _WHOLE.fullmatch(typed):
        cells.refuse("import_bad_stock", "stock")
        return 0
    stock = int(typed.replace(".", "").replace(",", ""))
    if not 0 <= stock <= MAX_STOCK:
        cells.refuse("import_bad_stock", "stock")
    return stock


def _photo_url(cells: _Cells) -> str | None:
    typed = cells.raw("photo_url").strip()
    if not typed:
        return None
    try:
        parts = urlsplit(typed)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() != "https"
        or not parts.hostname
        or _SPACE.search(typed)
    ):
        cells.refuse("import_bad_url", "photo_url")
        return None
    if len(typed) > URL_LENGTH:
        cells.refuse("import_too_long", "photo_url", limit=URL_LENGTH)
    return typed


def _shown(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= SHOWN_LENGTH else value[: SHOWN_LENGTH - 1] + "…"
