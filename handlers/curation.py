"""Staff's `/kurasi`: the products waiting for review, one card at a time, oldest first, and
what staff decide on each: list it, ask for changes, reject it, or list it as a curator's pick."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from handlers import payloads
from handlers.catalog import card_text
from handlers.formatting import local_time
from handlers.menu import menu_button, unknown_command
from handlers.messages import Button, Reply
from models.catalog import Product, Review
from models.curation import MAX_NOTE, NEEDS_NOTE, Decision, Shown, decide, next_in_queue
from models.people import is_staff

if TYPE_CHECKING:
    from handlers.context import Chat

COMMAND = "kurasi"
# A button's word for each decision (`payloads.CURATE_DECIDE`).
_DECISIONS = {
    "ok": Decision.APPROVE,
    "fix": Decision.CHANGES,
    "no": Decision.REJECT,
    "pin": Decision.PIN,
}
_WORDS = {decision: word for word, decision in _DECISIONS.items()}


async def queue(chat: Chat, said: str = "") -> list[Reply]:
    """`/kurasi`: the product waiting longest, with its photo and how many wait."""
    if not await is_staff(chat.session, chat.person.id):
        return await unknown_command(chat, COMMAND)
    chat.end_step()
    product, left = await next_in_queue(chat.session)
    if product is None:
        return [Reply(_joined(said, chat.t("cu_empty")), (menu_button(chat),))]
    lines = [chat.t("cu_card", left=left), "", card_text(chat, product)]
    lines.append(chat.t("cu_category", category=product.category.name(chat.language)))
    if product.review_requested_at is not None:
        when = local_time(product.review_requested_at, chat.config.timezone, chat.language)
        lines.append(chat.t("cu_requested", when=when))
    if product.review_note:
        lines.append(chat.t("cu_previous_note", note=product.review_note))
    stamp = product.review_requested_at
    buttons = [
        Button(chat.t(f"btn_cu_{decision.value}"), payloads.CURATE_DECIDE(product.id, stamp, word))
        for decision, word in _WORDS.items()
    ]
    buttons.append(menu_button(chat))
    return [
        Reply(_joined(said, "\n".join(lines)), tuple(buttons), photo_url=product.photo_url),
    ]


async def decided(chat: Chat, product_id: int, stamp: datetime | None, word: str) -> list[Reply]:
    """A decision button of a card; one that needs a note asks for it first."""
    if not await is_staff(chat.session, chat.person.id):
        return await unknown_command(chat, COMMAND)
    decision = _DECISIONS[word]
    if decision in NEEDS_NOTE:
        product = await chat.session.get(Product, product_id)
        if product is None or not _still_shown(product, stamp):
            return await queue(chat, chat.t("cu_taken"))
        chat.begin_step(
            "cu_note", cu_product=product.id, cu_stamp=payloads.STAMP.write(stamp), cu_word=word
        )
        back = Button(chat.t("btn_cu_queue"), payloads.CURATE())
        said = chat.t(f"cu_ask_{decision.value}", product=product.name)
        return [Reply(said, (back,))]
    return await _decide(chat, product_id, stamp, decision, None)


async def typed_note(chat: Chat, typed: str) -> list[Reply]:
    """The note of a request for changes, or the reason of a rejection."""
    if not await is_staff(chat.session, chat.person.id):
        chat.end_step()
        return await unknown_command(chat, COMMAND)
    data = chat.state.data
    note = typed.strip()
    if not 1 <= len(note) <= MAX_NOTE:
        back = Button(chat.t("btn_cu_queue"), payloads.CURATE())
        return [Reply(chat.t("cu_note_length", high=MAX_NOTE), (back,))]
    stamp = payloads.STAMP.read(str(data.get("cu_stamp", "0")))
    decision = _DECISIONS.get(str(data.get("cu_word")), Decision.REJECT)
    return await _decide(chat, int(data.get("cu_product", 0)), stamp, decision, note)


async def _decide(
    chat: Chat, product_id: int, stamp: datetime | None, decision: Decision, note: str | None
) -> list[Reply]:
    product = await decide(
        chat.session,
        product_id,
        decision,
        chat.now,
        actor=chat.incoming.identity,
        person_id=chat.person.id,
        note=note,
        shown=Shown(Review.WAITING, stamp),
    )
    if product is None:
        return await queue(chat, chat.t("cu_taken"))
    return await queue(chat, chat.t(f"cu_done_{decision.value}", product=product.name))


def _still_shown(product: Product, stamp: datetime | None) -> bool:
    return product.review_state == Review.WAITING and product.review_requested_at == stamp


def _joined(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)
