"""Every button payload is built and read from one definition, and every kind has a route."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import payloads
from handlers.payloads import Payload
from handlers.routes import PAYLOADS, route_payload
from models.catalog import RankKey

KINDS = [kind for kind in vars(payloads).values() if isinstance(kind, Payload)]


def test_every_kind_of_payload_has_one_route() -> None:
    routed = [route.payload for route in PAYLOADS]
    assert len(routed) == len(set(routed))
    assert set(routed) == set(KINDS)


@settings(max_examples=500)
@given(st.data())
def test_a_payload_built_from_what_a_kind_reads_is_read_back_by_that_kind(
    data: st.DataObject,
) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    values = kind.read(data.draw(st.from_regex(kind.pattern, fullmatch=True)))
    assert values is not None
    if None in values:
        return  # Text of the field's shape that is no value (a forged date): nothing to build.
    built = kind(*values)
    assert kind.read(built) == values, built
    # No route before it takes the payload for another kind.
    first = next(route.payload for route in PAYLOADS if route.payload.read(built) is not None)
    assert first is kind, (built, first)
    assert route_payload(built) is not None


def test_the_formats_of_stored_buttons_stay_as_they_were() -> None:
    # Menus in the database and outbox rows hold these strings; old buttons keep working.
    friday = date(2026, 11, 27)
    assert payloads.MENU() == "menu"
    assert payloads.LANGUAGE("en") == "lang:en"
    assert payloads.CATEGORY_PAGE(3, "n", RankKey(True, 12, 45)) == "c:3:n:1:12:45"
    assert payloads.MERCHANT_PAGE(7, "p", RankKey(False, 0, 9)) == "m:7:p:0:0:9"
    # A demoted product's cursor is marked; one without the mark was never demoted.
    assert payloads.CATEGORY_PAGE(3, "n", RankKey(False, 0, 9, True)) == "c:3:n:0:0:9:d"
    assert payloads.CATEGORY_PAGE.read("c:3:n:0:0:9:d") == (3, "n", RankKey(False, 0, 9, True))
    assert payloads.CATEGORY_PAGE.read("c:3:n:1:12:45") == (3, "n", RankKey(True, 12, 45, False))
    assert payloads.CATEGORY_PAGE.read("c:3:n:1:12:45:x") is None
    # A product of the resident's kecamatan on a page that put it first (`local_first`).
    local = RankKey(False, 0, 9, False, True)
    assert payloads.CATEGORY_PAGE(3, "n", local) == "c:3:n:0:0:9:l"
    assert payloads.CATEGORY_PAGE.read("c:3:n:0:0:9:d:l") == (
        3,
        "n",
        RankKey(False, 0, 9, True, True),
    )
    assert payloads.NEARBY_AREA(3, None) == "nb:a:3:a"
    assert payloads.NEARBY_PAGE(3, 1, "n", 12) == "nb:a:3:1:n:12"
    assert payloads.ADD(42, 1) == "a:42:1"
    assert payloads.TYPE_QUANTITY(42) == "qs:42"
    assert payloads.EMPTY_CART() == "cart:clear"
    assert payloads.SET_QUANTITY(42, 0) == "ci:42:0"
    assert payloads.CHECKOUT_USE("own") == "co:use:own"
    assert payloads.CHECKOUT_DELIVERY("pickup") == "co:d:pickup"
    assert payloads.CHECKOUT_PAYMENT("transfer") == "co:pay:transfer"
    assert payloads.CHECKOUT_CONFIRM("0123456789abcdef") == "co:ok:0123456789abcdef"
    assert payloads.ORDER_CANCEL_YES(5) == "ox:5:y"
    assert payloads.SHOP_ORDERS() == "mso"
    assert payloads.SHOP_ORDER_MOVE(5, "ship") == "mv:5:ship"
    assert payloads.SHOP_ORDER_REJECT_WITH(5, "area") == "mr:5:area"
    assert payloads.SHOP_SHOWN(8, False) == "sv:8:0"
    assert payloads.SHOP_SHOWN(8, True) == "sv:8:1"
    assert payloads.NEW_PRODUCT_CATEGORY(2) == "np:c:2"
    assert payloads.RATE(5, 4) == "rt:5:4"
    assert payloads.SUBSCRIPTION_CATEGORY(0) == "sub:c:0"
    assert payloads.BROADCAST_SEND_YES(friday) == "bc:20261127:now!"
    assert payloads.BROADCAST_CANCEL_YES(friday) == "bc:20261127:x!"
    assert payloads.BROADCAST_RESUME(friday) == "bc:20261127:resume"
    assert payloads.BROADCAST_CATALOG(3, 12) == "c:3:bc:12"
    assert payloads.CLAIM_YES(4) == "cl:4:y"
    assert payloads.CLAIM_NO(4) == "cl:4:n"
    assert payloads.CLAIM_APPROVE(4) == "cl:4:ok"
    assert payloads.CLAIM_REFUSE(4) == "cl:4:x"
    assert payloads.LINK_BROADCAST("whatsapp") == "lk:bc:whatsapp"
    assert payloads.LINK_UNLINK_YES() == "lk:x!"
    assert payloads.PAY_SETUP_SKIP() == "pm:skip"
    assert payloads.PAY_SETUP_SAVE() == "pm:ok"
    assert payloads.PAY_PROOF(5) == "bp:5"
    assert payloads.PAY_DECIDE(5, "paid") == "pd:5:paid"
    assert payloads.PAY_DECIDE(5, "unpaid") == "pd:5:unpaid"


def test_an_id_of_thirteen_digits_routes_nowhere() -> None:
    assert route_payload(f"o:{10**12 - 1}") is not None
    assert route_payload(f"o:{10**12}") is None
