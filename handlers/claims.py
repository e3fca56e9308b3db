"""Merchants take over their imported shop by the phone in the import, with no invite code.

The phone must be one the platform vouches for as the person's own (`Incoming.sender_phone`):
on WhatsApp the number they write from, on Telegram a contact they shared of their own
account. They confirm the shop's name first. A shop someone else runs already goes to staff,
who approve or refuse (`approve`, `refuse`, and `jbl merchant approve-claim`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import menu, payloads
from handlers.messages import Button, Reply
from handlers.phones import display_phone, normalize_phone
from handlers.texts import text
from models import claims
from models.claims import ClaimView, Offer, ShopClaim
from models.people import is_staff

if TYPE_CHECKING:
    from handlers.context import Chat
    from models.catalog import Merchant

# Where a claim that waits for the person's contact keeps the shop its link named.
_LINKED_SHOP = "claim_shop"


def _verified_phone(chat: Chat) -> str | None:
    """The person's own number as the platform vouches for it, +62…, if it does."""
    sender = chat.incoming.sender_phone
    return normalize_phone(sender) if sender else None


async def greet(chat: Chat) -> list[Reply]:
    """A chat's first message, and /start: the greeting, or, for someone whose number a shop
    was imported with, the question whether it is theirs (asked once: a "no" is kept)."""
    phone = _verified_phone(chat)
    if phone is not None:
        found = await claims.offer(chat.session, chat.person.id, phone, chat.now, again=False)
        if found.asked:
            return [_question(chat, found.asked, greeting=True)]
    return await menu.start(chat)


async def for_non_operator(chat: Chat) -> list[Reply]:
    """/toko from someone who runs no shop: the shop their number was imported with, or how
    to claim it, or an invite."""
    phone = _verified_phone(chat)
    if phone is None:
        said = f"{chat.t('not_an_operator')}\n\n{chat.t('claim_hint')}"
        return [Reply(said, (menu.menu_button(chat),), ask_phone=chat.t("btn_share_phone"))]
    found = await claims.offer(chat.session, chat.person.id, phone, chat.now, again=True)
    if found.empty:
        return [Reply(chat.t("not_an_operator"), (menu.menu_button(chat),))]
    return _offered(chat, found, phone)


async def start(chat: Chat, merchant_id: int | None = None) -> list[Reply]:
    """/klaim, and the links staff announce (`jbl links merchant --claim`): the shops the
    person's number was imported with (only `merchant_id`, when the link names one), or the
    request to share their number where the platform does not tell it."""
    chat.end_step()
    phone = _verified_phone(chat)
    if phone is None:
        chat.keep(**{_LINKED_SHOP: merchant_id})
        share = chat.t("btn_share_phone")
        return [Reply(chat.t("claim_share_contact"), (menu.menu_button(chat),), ask_phone=share)]
    return await _offer(chat, phone, merchant_id)


async def shared_contact(chat: Chat) -> list[Reply]:
    """A contact shared outside checkout: the person's own number claims their shop; anyone
    else's (or one the platform cannot tie to them) is refused and changes nothing."""
    chat.end_step()
    if chat.incoming.sender_phone is None:
        share = chat.t("btn_share_phone")
        return [Reply(chat.t("claim_foreign_contact"), (menu.menu_button(chat),), ask_phone=share)]
    phone = _verified_phone(chat)
    if phone is None:
        said = chat.t("claim_no_shop", phone=chat.incoming.sender_phone)
        return [Reply(said, (menu.menu_button(chat),))]
    linked = chat.state.data.get(_LINKED_SHOP)
    return await _offer(chat, phone, linked if isinstance(linked, int) else None)


async def _offer(chat: Chat, phone: str, merchant_id: int | None) -> list[Reply]:
    found = await claims.offer(
        chat.session, chat.person.id, phone, chat.now, again=True, merchant_id=merchant_id
    )
    return _offered(chat, found, phone)


def _offered(chat: Chat, found: Offer, phone: str) -> list[Reply]:
    back = (menu.menu_button(chat),)
    if found.asked:
        return [_question(chat, found.asked)]
    if found.waiting:
        return [Reply(chat.t("claim_waiting", merchant=_names(found.waiting)), back)]
    if found.running:
        return [Reply(chat.t("claim_already", merchant=_names(found.running)), _shop_buttons(chat))]
    if found.closed:
        return [Reply(chat.t("claim_closed", merchant=_names(found.closed)), back)]
    return [Reply(chat.t("claim_no_shop", phone=display_phone(phone)), back)]


def _names(merchants: list[Merchant]) -> str:
    return ", ".join(merchant.name for merchant in merchants)


def _question(
    chat: Chat, asked: list[tuple[ShopClaim, Merchant]], *, greeting: bool = False
) -> Reply:
    """ "Are you the owner of this shop?" about the first shop; the others come in turn."""
    claim, merchant = asked[0]
    lines = [chat.t("claim_hello")] if greeting else []
    lines.append(chat.t("claim_ask", merchant=merchant.name, area=merchant.area or "-"))
    if len(asked) > 1:
        lines.append(chat.t("claim_ask_more", count=len(asked) - 1))
    buttons = (
        Button(chat.t("btn_claim_yes"), payloads.CLAIM_YES(claim.id)),
        Button(chat.t("btn_claim_no"), payloads.CLAIM_NO(claim.id)),
    )
    return Reply("\n\n".join(lines), buttons)


def _shop_buttons(chat: Chat) -> tuple[Button, ...]:
    return (Button(chat.t("btn_shop_orders"), payloads.SHOP_ORDERS()), menu.menu_button(chat))


async def yes(chat: Chat, claim_id: int) -> list[Reply]:
    """ "Yes, my shop": they run it now, or staff decide when someone else runs it."""
    chat.end_step()
    claim, merchant = await claims.confirm(chat.session, chat.person.id, claim_id, chat.now)
    if claim.status == claims.CLAIMED:
        said, buttons = chat.t("claim_done", merchant=merchant.name), _shop_buttons(chat)
    else:
        said = chat.t("claim_sent_to_staff", merchant=merchant.name)
        buttons = (menu.menu_button(chat),)
    return await _then_next(chat, said, buttons)


async def no(chat: Chat, claim_id: int) -> list[Reply]:
    """ "Not my shop": nothing changes, and the question is not asked again."""
    chat.end_step()
    _, merchant = await claims.decline(chat.session, chat.person.id, claim_id, chat.now)
    said = chat.t("claim_declined", merchant=merchant.name)
    return await _then_next(chat, said, menu.main_menu_buttons(chat))


async def _then_next(chat: Chat, said: str, buttons: tuple[Button, ...]) -> list[Reply]:
    """The answer, then the next shop to ask about, if any (its buttons are the menu then)."""
    left = await claims.still_offered(chat.session, chat.person.id)
    if not left:
        return [Reply(said, buttons)]
    return [Reply(said), _question(chat, left)]


# ---- staff -------------------------------------------------------------------------------


async def approve(chat: Chat, claim_id: int) -> list[Reply]:
    return await _decide(chat, claim_id, approve=True)


async def refuse(chat: Chat, claim_id: int) -> list[Reply]:
    return await _decide(chat, claim_id, approve=False)


async def waiting(chat: Chat) -> list[Reply]:
    """/persetujuan, staff only: the oldest claim waiting for a decision, and how many wait."""
    if not await is_staff(chat.session, chat.person.id):
        return await menu.unknown_command(chat, "persetujuan")
    chat.end_step()
    return [
        await _next_pending(chat) or Reply(chat.t("claim_queue_empty"), (menu.menu_button(chat),))
    ]


async def _next_pending(chat: Chat) -> Reply | None:
    first = await claims.pending_claims(chat.session, limit=1)
    if not first:
        return None
    card = _card(chat.language, first[0])
    left = chat.t("claim_queue_left", count=await claims.count_pending(chat.session))
    return Reply(f"{card.text}\n\n{left}", (*card.buttons, menu.menu_button(chat)))


async def _decide(chat: Chat, claim_id: int, *, approve: bool) -> list[Reply]:
    """Staff's decision on a claim of a shop someone else runs, then the next one waiting;
    anyone else's press is stale."""
    if not await is_staff(chat.session, chat.person.id):
        return await menu.stale_button(chat)
    chat.end_step()
    view = await claims.decide(
        chat.session,
        claim_id,
        approve,
        chat.now,
        actor=chat.incoming.identity,
        staff_id=chat.person.id,
    )
    key = "claim_approved" if approve else "claim_refused"
    said = chat.t(key, claim=view.id, claimant=_claimant(view), merchant=view.merchant)
    following = await _next_pending(chat)
    if following is None:
        return [Reply(said, (menu.menu_button(chat),))]
    return [Reply(said), following]


def _claimant(view: ClaimView) -> str:
    phone = display_phone(view.phone)
    return f"{view.claimant} ({phone})" if view.claimant else phone


def _card(language: str, view: ClaimView) -> Reply:
    """A claim waiting for staff, with their two choices."""
    said = text(
        language,
        "notice_claim_pending",
        claim=view.id,
        claimant=_claimant(view),
        merchant=view.merchant,
        area=view.area or "-",
        operators=", ".join(view.operators),
    )
    buttons = (
        Button(text(language, "btn_claim_approve"), payloads.CLAIM_APPROVE(view.id)),
        Button(text(language, "btn_claim_refuse"), payloads.CLAIM_REFUSE(view.id)),
    )
    return Reply(said, buttons)


def claim_notice(language: str, kind: str, view: ClaimView) -> Reply:
    """An outbox row about a claim, in the reader's language: to staff, a claim to decide
    (buttons that still work once someone else decided: they say so); to the claimant, the
    outcome."""
    if kind == claims.CLAIM_PENDING:
        card = _card(language, view)
        return Reply(f"{card.text}\n{text(language, 'claim_queue_hint')}", card.buttons)
    said = text(language, f"notice_{kind}", merchant=view.merchant)
    if kind == claims.CLAIM_APPROVED:
        return Reply(said, (Button(text(language, "btn_shop_orders"), payloads.SHOP_ORDERS()),))
    return Reply(said)
