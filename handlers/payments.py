"""A transfer/QRIS order's payment in chat: the buyer sends a proof, the merchant's operators
say ✅ Lunas or ❌ Belum masuk with a note."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import payloads
from handlers.media import Refused, sent_media
from handlers.menu import menu_button
from handlers.merchant import order_actions
from handlers.messages import Button, Reply
from handlers.money import format_rupiah
from models.errors import Refusal
from models.media import PROOFS
from models.ordering import MAX_PROOF, PROOF_SENT
from models.paying import (
    mark_not_received,
    mark_paid,
    order_to_pay,
    payment_to_check,
    send_proof,
)

if TYPE_CHECKING:
    from handlers.context import Chat

NOTE_LIMITS = (3, 200)


async def ask_proof(chat: Chat, order_id: int) -> list[Reply]:
    """The buyer's button under the payment details: waits for a photo of the proof."""
    order = await order_to_pay(chat.session, chat.person, order_id)
    chat.begin_step("pay_proof", order=order.id)
    cancel = Button(chat.t("btn_cancel"), payloads.ORDER(order.id))
    said = chat.t("pay_ask_proof", order=order.id, total=format_rupiah(order.total))
    return [Reply(said, (cancel,))]


async def typed_proof(chat: Chat, typed: str) -> list[Reply]:
    """A photo (or a PDF, where the channel takes documents) sent in the chat, kept by jbl."""
    order_id = int(chat.state.data.get("order", 0))
    cancel = Button(chat.t("btn_cancel"), payloads.ORDER(order_id))
    try:
        photo = await sent_media(chat, PROOFS)
    except Refused as refused:
        key = "media_not_proof" if refused.key == "media_not_picture" else refused.key
        return [Reply(chat.t(key), (cancel,))]
    if photo is None or len(photo) > MAX_PROOF:
        return [Reply(chat.t("pay_proof_not_a_photo"), (cancel,))]
    chat.end_step()
    order = await send_proof(chat.session, chat.person, order_id, photo, chat.now)
    buttons = (Button(chat.t("btn_order", order=order.id), payloads.ORDER(order.id)),)
    return [Reply(chat.t("pay_proof_sent", order=order.id), (*buttons, menu_button(chat)))]


async def decide(chat: Chat, order_id: int, decision: str) -> list[Reply]:
    """✅ Lunas at once; ❌ Belum masuk asks for a note for the buyer first."""
    chat.end_step()
    if decision == "paid":
        order = await mark_paid(chat.session, chat.person, order_id, chat.now)
        buttons = order_actions(chat.language, order)
        back = Button(chat.t("btn_shop_orders"), payloads.SHOP_ORDERS())
        return [Reply(chat.t("pay_marked_paid", order=order.id), (*buttons, back))]
    order = await payment_to_check(chat.session, chat.person, order_id)
    if order.payment_state != PROOF_SENT:
        raise Refusal("payment_no_proof", order=order.id)
    chat.begin_step("pay_note", order=order.id)
    cancel = Button(chat.t("btn_cancel"), payloads.SHOP_ORDER(order.id))
    return [Reply(chat.t("pay_ask_note", order=order.id), (cancel,))]


async def typed_note(chat: Chat, typed: str) -> list[Reply]:
    order_id = int(chat.state.data.get("order", 0))
    note = " ".join(typed.split())
    low, high = NOTE_LIMITS
    if not low <= len(note) <= high:
        cancel = Button(chat.t("btn_cancel"), payloads.SHOP_ORDER(order_id))
        return [Reply(chat.t("reason_length", low=low, high=high), (cancel,))]
    chat.end_step()
    order = await mark_not_received(chat.session, chat.person, order_id, note, chat.now)
    back = Button(chat.t("btn_shop_orders"), payloads.SHOP_ORDERS())
    return [Reply(chat.t("pay_marked_not_received", order=order.id), (back, menu_button(chat)))]
