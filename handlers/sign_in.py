"""Staff's `/masuk`: a single-use link that signs them in to the web console."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.menu import menu_button, unknown_command
from handlers.messages import Reply
from models.people import is_staff
from models.staff import record
from models.web_sessions import LINK_VALID, create_link

if TYPE_CHECKING:
    from handlers.context import Chat

COMMAND = "masuk"


def sign_in_url(console_url: str, token: str) -> str:
    """The link's address: a page that asks to sign in, so a chat app's link preview that
    fetches it does not use it up."""
    return f"{console_url}/masuk/{token}"


async def link(chat: Chat) -> list[Reply]:
    if not await is_staff(chat.session, chat.person.id):
        return await unknown_command(chat, COMMAND)
    chat.end_step()
    console_url = chat.config.console_url
    if console_url is None:
        return [Reply(chat.t("web_no_address"), (menu_button(chat),))]
    identity = chat.incoming.identity
    token, _ = await create_link(chat.session, chat.person.id, identity, chat.now)
    await record(chat.session, identity, "web_link", chat.now, person_id=chat.person.id)
    minutes = int(LINK_VALID.total_seconds() // 60)
    url = sign_in_url(console_url, token)
    return [Reply(chat.t("web_link", url=url, minutes=minutes), (menu_button(chat),))]
