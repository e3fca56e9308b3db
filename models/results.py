"""What the program sold: units and omzet (turnover) per Friday or date range, by area,
category, merchant, product or channel, and how each Friday's broadcast led to orders.

The values here are what every report shows: the `jbl report` command, staff's `/laporan` in
chat, the spreadsheet and the chart. Days are Jakarta's calendar days; instants are stored in
UTC, so a period's bounds are Jakarta midnights turned into UTC instants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

FRIDAY = 4


class Dimension(StrEnum):
    """What the figures are broken down by."""

    KOTA = "kota"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"
    CATEGORY = "category"
    MERCHANT = "merchant"
    PRODUCT = "product"
    CHANNEL = "channel"


@dataclass(frozen=True)
class Period:
    """Jakarta calendar days from `first` to `last`, both included."""

    first: date
    last: date

    @classmethod
    def friday(cls, day: date) -> Period:
        """One Friday edition: the orders placed on that day, Jakarta time."""
        return cls(day, day)

    @classmethod
    def fridays(cls, last: date, count: int) -> Period:
        """The `count` Fridays up to `last`, and the days between them."""
        return cls(last - timedelta(weeks=count - 1), last)

    @property
    def is_friday(self) -> bool:
        return self.first == self.last and self.first.weekday() == FRIDAY


@dataclass(frozen=True)
class Scope:
    """Which merchants count, by where they are: all of Jakarta, a kota or a kecamatan."""

    kota: str | None = None
    kecamatan: str | None = None


@dataclass(slots=True)
class Figures:
    """The counts of one cell of a report. Units and omzet count only sold orders (those that
    did not end rejected, cancelled or expired); placed, completed and lost stand beside them
    so the two are never confused."""

    # Orders placed in the period, whatever became of them.
    placed: int = 0
    # Orders that did not end rejected, cancelled or expired.
    sold: int = 0
    completed: int = 0
    rejected: int = 0
    cancelled: int = 0
    expired: int = 0
    # Items and whole rupiah of the sold orders.
    units: int = 0
    omzet: int = 0
    # Distinct buyers of sold orders; new ones had no sold order before the period.
    buyers: int = 0
    new_buyers: int = 0
    merchants_with_sale: int = 0
    products_sold: int = 0

    @property
    def lost(self) -> int:
        return self.rejected + self.cancelled + self.expired

    @property
    def returning_buyers(self) -> int:
        return self.buyers - self.new_buyers

    @property
    def average_order_value(self) -> int:
        """Whole rupiah per sold order (rounded down)."""
        return self.omzet // self.sold if self.sold else 0


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a breakdown: the dimension's value as people read it ("Jakarta Selatan", a
    merchant's name, "telegram"), its figures, and where it belongs (a kecamatan's kota, a
    kelurahan's kecamatan, a product's merchant)."""

    key: str
    figures: Figures
    parent: str | None = None
    # The merchant's, product's or category's id, where the dimension has one.
    id: int | None = None


@dataclass
class Results:
    """A period's figures in a scope, in total and broken down by one dimension (rows by omzet,
    largest first)."""

    period: Period
    scope: Scope
    by: Dimension
    total: Figures
    rows: list[Row] = field(default_factory=list)


@dataclass
class Report:
    """Everything the spreadsheet and the chart show for a period and scope. The merchants and
    products may be long (a year of the whole program): they are read as they are written."""

    period: Period
    scope: Scope
    total: Figures
    kota: list[Row]
    kecamatan: list[Row]
    merchants: Iterable[Row]
    products: Iterable[Row]


@dataclass(frozen=True)
class Funnel:
    """How one Friday's broadcast led to orders."""

    friday: date
    recipients: int = 0
    delivered: int = 0
    # Where the platform reports it (WhatsApp).
    read: int = 0
    # People who pressed the broadcast's button into the catalog.
    pressed: int = 0
    # Recipients who placed an order within 48 hours of their delivery.
    ordered: int = 0
