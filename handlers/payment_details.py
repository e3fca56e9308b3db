"""A merchant's `/pembayaran`: bank account, e-wallet and QRIS, one step at a time, shown back
before they are saved."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from handlers import payloads
from handlers.media import Refused, sent_media
from handlers.menu import menu_button
from handlers.messages import Button, Reply
from handlers.phones import display_phone, normalize_phone
from handlers.texts import text
from models.errors import Refusal
from models.media import PICTURES
from models.ordering import operated_merchants
from models.payments import MAX_QRIS, Details, details_of, set_details

if TYPE_CHECKING:
    from handlers.context import Chat

# Indonesian bank account numbers have 10 to 16 digits (BCA 10, Mandiri 13, BRI 15); a few
# banks' are shorter, and virtual accounts reach 16.
ACCOUNT_DIGITS = (8, 16)
BANK_LIMITS = (2, 40)
HOLDER_LIMITS = (2, 80)
# The e-wallets residents pay with, as their names are written.
EWALLETS = ("GoPay", "OVO", "DANA", "ShopeePay", "LinkAja")
# What the details being entered are kept as in the chat's step data.
FIELDS = (
    "pm_merchant",
    "pm_bank",
    "pm_account",
    "pm_holder",
    "pm_ewallet",
    "pm_ewallet_phone",
    "pm_qris",
)


def details_lines(language: str, details: Details) -> list[str]:
    """The details as a buyer or the merchant reads them, one way to pay a line."""
    lines = []
    if details.bank and details.account_number and details.account_holder:
        lines.append(
            text(
                language,
                "pay_line_bank",
                bank=details.bank,
                account=details.account_number,
                holder=details.account_holder,
            )
        )
    if details.ewallet and details.ewallet_phone:
        phone = display_phone(details.ewallet_phone)
        lines.append(text(language, "pay_line_ewallet", ewallet=details.ewallet, phone=phone))
    if details.qris_photo:
        lines.append(text(language, "pay_line_qris"))
    return lines


def _buttons(chat: Chat, *, skip: bool = True) -> tuple[Button, ...]:
    cancel = Button(chat.t("btn_cancel"), payloads.MENU())
    if not skip:
        return (cancel,)
    return (Button(chat.t("btn_skip"), payloads.PAY_SETUP_SKIP()), cancel)


async def start(chat: Chat) -> list[Reply]:
    """`/pembayaran`: what is set now, then the bank account first."""
    merchants = await operated_merchants(chat.session, chat.person.id)
    if not merchants:
        raise Refusal("not_an_operator")
    # The first shop the person runs, as `/produk` adds products to it.
    merchant_id = merchants[0]
    chat.state.data = {k: v for k, v in chat.state.data.items() if k not in FIELDS}
    chat.begin_step("pm_bank", pm_merchant=merchant_id)
    current = await details_of(chat.session, merchant_id)
    if current is None:
        said = chat.t("pay_setup_none")
    else:
        said = "\n".join([chat.t("pay_setup_current"), *details_lines(chat.language, current)])
    return [Reply(said), Reply(chat.t("pay_ask_bank"), _buttons(chat))]


def _words(typed: str, limits: tuple[int, int]) -> str | None:
    value = " ".join(typed.split())
    low, high = limits
    return value if low <= len(value) <= high and any(c.isalpha() for c in value) else None


async def typed_bank(chat: Chat, typed: str) -> list[Reply]:
    bank = _words(typed, BANK_LIMITS)
    if bank is None:
        low, high = BANK_LIMITS
        return [Reply(chat.t("pay_bank_invalid", low=low, high=high), _buttons(chat))]
    chat.begin_step("pm_account", pm_bank=bank)
    return [Reply(chat.t("pay_ask_account", bank=bank), _buttons(chat, skip=False))]


def account_number(typed: str) -> str | None:
    """`123 456 7890` or `123-456-7890` → `1234567890`: ASCII digits only, of a length banks
    use; else None."""
    digits = re.sub(r"[\s.-]", "", typed)
    low, high = ACCOUNT_DIGITS
    return digits if re.fullmatch(rf"[0-9]{{{low},{high}}}", digits) else None


async def typed_account(chat: Chat, typed: str) -> list[Reply]:
    number = account_number(typed)
    if number is None:
        low, high = ACCOUNT_DIGITS
        said = chat.t("pay_account_invalid", low=low, high=high)
        return [Reply(said, _buttons(chat, skip=False))]
    chat.begin_step("pm_holder", pm_account=number)
    return [Reply(chat.t("pay_ask_holder"), _buttons(chat, skip=False))]


async def typed_holder(chat: Chat, typed: str) -> list[Reply]:
    holder = _words(typed, HOLDER_LIMITS)
    if holder is None:
        low, high = HOLDER_LIMITS
        return [Reply(chat.t("pay_holder_invalid", low=low, high=high), _buttons(chat, skip=False))]
    chat.keep(pm_holder=holder)
    return _ask_ewallet(chat)


def _ask_ewallet(chat: Chat) -> list[Reply]:
    chat.begin_step("pm_ewallet")
    return [Reply(chat.t("pay_ask_ewallet", ewallets=", ".join(EWALLETS)), _buttons(chat))]


def ewallet_of(typed: str) -> tuple[str, str] | None:
    """`gopay 0812-3456-7890` → (`GoPay`, `+6281234567890`): a known e-wallet and an
    Indonesian mobile number; else None."""
    name, _, number = typed.strip().partition(" ")
    wallet = next((w for w in EWALLETS if w.lower() == name.lower()), None)
    phone = normalize_phone(number.strip())
    # E-wallets are tied to mobile numbers, which start with 8 after the country code.
    if wallet is None or phone is None or not phone.startswith("+628"):
        return None
    return wallet, phone


async def typed_ewallet(chat: Chat, typed: str) -> list[Reply]:
    wallet = ewallet_of(typed)
    if wallet is None:
        said = chat.t("pay_ewallet_invalid", ewallets=", ".join(EWALLETS))
        return [Reply(said, _buttons(chat))]
    chat.keep(pm_ewallet=wallet[0], pm_ewallet_phone=wallet[1])
    return _ask_qris(chat)


def _ask_qris(chat: Chat) -> list[Reply]:
    chat.begin_step("pm_qris")
    return [Reply(chat.t("pay_ask_qris"), _buttons(chat))]


async def typed_qris(chat: Chat, typed: str) -> list[Reply]:
    """A photo sent in the chat, kept by jbl as product photos are."""
    try:
        photo = await sent_media(chat, PICTURES)
    except Refused as refused:
        # No https:// address here: a QRIS image is shown to buyers as sent.
        key = "pay_qris_not_a_photo" if refused.key == "media_not_picture" else refused.key
        return [Reply(chat.t(key), _buttons(chat))]
    if photo is None or len(photo) > MAX_QRIS:
        return [Reply(chat.t("pay_qris_not_a_photo"), _buttons(chat))]
    chat.keep(pm_qris=photo)
    return _summary(chat)


async def skipped(chat: Chat) -> list[Reply]:
    step = chat.state.step
    if step == "pm_bank":
        return _ask_ewallet(chat)
    if step == "pm_ewallet":
        return _ask_qris(chat)
    if step == "pm_qris":
        return _summary(chat)
    raise Refusal("stale_button")


def _entered(chat: Chat) -> Details:
    data = chat.state.data
    return Details(
        data.get("pm_bank"),
        data.get("pm_account"),
        data.get("pm_holder"),
        data.get("pm_ewallet"),
        data.get("pm_ewallet_phone"),
        data.get("pm_qris"),
    )


def _summary(chat: Chat) -> list[Reply]:
    details = _entered(chat)
    if not details.usable:
        chat.begin_step("pm_bank")
        return [
            Reply(chat.t("payment_details_empty")),
            Reply(chat.t("pay_ask_bank"), _buttons(chat)),
        ]
    chat.begin_step("pm_confirm")
    said = "\n".join([chat.t("pay_setup_check"), *details_lines(chat.language, details)])
    buttons = (
        Button(chat.t("btn_pay_save"), payloads.PAY_SETUP_SAVE()),
        Button(chat.t("btn_pay_again"), payloads.PAY_SETUP()),
        Button(chat.t("btn_cancel"), payloads.MENU()),
    )
    return [Reply(said, buttons, photo_url=details.qris_photo)]


async def save(chat: Chat) -> list[Reply]:
    """Saves what the summary showed; a stale or forged press saves nothing."""
    if chat.state.step != "pm_confirm":
        raise Refusal("stale_button")
    merchant_id = int(chat.state.data.get("pm_merchant", 0))
    await set_details(chat.session, chat.person.id, merchant_id, _entered(chat), chat.now)
    chat.end_step()
    chat.state.data = {k: v for k, v in chat.state.data.items() if k not in FIELDS}
    return [Reply(chat.t("pay_setup_saved"), (menu_button(chat),))]
