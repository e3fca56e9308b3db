"""One account on several channels: `/tautkan` (a code, or the code from the other channel),
the chat for the Friday broadcast once linked, and `/lepas` (decision record 0034)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from handlers import payloads
from handlers.menu import main_menu_buttons, menu_button
from handlers.messages import Button, Reply
from models.errors import Refusal
from models.links import (
    CODE_VALID,
    Outcome,
    broadcast_on,
    channel_of,
    identities_of,
    linked_identities,
    new_code,
    unlink,
    use_code,
)

if TYPE_CHECKING:
    from handlers.context import Chat

# A code as typed: six digits, perhaps with a space or dash in the middle as people copy it.
LINK_CODE = re.compile(r"([0-9]{3})[ -]?([0-9]{3})")


def _channels(chat: Chat, identities: list[str]) -> str:
    names = dict.fromkeys(chat.t(f"channel_{channel_of(i)}") for i in identities)
    return ", ".join(names)


async def command(chat: Chat, args: str) -> list[Reply]:
    """`/tautkan`: a new code; `/tautkan 123456`: the code from the other channel."""
    chat.end_step()
    if args:
        typed = LINK_CODE.fullmatch(args.strip())
        if typed is None:
            return [Reply(chat.t("link_code_format"), (menu_button(chat),))]
        return await typed_code(chat, typed[1] + typed[2])
    code = await new_code(chat.session, chat.person.id, chat.incoming.identity, chat.now)
    minutes = int(CODE_VALID.total_seconds() // 60)
    return [Reply(chat.t("link_code", code=code, minutes=minutes), (menu_button(chat),))]


async def typed_code(chat: Chat, code: str) -> list[Reply]:
    """The code typed as a message, or after `/tautkan`."""
    linked = await use_code(chat.session, chat.person, chat.incoming.identity, code, chat.now)
    if linked.outcome is not Outcome.LINKED:
        return [Reply(chat.t(f"link_{linked.outcome.value}"), main_menu_buttons(chat))]
    assert linked.person is not None
    # From here the chat is the person it joined.
    chat.person = linked.person
    channels = _channels(chat, await identities_of(chat.session, linked.person.id))
    done = chat.t("link_done", channels=channels)
    if not linked.choose_broadcast:
        return [Reply(done, main_menu_buttons(chat))]
    # Both were subscribed: one broadcast a Friday, to the chat they choose.
    buttons = tuple(
        Button(chat.t(f"channel_{channel}"), payloads.LINK_BROADCAST(channel))
        for channel in linked.choose_broadcast
    )
    return [Reply(done), Reply(chat.t("link_choose_broadcast"), buttons)]


async def broadcast_channel(chat: Chat, channel: str) -> list[Reply]:
    """The Friday broadcast goes to the person's chat on `channel`."""
    identity = await broadcast_on(chat.session, chat.person.id, channel)
    if identity is None:
        raise Refusal("link_no_chat_there")
    said = chat.t("link_broadcast_set", channel=chat.t(f"channel_{channel}"))
    return [Reply(said, main_menu_buttons(chat))]


async def ask_unlink(chat: Chat) -> list[Reply]:
    """`/lepas`: what unlinking does, and a button to do it."""
    chat.end_step()
    linked = await linked_identities(chat.session, chat.person.id)
    if not linked:
        return [Reply(chat.t("link_none"), main_menu_buttons(chat))]
    buttons = (Button(chat.t("btn_unlink_yes"), payloads.LINK_UNLINK_YES()), menu_button(chat))
    return [Reply(chat.t("unlink_ask", channels=_channels(chat, linked)), buttons)]


async def unlink_yes(chat: Chat) -> list[Reply]:
    parted = await unlink(chat.session, chat.person)
    if not parted:
        return [Reply(chat.t("link_none"), main_menu_buttons(chat))]
    return [Reply(chat.t("unlinked", channels=_channels(chat, parted)), main_menu_buttons(chat))]
