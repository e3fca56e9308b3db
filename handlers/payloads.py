"""Every kind of button payload, each defined once: calling a kind builds the payload a button
carries, and the same parts make the pattern that reads it back, so the two cannot disagree.
`handlers/routes.py` says which handler each kind reaches.

The strings are stored (chat menus, outbox rows) and live on in buttons people already have:
a kind's format never changes once buttons carry it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from handlers.texts import LANGUAGES
from models.base import LARGEST_ID, NO_ID, id_from_text
from models.catalog import RankKey
from models.ordering import CASH, DELIVERY, PICKUP, TRANSFER


@dataclass(frozen=True)
class Field:
    """A value in a payload: the text it may be (a regex without groups), how that text is
    read, and how a value is written."""

    regex: str
    read: Callable[[str], Any] = str
    write: Callable[[Any], str] = str


def one_of(*words: str) -> Field:
    return Field("|".join(re.escape(word) for word in words))


class Payload:
    """One kind of payload: literal parts and `Field`s joined by ":". `kind(*values)` builds
    a payload, `kind.read(payload)` gives its values back, or None when it is not this kind."""

    def __init__(self, *parts: str | Field) -> None:
        self.fields = tuple(part for part in parts if isinstance(part, Field))
        self.pattern = re.compile(
            ":".join(f"({p.regex})" if isinstance(p, Field) else re.escape(p) for p in parts)
        )
        self._format = ":".join(
            "{}" if isinstance(p, Field) else p.replace("{", "{{").replace("}", "}}") for p in parts
        )

    def __call__(self, *values: Any) -> str:
        written = (field.write(v) for field, v in zip(self.fields, values, strict=True))
        return self._format.format(*written)

    def read(self, payload: str) -> tuple[Any, ...] | None:
        match = self.pattern.fullmatch(payload)
        if match is None:
            return None
        return tuple(
            field.read(text) for field, text in zip(self.fields, match.groups(), strict=True)
        )

    def __repr__(self) -> str:
        return f"Payload({self.pattern.pattern!r})"


def _read_cursor(text: str) -> RankKey:
    curated, sold, product_id, *marks = text.split(":")
    demoted, local = "d" in marks, "l" in marks
    return RankKey(curated == "1", int(sold), id_from_text(product_id), demoted, local)


def _write_cursor(key: RankKey) -> str:
    written = f"{int(key.curated)}:{key.recent_sold}:{_write_id(key.product_id)}"
    if key.demoted:
        written += DEMOTED_MARK
    return written + LOCAL_MARK if key.local else written


def _write_id(id: int) -> str:
    # NO_ID as the first number out of range, so that a payload built from one reads back.
    return str(LARGEST_ID + 1 if id == NO_ID else id)


def _read_day(text: str) -> date | None:
    # Eight digits need not be a date; a forged one is a Friday that is not this week's.
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _read_stamp(text: str) -> datetime | None:
    # 0: no time. Seventeen digits stay within the years a datetime holds.
    micros = int(text)
    return None if micros == 0 else _EPOCH + timedelta(microseconds=micros)


def _write_stamp(moment: datetime | None) -> str:
    return "0" if moment is None else str((moment - _EPOCH) // timedelta(microseconds=1))


# Numbers are ASCII digits: `\d` would take any script's digits, which no button carries.
# A row's id; one no row can have (beyond a 32-bit column) reads as NO_ID, so a forged payload
# is simply not found and never reaches the database as a number its column cannot hold.
ID = Field(r"[0-9]{1,12}", id_from_text, _write_id)
QUANTITY = Field(r"[0-9]{1,6}", int)
# Where a catalog page starts: the direction, and the product's rank key next to it (recent
# sales fit a BIGINT in 18 digits), ending in `:d` when the product is demoted; buttons sent
# before demotion carry no mark, and their product was not demoted. Then `:l` when the page
# put the resident's kecamatan first (`[catalog] local_first`) and the product is from there.
DIRECTION = one_of("n", "p")
DEMOTED_MARK = ":d"
LOCAL_MARK = ":l"
CURSOR = Field(r"[01]:[0-9]{1,18}:[0-9]{1,12}(?::d)?(?::l)?", _read_cursor, _write_cursor)
# An instant to the microsecond (a product's `review_requested_at`), 0 for none.
STAMP = Field(r"[0-9]{1,17}", _read_stamp, _write_stamp)
# The Friday of a broadcast, YYYYMMDD.
FRIDAY = Field(r"[0-9]{8}", _read_day, lambda day: f"{day.year:04}{day.month:02}{day.day:02}")
# The reasons a merchant can reject an order with one press; `reason_<code>` is their text.
REJECT_REASONS = ("stock", "closed", "area")

# The kinds of payload, by feature.
MENU = Payload("menu")
HELP = Payload("help")
LANGUAGE_MENU = Payload("lang")
LANGUAGE = Payload("lang", one_of(*LANGUAGES))
CATALOG = Payload("cat")
CATEGORY = Payload("c", ID)
CATEGORY_PAGE = Payload("c", ID, DIRECTION, CURSOR)
MERCHANT = Payload("m", ID)
MERCHANT_PAGE = Payload("m", ID, DIRECTION, CURSOR)
PRODUCT = Payload("p", ID)
SEARCH = Payload("find")
SEARCH_PAGE = Payload("s", Field(r"[0-9]{1,6}", int))
ADD = Payload("a", ID, QUANTITY)
CHOOSE_QUANTITY = Payload("q", ID)
TYPE_QUANTITY = Payload("qs", ID)
CART = Payload("cart")
EMPTY_CART = Payload("cart", "clear")
CART_ITEM = Payload("ci", ID)
SET_QUANTITY = Payload("ci", ID, QUANTITY)
CHECKOUT = Payload("co")
CHECKOUT_EDIT = Payload("co", "edit")
CHECKOUT_CANCEL = Payload("co", "x")
CHECKOUT_USE = Payload("co", "use", one_of("name", "phone", "own", "address"))
CHECKOUT_DELIVERY = Payload("co", "d", one_of(DELIVERY, PICKUP))
CHECKOUT_PAYMENT = Payload("co", "pay", one_of(CASH, TRANSFER))
CHECKOUT_CONFIRM = Payload("co", "ok", Field("[0-9a-f]{16}"))
ORDERS = Payload("o")
ORDER = Payload("o", ID)
ORDER_CANCEL = Payload("ox", ID)
ORDER_CANCEL_YES = Payload("ox", ID, "y")
SHOP_ORDERS = Payload("mso")
SHOP_ORDER = Payload("mo", ID)
SHOP_ORDER_MOVE = Payload("mv", ID, one_of("confirm", "ready", "ship", "complete"))
SHOP_ORDER_REJECT = Payload("mr", ID)
SHOP_ORDER_REJECT_WITH = Payload("mr", ID, one_of(*REJECT_REASONS))
SHOP_PRODUCTS = Payload("sk", ID)
SHOP_PRODUCT = Payload("sp", ID)
SHOP_STOCK = Payload("ss", ID)
SHOP_PRICE = Payload("sr", ID)
SHOP_SHOWN = Payload(
    "sv", ID, Field("[01]", lambda text: text == "1", lambda shown: str(int(shown)))
)
# What staff review: name, description, photo.
SHOP_NAME = Payload("sn", ID)
SHOP_DESCRIPTION = Payload("sd", ID)
SHOP_PHOTO = Payload("sf", ID)
NEW_PRODUCT = Payload("np")
NEW_PRODUCT_CATEGORY = Payload("np", "c", ID)
NEW_PRODUCT_SKIP = Payload("np", "skip")
RATE = Payload("rt", ID, Field("[1-5]", int))
SUBSCRIBE = Payload("sub")
UNSUBSCRIBE = Payload("unsub")
SUBSCRIPTION_CATEGORIES = Payload("sub", "c")
# Category 0: every category.
SUBSCRIPTION_CATEGORY = Payload("sub", "c", ID)
BROADCAST = Payload("bc")
# The broadcast's button into its category: the category, and the broadcast whose funnel counts
# the press. Buttons sent before it carried only the category (`CATEGORY`), and still work.
BROADCAST_CATALOG = Payload("c", ID, "bc", ID)
BROADCAST_TEST = Payload("bc", FRIDAY, "test")
BROADCAST_SEND = Payload("bc", FRIDAY, "now")
BROADCAST_SEND_YES = Payload("bc", FRIDAY, "now!")
BROADCAST_TIME = Payload("bc", FRIDAY, "time")
BROADCAST_CANCEL = Payload("bc", FRIDAY, "x")
BROADCAST_CANCEL_YES = Payload("bc", FRIDAY, "x!")
BROADCAST_PAUSE = Payload("bc", FRIDAY, "pause")
BROADCAST_RESUME = Payload("bc", FRIDAY, "resume")
BROADCAST_PAID = Payload("bc", FRIDAY, "paid")
BROADCAST_PAID_YES = Payload("bc", FRIDAY, "paid!")
BROADCAST_FREE = Payload("bc", FRIDAY, "free")
# A shop imported with the person's phone: "yes, mine" or "not mine" (the claim's id); staff's
# approval or refusal when the shop already has someone else running it.
CLAIM_YES = Payload("cl", ID, "y")
CLAIM_NO = Payload("cl", ID, "n")
CLAIM_APPROVE = Payload("cl", ID, "ok")
CLAIM_REFUSE = Payload("cl", ID, "x")
# Staff's /jadwal as a file.
CALENDAR_FILE = Payload("cal", "file")
# Staff's /laporan: the menu, the Fridays up to one (1 or 4 of them) per kota, and one kota's
# kecamatan (the kota by its place in `handlers.results.kota_names`).
REPORT = Payload("rp")
FRIDAYS = Field("[0-9]", int)
REPORT_FRIDAYS = Payload("rp", FRIDAY, FRIDAYS)
REPORT_KOTA = Payload("rp", FRIDAY, FRIDAYS, Field("[0-9]", int))
# The best sellers and the products without a sale (a page of them, from 1) of the category
# featured on the Friday, over its last editions up to it.
REPORT_BEST = Payload("rp", FRIDAY, "top")
REPORT_UNSOLD = Payload("rp", FRIDAY, "nosale", Field("[0-9]{1,4}", int))
# A merchant's /pembayaran (payment details): start again, skip a step, save what was shown.
PAY_SETUP = Payload("pm")
PAY_SETUP_SKIP = Payload("pm", "skip")
PAY_SETUP_SAVE = Payload("pm", "ok")
# A transfer/QRIS order's payment: the buyer sends a proof, the merchant decides on it.
PAY_PROOF = Payload("bp", ID)
PAY_DECIDE = Payload("pd", ID, one_of("paid", "unpaid"))
# "Dekat saya": the entry (the remembered area's shops, or the choice of one), the kota to
# choose from, a kota's kecamatan, a kecamatan's kelurahan, and an area's shops (chosen: it is
# remembered; or a page of them after or before a merchant's id). Kota and kecamatan are their
# place in `models.areas.kota_list` and `kecamatan_list`, a kelurahan its place in its
# kecamatan's list or `a` for all of them; a place no list has is refused (`area_unknown`).
AREA = Field(r"[0-9]{1,3}", int)
KELURAHAN = Field(
    r"[0-9]{1,3}|a",
    lambda text: None if text == "a" else int(text),
    lambda place: "a" if place is None else str(place),
)
NEARBY = Payload("nb")
NEARBY_CHANGE = Payload("nb", "k")
NEARBY_KOTA = Payload("nb", "k", AREA)
NEARBY_KECAMATAN = Payload("nb", "d", AREA)
NEARBY_AREA = Payload("nb", "a", AREA, KELURAHAN)
NEARBY_PAGE = Payload("nb", "a", AREA, KELURAHAN, DIRECTION, ID)
# Staff's /kurasi: the queue's next card, and a decision on the product a card showed, with the
# time it was submitted then (a decision holds only while it waits from that time).
CURATE = Payload("cu")
CURATE_DECIDE = Payload("cu", ID, STAMP, one_of("ok", "fix", "no", "pin"))
# Linked accounts: the chat that gets the Friday broadcast once both were subscribed, and the
# confirmation of /lepas.
LINK_BROADCAST = Payload("lk", "bc", one_of("telegram", "whatsapp", "console"))
LINK_UNLINK_YES = Payload("lk", "x!")
