""" "📍 Dekat saya": shops by neighbourhood, kota → kecamatan → kelurahan → the shops there →
a shop's catalog, and the resident's area, remembered once chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import payloads
from handlers.formatting import MAX_LABEL, shorten
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from models.areas import (
    kecamatan_by_kota,
    kecamatan_list,
    kelurahan_by_kecamatan,
    kelurahan_in,
    kota_list,
    kota_of,
)
from models.errors import Refusal
from models.nearby import Shop, shops_in_area

if TYPE_CHECKING:
    from handlers.context import Chat
    from models.people import Person


async def nearby(chat: Chat) -> list[Reply]:
    """The shops of the remembered area, or, the first time, the choice of one."""
    chat.end_step()
    remembered = _remembered(chat.person)
    if remembered is None:
        return await choose_kota(chat)
    kecamatan, kelurahan = remembered
    return await _shops(chat, kecamatan, kelurahan, None, None)


async def choose_kota(chat: Chat) -> list[Reply]:
    """The kota to choose from: the first step of choosing (or changing) the area."""
    chat.end_step()
    buttons = [Button(kota, payloads.NEARBY_KOTA(i)) for i, kota in enumerate(kota_list())]
    buttons.append(menu_button(chat))
    return [Reply(chat.t("nearby_choose_kota"), tuple(buttons))]


async def kota(chat: Chat, place: int) -> list[Reply]:
    """A kota's kecamatan."""
    chat.end_step()
    name = _at(kota_list(), place)
    places = {kecamatan: i for i, kecamatan in enumerate(kecamatan_list())}
    buttons = [
        Button(kecamatan, payloads.NEARBY_KECAMATAN(places[kecamatan]))
        for kecamatan in kecamatan_by_kota()[name]
    ]
    buttons += [Button(chat.t("btn_other_kota"), payloads.NEARBY_CHANGE()), menu_button(chat)]
    return [Reply(chat.t("nearby_choose_kecamatan", kota=name), tuple(buttons))]


async def kecamatan(chat: Chat, place: int) -> list[Reply]:
    """A kecamatan's kelurahan, and all of them at once."""
    chat.end_step()
    name = _at(kecamatan_list(), place)
    buttons = [Button(chat.t("btn_all_kelurahan"), payloads.NEARBY_AREA(place, None))]
    buttons += [
        Button(kelurahan, payloads.NEARBY_AREA(place, i))
        for i, kelurahan in enumerate(kelurahan_by_kecamatan().get(name, ()))
    ]
    back = payloads.NEARBY_KOTA(kota_list().index(kota_of(name)))
    buttons += [Button(chat.t("btn_back"), back), menu_button(chat)]
    return [Reply(chat.t("nearby_choose_kelurahan", kecamatan=name), tuple(buttons))]


async def choose_area(chat: Chat, place: int, kelurahan_place: int | None) -> list[Reply]:
    """Remembers the chosen area as the resident's own, and shows its shops."""
    kecamatan, kelurahan = _area(place, kelurahan_place)
    chat.person.area_kecamatan, chat.person.area_kelurahan = kecamatan, kelurahan
    saved = chat.t("nearby_area_saved", area=area_text(chat, kecamatan, kelurahan))
    return await _shops(chat, kecamatan, kelurahan, None, None, note=saved)


async def area_page(
    chat: Chat, place: int, kelurahan_place: int | None, direction: str, merchant_id: int
) -> list[Reply]:
    """A page of an area's shops, after or before the shop with `merchant_id`."""
    kecamatan, kelurahan = _area(place, kelurahan_place)
    return await _shops(chat, kecamatan, kelurahan, direction, merchant_id)


def remember_from_address(person: Person, address: str) -> tuple[str, str] | None:
    """Takes the resident's area from a delivery address they gave, when they have none yet
    and the address names one kelurahan of Jakarta; the `(kecamatan, kelurahan)` taken."""
    if _remembered(person) is not None:
        return None
    found = kelurahan_in(address)
    if found is not None:
        person.area_kecamatan, person.area_kelurahan = found
    return found


def area_text(chat: Chat, kecamatan: str, kelurahan: str | None) -> str:
    """`Kwitang, Senen, Jakarta Pusat`, or `Kecamatan Senen, Jakarta Pusat` for all of it."""
    if kelurahan is None:
        return chat.t("area_whole_kecamatan", kecamatan=kecamatan, kota=kota_of(kecamatan))
    return f"{kelurahan}, {kecamatan}, {kota_of(kecamatan)}"


def _remembered(person: Person) -> tuple[str, str | None] | None:
    """The person's area, while the reference list still has it."""
    kecamatan, kelurahan = person.area_kecamatan, person.area_kelurahan
    if kecamatan not in kecamatan_list():
        return None
    if kelurahan is not None and kelurahan not in kelurahan_by_kecamatan().get(kecamatan, ()):
        return kecamatan, None
    return kecamatan, kelurahan


def _at(names: tuple[str, ...], place: int) -> str:
    """The name at a place a button gave; a forged place is refused and changes nothing."""
    if not 0 <= place < len(names):
        raise Refusal("area_unknown")
    return names[place]


def _area(place: int, kelurahan_place: int | None) -> tuple[str, str | None]:
    kecamatan = _at(kecamatan_list(), place)
    if kelurahan_place is None:
        return kecamatan, None
    return kecamatan, _at(kelurahan_by_kecamatan().get(kecamatan, ()), kelurahan_place)


async def _shops(
    chat: Chat,
    kecamatan: str,
    kelurahan: str | None,
    direction: str | None,
    merchant_id: int | None,
    note: str | None = None,
) -> list[Reply]:
    """A page of an area's shops, under `note` when one is given."""
    chat.end_step()
    page = await shops_in_area(
        chat.session,
        kecamatan,
        kelurahan,
        after=merchant_id if direction == "n" else None,
        before=merchant_id if direction == "p" else None,
        size=chat.config.page_size,
    )
    area = area_text(chat, kecamatan, kelurahan)
    place = kecamatan_list().index(kecamatan)
    kelurahan_place = (
        None if kelurahan is None else kelurahan_by_kecamatan()[kecamatan].index(kelurahan)
    )
    change = Button(chat.t("btn_change_area"), payloads.NEARBY_CHANGE())
    if not page.shops:
        buttons: tuple[Button, ...] = (change, menu_button(chat))
        if kelurahan is not None:
            whole = Button(chat.t("btn_all_kelurahan"), payloads.NEARBY_AREA(place, None))
            buttons = (whole, *buttons)
        return [Reply(_noted(note, chat.t("nearby_empty", area=area)), buttons)]
    # A shop's page opened from here leads back to this very list.
    here = (
        payloads.NEARBY_PAGE(place, kelurahan_place, direction, merchant_id)
        if direction and merchant_id
        else payloads.NEARBY_AREA(place, kelurahan_place)
    )
    chat.keep(area_shops=here)
    shown = [Button(_label(chat, shop), payloads.MERCHANT(shop.id)) for shop in page.shops]
    if page.has_previous:
        cursor = page.shops[0].id
        shown.append(
            Button(
                chat.t("btn_previous"),
                payloads.NEARBY_PAGE(place, kelurahan_place, "p", cursor),
            )
        )
    if page.has_next:
        cursor = page.shops[-1].id
        shown.append(
            Button(chat.t("btn_next"), payloads.NEARBY_PAGE(place, kelurahan_place, "n", cursor))
        )
    shown += [change, menu_button(chat)]
    return [Reply(_noted(note, chat.t("nearby_shops", area=area)), tuple(shown))]


def _noted(note: str | None, text: str) -> str:
    return text if note is None else f"{note}\n\n{text}"


def _label(chat: Chat, shop: Shop) -> str:
    """`Kue Basah Ibu Ratna · 4 produk · ⭐4,5`: the name cut to leave the figures whole."""
    figures = chat.t("nearby_shop_products", count=shop.listed)
    if shop.rating_count:
        average = f"{shop.rating_sum / shop.rating_count:.1f}"
        figures += " · ⭐" + (average.replace(".", ",") if chat.language == "id" else average)
    return f"{shorten(shop.name, MAX_LABEL - len(figures) - 3)} · {figures}"
