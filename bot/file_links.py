"""Files that replies carry, and photos and proofs sent in chat, served over HTTP under
unguessable links that expire, for a platform that fetches media from a URL (WhatsApp, through
Twilio)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.attachments import MEDIA_PATH, open_attachment, open_linked_media
from handlers.messages import Attachment

if TYPE_CHECKING:
    from starlette.requests import Request

    from handlers.dispatch import Conversation

# What `models.files.new_token` makes, and the URL-safe tokens of links sent before it made
# hex; anything else is not looked up.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
# Shown in the chat rather than offered as a download.
_INLINE = frozenset({"image/png", "image/jpeg", "image/webp"})


def file_url(public_url: str, attachment: Attachment) -> str:
    return f"{public_url.rstrip('/')}{MEDIA_PATH}/{attachment.token}"


def files_route(conversation: Conversation) -> Route:
    """`GET /media/<token>`: the file's bytes while its link lasts; 404 alike for a token
    that never was, one that expired and one that is malformed, so nothing is learnt."""

    async def serve(request: Request) -> Response:
        token = request.path_params["token"]
        file = None
        if _TOKEN.fullmatch(token):
            # A generated file's token, else a link to a photo or proof sent in chat.
            file = await open_attachment(conversation, Attachment("", token, "", "", 0))
            file = file or await open_linked_media(conversation, token)
        if file is None:
            return PlainTextResponse("not found", status_code=404)
        disposition = "inline" if file.media_type in _INLINE else "attachment"
        # The ASCII name for old clients, the UTF-8 one (RFC 6266) for the rest.
        plain = file.name.encode("ascii", "replace").decode().replace('"', "'")
        headers = {
            "Content-Disposition": (
                f"{disposition}; filename=\"{plain}\"; filename*=UTF-8''{quote(file.name)}"
            ),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        }
        return Response(file.content, media_type=file.media_type, headers=headers)

    return Route(f"{MEDIA_PATH}/{{token}}", serve, methods=["GET"])
