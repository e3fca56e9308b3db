"""A fake Telegram Bot API server for tests.

It speaks the real Bot API over HTTP on 127.0.0.1, so the real python-telegram-bot client (or any
other) runs against it unchanged, and it models the chats as the people in them see them: which
messages the bot sent, how edits changed them, which buttons are on them. Tests drive people
(`tg.user(...).send("halo")`, `.press("Keranjang")`) and wait on what the bot does, without sleeps:

    async with FakeTelegram(token="123:ABC") as tg:
        budi = tg.user(42)
        update_id = budi.send("/start")
        reply = await budi.wait_for_reply(update_id)

Faithful where it matters to a bot: the JSON shapes, the error codes and descriptions the real
server answers (bad HTML, too long, not modified, blocked, flood control, webhook conflicts),
update delivery by long polling or by webhook, photos and documents people send (getFile and
the download at /file/bot<token>/<file_path>). Not modelled: Markdown parse modes, inline mode,
payments, other kinds of files, channels and supergroups.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

JSON = dict[str, Any]

# The descriptions the real server answers, word for word: code under test may match on them.
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLLING_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
BLOCKED = "Forbidden: bot was blocked by the user"
# What the Bot API answers a send with allow_paid_broadcast that the bot's Stars cannot pay
# for: the MTProto error, passed through as "Bad Request: <ERROR>" (telegram-bot-api's
# Client.cpp keeps upper-case errors as they are; MTProto's messages.sendMessage lists
# 400 BALANCE_TOO_LOW).
BALANCE_TOO_LOW = "BALANCE_TOO_LOW"
# The methods that take allow_paid_broadcast (Bot API 7.11) and that jbl uses.
PAID_SENDS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage"}
)
KICKED = "Forbidden: bot was kicked from the group chat"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The update types Telegram sends when allowed_updates is empty or was never given.
DEFAULT_ALLOWED_UPDATES = _words(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query "
    "purchased_paid_media poll poll_answer my_chat_member chat_join_request chat_boost "
    "removed_chat_boost"
)
CHAT_ACTIONS = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice "
    "upload_document choose_sticker find_location record_video_note upload_video_note"
)
INLINE_BUTTON_ACTIONS = _words(
    "url callback_data web_app login_url switch_inline_query "
    "switch_inline_query_current_chat switch_inline_query_chosen_chat copy_text "
    "callback_game pay"
)
MAX_TEXT = 4096
MAX_CAPTION = 1024
# The Bot API takes uploads up to 10 MB for a photo and 50 MB for any other file.
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024
MAX_DOCUMENT_UPLOAD = 50 * 1024 * 1024
# getFile gives a bot files up to 20 MB.
MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_CALLBACK_DATA = 64

# Form-encoded bodies carry every value as a string, JSON-encoded unless it is a string already
# (that is how PTB and the Bot API docs do it), so only these keep their raw string: decoding
# them as JSON would turn a text "123" into a number.
STRING_PARAMS = _words(
    "text caption parse_mode photo document url secret_token callback_query_id action "
    "language_code "
    "inline_message_id ip_address business_connection_id message_effect_id"
)
# Complex fields that the real server also accepts as JSON-serialized strings inside JSON bodies.
JSON_PARAMS = _words(
    "reply_markup allowed_updates commands scope entities caption_entities reply_parameters "
    "link_preview_options"
)
TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def utf16_len(text: str) -> int:
    """Telegram counts lengths and offsets in UTF-16 code units: an emoji counts 2."""
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    """An error answer of the API: `{"ok": false, "error_code": ..., "description": ...}`."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass
class Call:
    """One API call as the fake received it; status and error are filled in when it is answered."""

    method: str
    params: JSON
    status: int | None = None
    error: str | None = None  # the description of an error answer
    at: float = field(default_factory=time.monotonic)  # when it arrived
    via: str | None = None  # the name in the base URL the client used (`base_url_as`)


@dataclass(frozen=True)
class Upload:
    """A file sent as a multipart part; the fake keeps what it was, not its bytes."""

    filename: str | None
    content_type: str
    size: int


@dataclass
class WebhookInfo:
    url: str
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(eq=False)
class FakeMessage:
    """A message as the people in the chat see it; bot messages change in place when edited."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str | None = None  # the visible text, or the caption of a photo
    html: str | None = None  # the raw string the bot sent, when it was sent with parse_mode HTML
    photo: str | None = None  # the URL or file_id the bot sent (an upload: "upload:<filename>")
    reply_markup: JSON | None = None
    edited: int = 0
    entities: list[JSON] = field(default_factory=list)
    contact: JSON | None = None
    sticker: JSON | None = None
    sender: JSON | None = None  # the User who wrote a user message
    date: int = 0
    edit_date: int | None = None
    # Event stamps (see FakeTelegram._tick) of when it was sent and last sent-or-edited, so that
    # "did the bot answer that update?" is decided by order, never by timing.
    sent_at: int = field(default=0, repr=False)
    changed_at: int = field(default=0, repr=False)
    photo_sizes: list[JSON] | None = field(default=None, repr=False)
    # A file the bot uploaded with it (a photo or a document), as it arrived: name, media type
    # and size; `document` is the Document object the API answers with.
    upload: Upload | None = None
    document: JSON | None = None

    @property
    def buttons(self) -> list[str]:
        """The labels of its inline keyboard, row by row."""
        return [button.get("text", "") for button in inline_buttons(self.reply_markup)]


def inline_buttons(markup: JSON | None) -> list[JSON]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [button for row in markup["inline_keyboard"] for button in row]


def keyboard_buttons(markup: JSON | None) -> list[JSON]:
    """The buttons of a reply keyboard; a button given as a bare string is its text."""
    if not markup or "keyboard" not in markup:
        return []
    return [
        {"text": button} if isinstance(button, str) else button
        for row in markup["keyboard"]
        for button in row
    ]


# --- HTML, as Telegram parses it -----------------------------------------------------------------

HTML_TAGS = _words("a b strong i em u ins s strike del code pre tg-spoiler span blockquote")
ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
HTML_ENTITY = re.compile(r"&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|([a-zA-Z]+));?")
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlError(ValueError):
    pass


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """The visible text and the MessageEntity list of a parse_mode=HTML string.

    Follows TDLib's parser (tags, attributes, error descriptions with byte offsets) with one
    deliberate difference: a `&` that does not start one of the supported entities is an error
    here, as the Bot API documentation requires, where the real server lets it through. Catching
    an unescaped `&` in tests is worth more than matching that leniency.
    """
    out: list[str] = []
    utf16 = 0
    # open tags: (name, argument, utf-16 offset of the start, index in `out` of the start)
    stack: list[tuple[str, str, int, int]] = []
    entities: list[JSON] = []
    n = len(source)
    i = 0

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    def entity_at(index: int) -> tuple[str, int]:
        match = HTML_ENTITY.match(source, index)
        char = None
        if match:
            hexadecimal, decimal, name = match.groups()
            if name is not None:
                char = NAMED_ENTITIES.get(name)
            else:
                code = int(hexadecimal, 16) if hexadecimal is not None else int(decimal)
                char = chr(code) if 0 < code < 0x110000 else None
        if char is None or match is None:
            raise HtmlError(
                f'Character "&" must be escaped as "&amp;" at byte offset {byte_offset(index)}'
            )
        return char, match.end()

    def skip_spaces(index: int) -> int:
        while index < n and source[index].isspace():
            index += 1
        return index

    while i < n:
        char = source[i]
        if char == "&":
            decoded, i = entity_at(i)
            out.append(decoded)
            utf16 += utf16_len(decoded)
            continue
        if char != "<":
            out.append(char)
            utf16 += utf16_len(char)
            i += 1
            continue

        begin = i
        i += 1
        if i < n and source[i] == "/":
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            i += 1
            while i < n and not source[i].isspace() and source[i] != ">":
                i += 1
            end_name = source[begin + 2 : i].lower()
            i = skip_spaces(i)
            if i >= n or source[i] != ">":
                raise HtmlError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            i += 1
            name, argument, start, out_start = stack.pop()
            if end_name and end_name != name:
                raise HtmlError(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                    f'expected "</{name}>", found "</{end_name}>"'
                )
            if utf16 > start:
                entities.append(_entity(name, argument, start, utf16 - start, out[out_start:]))
            continue

        while i < n and not source[i].isspace() and source[i] != ">":
            i += 1
        if i >= n:
            raise HtmlError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[begin + 1 : i].lower()
        if name not in HTML_TAGS:
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        argument = ""
        while True:
            i = skip_spaces(i)
            if i >= n:
                raise HtmlError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[i] == ">":
                break
            attribute_start = i
            while i < n and not source[i].isspace() and source[i] not in "=>":
                i += 1
            attribute = source[attribute_start:i]
            if not attribute:
                raise HtmlError(
                    f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(begin)}'
                )
            i = skip_spaces(i)
            if i < n and source[i] != "=" and name == "blockquote" and attribute == "expandable":
                argument = "expandable"  # the one attribute Telegram accepts without a value
                continue
            if i >= n or source[i] != "=":
                raise HtmlError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {byte_offset(begin)}'
                )
            i = skip_spaces(i + 1)
            if i >= n:
                raise HtmlError(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            if source[i] in "'\"":
                quote = source[i]
                i += 1
                value_chars: list[str] = []
                while i < n and source[i] != quote:
                    if source[i] == "&":
                        decoded, i = entity_at(i)
                        value_chars.append(decoded)
                    else:
                        value_chars.append(source[i])
                        i += 1
                if i >= n:
                    raise HtmlError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                i += 1
                value = "".join(value_chars)
            else:
                token_start = i
                while i < n and (source[i].isalnum() or source[i] in ".-"):
                    i += 1
                value = source[token_start:i].lower()
                if i < n and not source[i].isspace() and source[i] != ">":
                    raise HtmlError(
                        f"Unexpected end of name token at byte offset {byte_offset(token_start)}"
                    )
            if name == "a" and attribute == "href":
                argument = value
            elif name == "code" and attribute == "class" and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif name == "span" and attribute == "class" and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
        if name == "span" and argument != "spoiler":
            raise HtmlError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
            )
        i += 1
        stack.append((name, argument, utf16, len(out)))

    if stack:
        raise HtmlError(f"Can't find end tag corresponding to start tag {stack[-1][0]}")
    _merge_pre_code(entities)
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(out), entities


def _entity(name: str, argument: str, offset: int, length: int, inner: list[str]) -> JSON:
    entity: JSON = {"offset": offset, "length": length}
    if name == "a":
        # A link without href links to its own text, as in TDLib.
        entity.update(type="text_link", url=argument or "".join(inner))
    elif name == "blockquote":
        entity["type"] = "expandable_blockquote" if argument == "expandable" else "blockquote"
    else:
        entity["type"] = ENTITY_TYPES[name]
        if name == "code" and argument:
            entity["language"] = argument  # kept only when merged into its <pre>, see below
    return entity


def _merge_pre_code(entities: list[JSON]) -> None:
    """`<pre><code class="language-x">` is one `pre` entity with a language; <code> has none."""
    merged: list[JSON] = []
    for entity in entities:
        previous = merged[-1] if merged else None
        if (
            entity["type"] == "pre"
            and previous is not None
            and previous["type"] == "code"
            and (previous["offset"], previous["length"]) == (entity["offset"], entity["length"])
        ):
            merged[-1] = dict(entity)
            if "language" in previous:
                merged[-1]["language"] = previous["language"]
            continue
        merged.append(entity)
    for entity in merged:
        if entity["type"] == "code":
            entity.pop("language", None)
    entities[:] = merged


# --- request bodies ------------------------------------------------------------------------------


def _form_value(name: str, raw: str) -> Any:
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # e.g. chat_id "@channel"


def _json_value(name: str, value: Any) -> Any:
    if name in JSON_PARAMS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    return value


def _multipart(content_type: str, body: bytes) -> JSON:
    # python-multipart (Starlette's form parser) is not installed; the stdlib email parser reads
    # multipart/form-data once it is given the Content-Type header that carries the boundary.
    header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(header + body)
    params: JSON = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None or part.get_content_type() == "application/octet-stream":
            params[name] = Upload(filename, part.get_content_type(), len(payload))
        else:
            params[name] = _form_value(name, payload.decode("utf-8"))
    return params


async def read_params(request: Request) -> JSON:
    """The call's parameters from the query string and a JSON, form or multipart body."""
    params: JSON = {k: _form_value(k, v) for k, v in request.query_params.multi_items()}
    body = await request.body()
    if not body:
        return params
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(data, dict):
            raise bad_request("JSON object expected")
        params.update({k: _json_value(k, v) for k, v in data.items()})
    elif media_type == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
        params.update({k: _form_value(k, v) for k, v in pairs})
    elif media_type == "multipart/form-data":
        params.update(_multipart(content_type, body))
    return params


# --- the fake ------------------------------------------------------------------------------------


@dataclass
class _Chat:
    id: int
    type: str  # "private" or "group"
    title: str | None = None
    user: TelegramUser | None = None
    messages: list[FakeMessage] = field(default_factory=list)
    next_message_id: int = 1
    keyboard: JSON | None = None  # the reply keyboard the user has now
    # The bot's last change here (a message sent or edited): waiting for a reply looks at it
    # instead of the whole history, which grows with every message of a long run.
    bot_changed: FakeMessage | None = None
    bot_sent_at: int = 0

    def json(self) -> JSON:
        if self.user is not None:
            chat: JSON = {"id": self.id, "type": self.type, "first_name": self.user.first_name}
            if self.user.username:
                chat["username"] = self.user.username
            return chat
        return {"id": self.id, "type": self.type, "title": self.title}

    @property
    def instance(self) -> str:
        # Telegram's chat_instance: an opaque, stable identifier of the chat.
        return str((self.id * 2654435761) % 2**63)


@dataclass(eq=False)  # compared by identity: a duplicate update is an equal but distinct entry
class _Queued:
    update: JSON
    # An update pushed again with an update_id already used (a duplicate, as Telegram sometimes
    # sends): delivered once more even though its id is below the confirmed offset.
    redelivery: bool
    delivered: bool = False
    posting: bool = False  # a webhook connection is posting it now

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return update_kind(self.update)


@dataclass
class _Pushed:
    stamp: int
    chat_id: int | None
    callback_query_id: str | None


@dataclass
class _Query:
    user_id: int
    answered: bool = False


@dataclass
class _Failure:
    error_code: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | None = None  # only calls about this chat


@dataclass
class _Answer:
    """A successful result that also carries a description, as setWebhook's does."""

    result: Any
    description: str


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def update_kind(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


class LocalServer:
    """An ASGI app served by uvicorn on 127.0.0.1 (a free port) inside the running event loop:
    the fake's API, or a webhook receiver in a test. `async with LocalServer(app) as server:`.

    uvicorn's Server.serve() is not used: it installs signal handlers (capture_signals), which
    have no business inside pytest's event loop, and its main_loop and shutdown poll with 0.1 s
    sleeps. The pieces it runs in between (startup, on_tick) are public and enough.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.url = ""  # "http://127.0.0.1:PORT" once started
        self._server: uvicorn.Server | None = None
        self._connections_gone = asyncio.Event()

    async def __aenter__(self) -> LocalServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        gone = self._connections_gone

        class Protocol(HttpToolsProtocol):
            """uvicorn's httptools protocol (as `jbl run` has), telling when the last
            connection is gone so that stop() waits for exactly that."""

            def connection_lost(self, exc: Exception | None) -> None:
                super().connection_lost(exc)
                if not self.connections:
                    gone.set()

        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=0,
            http=Protocol,
            ws="none",
            lifespan="off",
            proxy_headers=False,
            access_log=False,
            log_config=None,  # leave the test run's logging configuration alone
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        await server.startup()
        await server.on_tick(0)  # sets the Date and Server headers, as main_loop would
        self._server = server
        port = server.servers[0].sockets[0].getsockname()[1]  # port 0: the one the OS chose
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """uvicorn's Server.shutdown without its sleeps: stop listening, close idle keep-alive
        connections (busy ones close after their response), wait for the requests in flight,
        then for the connections to be gone."""
        server, self._server = self._server, None
        if server is None:
            return
        for listener in server.servers:
            listener.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()
        if server.server_state.tasks:
            await asyncio.wait(set(server.server_state.tasks), timeout=5.0)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                while server.server_state.connections:
                    self._connections_gone.clear()
                    await self._connections_gone.wait()
        for connection in list(server.server_state.connections):
            connection.transport.abort()  # a client that never finished its request
        for listener in server.servers:
            await listener.wait_closed()


class FakeTelegram:
    """`async with FakeTelegram(token="123:ABC") as tg: ...` serves the Bot API at `tg.base_url`."""

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        first_name: str = "JBL",
        username: str = "jbl_test_bot",
        webhook_attempts: int = 3,
        webhook_connections: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_user: JSON = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self.webhook_attempts = webhook_attempts
        # Telegram's max_connections: updates posted at once (tests keep 1: strict order).
        self.webhook_connections = webhook_connections
        self.clock = clock
        self.base_url = ""  # known once the server listens
        self.calls: list[Call] = []
        self.webhook: WebhookInfo | None = None
        self.webhook_responses: list[int] = []  # 0 when the webhook could not be reached
        self.commands: dict[str | None, list[JSON]] = {}
        # setMyCommands for a scope other than the default: (scope as JSON, language) -> commands
        self.scoped_commands: dict[tuple[str, str | None], list[JSON]] = {}
        # Exceptions inside the fake itself: answered as 500 and raised when the fake exits.
        self.internal_errors: list[BaseException] = []
        # Paid broadcast: how many paid sends the bot's Stars pay for (None: as many as asked),
        # and how many were made. Telegram charges the sends that succeed.
        self.paid_allowance: int | None = None
        self.paid_sends = 0

        self._chats: dict[int, _Chat] = {}
        self._blocked: set[int] = set()
        self._failures: dict[str, list[_Failure]] = {}
        self._pending: list[_Queued] = []
        self._pushed: dict[int, _Pushed] = {}
        self._queries: dict[str, _Query] = {}
        self._answers: list[tuple[int, JSON]] = []
        self._photos: dict[str, list[JSON]] = {}  # file_id -> the PhotoSize list it belongs to
        # Files people sent (photos, documents): file_id -> (the file_path getFile gives, bytes).
        self._sent_files: dict[str, tuple[str, bytes]] = {}
        # How many times each file was downloaded from /file/bot<token>/<file_path>.
        self.downloads: dict[str, int] = {}
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._next_update_id = 1
        self._events = 0
        self._poll_generation = 0
        self._ids = itertools.count(1)
        self._closing = False

        self._condition = asyncio.Condition()
        self._notify_scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._handlers: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getFile": self._get_file,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "close": self._close,
            "logOut": self._log_out,
        }
        # Bot API method names are case-insensitive.
        self._method_names = {name.lower(): name for name in self._handlers}
        self._server = LocalServer(
            Starlette(
                routes=[
                    Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                    Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
                    Route("/as/{via}/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                    Route("/as/{via}/file/bot{token}/{path:path}", self._download, methods=["GET"]),
                    Route("/{path:path}", self._not_found, methods=["GET", "POST"]),
                ]
            )
        )

    # --- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        self._http = httpx.AsyncClient(timeout=10.0)
        try:
            await self._server.start()
        except BaseException:
            await self._http.aclose()
            raise
        self.base_url = f"{self._server.url}/bot"
        loop = asyncio.get_running_loop()
        self._workers = [
            loop.create_task(self._webhook_worker()) for _ in range(self.webhook_connections)
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closing = True
        self._changed()  # wakes long polls, which answer at once
        for worker in self._workers:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        await self._server.stop()
        if self._http is not None:
            await self._http.aclose()
        while self._tasks:
            await asyncio.gather(*self._tasks)
        if self.internal_errors and exc_type is None:
            raise AssertionError(
                f"the fake Telegram failed internally: {self.internal_errors!r}"
            ) from self.internal_errors[0]

    def base_url_as(self, name: str) -> str:
        """The API's base URL for one client of several (a `jbl run` process of many): its
        calls are recorded with `via` set to `name`."""
        return f"{self.base_url.removesuffix('/bot')}/as/{name}/bot"

    def calls_of(self, method: str, via: str | None = None) -> list[Call]:
        """The calls of `method` so far (from the client `via`, if given)."""
        name = self._method_names.get(method.lower(), method)
        return [c for c in self.calls if c.method == name and (via is None or c.via == via)]

    # --- waiting ---------------------------------------------------------------------------------

    def _tick(self) -> int:
        """The next event stamp: every message sent, edited or pushed gets a larger one."""
        self._events += 1
        return self._events

    def _changed(self) -> None:
        """Wakes everyone waiting on the condition. Callable from plain functions (push_update is
        one), so the notification runs as a task; waiters re-check their predicate anyway."""
        if self._notify_scheduled:
            return
        self._notify_scheduled = True
        task = asyncio.get_running_loop().create_task(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _notify(self) -> None:
        # Reset first: a change after this point schedules another notification.
        self._notify_scheduled = False
        async with self._condition:
            self._condition.notify_all()

    async def _wait(self, predicate: Callable[[], bool], seconds: float | None) -> bool:
        """Whether `predicate()` held within `seconds` (None: no limit)."""
        if predicate():
            return True
        async with self._condition:
            try:
                async with asyncio.timeout(seconds):
                    await self._condition.wait_for(predicate)
            except TimeoutError:
                return predicate()
        return True

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented API
        what: str | None = None,
    ) -> None:
        """Waits until `predicate()` holds, re-checking after every API call and state change.

        The predicate must depend on the fake's state only (calls, chats, webhook responses):
        nothing else wakes the waiters, so a predicate on, say, the app's database would only be
        re-checked by chance. One that turns true unnoticed fails loudly here rather than pass
        slowly at the timeout.
        """
        if predicate():
            return
        async with self._condition:
            try:
                async with asyncio.timeout(timeout):
                    await self._condition.wait_for(predicate)
                return
            except TimeoutError:
                if predicate():
                    raise AssertionError(
                        f"{self._describe_predicate(predicate, what)} became true within "
                        f"{timeout} s without the fake noticing: wait on the fake's state only"
                    ) from None
        raise AssertionError(
            f"timed out after {timeout} s waiting for "
            f"{self._describe_predicate(predicate, what)}\n{self.describe()}"
        )

    @staticmethod
    def _describe_predicate(predicate: Callable[[], bool], what: str | None) -> str:
        return what or getattr(predicate, "__qualname__", repr(predicate))

    def describe(self) -> str:
        """The recent calls and every chat's transcript, for failure messages."""
        lines = ["last API calls:"]
        for call in self.calls[-15:]:
            outcome = call.error or call.status
            lines.append(
                f"  {call.method} {json.dumps(call.params, default=str)[:200]} -> {outcome}"
            )
        for chat in self._chats.values():
            lines.append(f"chat {chat.id} ({chat.type}):")
            for message in chat.messages:
                who = "bot" if message.from_bot else "user"
                content = message.text
                if content is None:
                    content = "<contact>" if message.contact else "<sticker>"
                edited = f" (edited {message.edited}x)" if message.edited else ""
                buttons = f" {message.buttons}" if message.buttons else ""
                lines.append(f"  #{message.message_id} {who}: {content!r}{buttons}{edited}")
        return "\n".join(lines)

    # --- people and chats ------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Budi",
        language_code: str | None = "id",
        username: str | None = None,
    ) -> TelegramUser:
        """A person in a private chat with the bot (the same person again for a known id)."""
        existing = self._chats.get(user_id)
        if existing is not None and existing.user is not None:
            return existing.user
        person = TelegramUser(self, user_id, first_name, language_code, username)
        self._chats[user_id] = _Chat(user_id, "private", user=person)
        return person

    def group(self, chat_id: int, title: str) -> Group:
        self._chats.setdefault(chat_id, _Chat(chat_id, "group", title=title))
        return Group(self, chat_id, title)

    def chat(self, chat_id: int) -> list[FakeMessage]:
        """The chat's messages, user's and bot's, in order, as the user sees them now."""
        return list(self._chat(chat_id).messages)

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise AssertionError(f"the fake knows no chat {chat_id}; create it with user()/group()")
        return chat

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: from now on every send and edit to the chat answers 403."""
        self._chat(chat_id)
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (about `chat_id`, if given: concurrent sends
        arrive in any order) answer this error instead of doing anything."""
        name = self._method_names.get(method.lower(), method)
        self._failures.setdefault(name, []).append(
            _Failure(error_code, description, retry_after, times, chat_id)
        )

    @property
    def callback_answers(self) -> list[JSON]:
        return [params for _, params in self._answers]

    # --- updates ---------------------------------------------------------------------------------

    def push_update(self, update: JSON) -> int:
        """Queues an update for delivery and returns its update_id.

        An update without update_id gets the next one, written into the dict passed in, so pushing
        the same dict again delivers the same update twice, as Telegram's duplicates look.
        """
        update_id = update.get("update_id")
        if update_id is None:
            update_id = update["update_id"] = self._next_update_id
        redelivery = update_id < self._next_update_id
        self._next_update_id = max(self._next_update_id, update_id + 1)

        body = update.get(update_kind(update)) or {}
        query_id = None
        if "callback_query" in update:
            query_id = str(body["id"])
            self._queries.setdefault(query_id, _Query(body["from"]["id"]))
            message = body.get("message") or {}
        else:
            message = body
        chat_id = (message.get("chat") or {}).get("id")
        self._pushed[update_id] = _Pushed(self._tick(), chat_id, query_id)
        self._pending.append(_Queued(copy.deepcopy(update), redelivery))
        self._changed()
        return int(update_id)

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            # A negative offset keeps only the last -offset updates, forgetting the rest.
            del self._pending[: max(0, len(self._pending) + offset)]
            return
        self._pending = [
            entry
            for entry in self._pending
            if entry.update_id >= offset or (entry.redelivery and not entry.delivered)
        ]

    def _deliverable(self, allowed: frozenset[str]) -> list[_Queued]:
        # Updates of a type the bot did not ask for are dropped, never delivered later.
        self._pending = [entry for entry in self._pending if entry.kind in allowed]
        return self._pending

    @staticmethod
    def _allowed(value: Any) -> frozenset[str]:
        if not value:
            return DEFAULT_ALLOWED_UPDATES
        if not isinstance(value, list):
            raise bad_request("can't parse allowed_updates JSON array")
        return frozenset(value)

    # --- webhook ---------------------------------------------------------------------------------

    async def _webhook_worker(self) -> None:
        """Delivers queued updates to the webhook one at a time, in order, as Telegram does with
        max_connections=1 (each of `webhook_connections` workers posts the oldest update no
        other is posting); a non-2xx answer is retried, then the update is dropped."""
        while True:
            await self._wait(
                lambda: self._closing or (self.webhook is not None and bool(self._webhook_queue())),
                None,
            )
            if self._closing:
                return
            hook = self.webhook
            assert hook is not None
            entry = self._webhook_queue()[0]
            entry.posting = True
            status = 0
            for _ in range(max(1, self.webhook_attempts)):
                status = await self._post(hook, entry.update, hook.secret_token)
                self.webhook_responses.append(status)
                self._changed()
                if 200 <= status < 300:
                    break
            if not 200 <= status < 300:
                # Telegram would keep retrying with growing pauses; tests want the outcome now.
                hook.last_error_date = int(self.clock())
                if status:  # 0: _post kept the connection error's text
                    hook.last_error_message = f"Wrong response from the webhook: {_status(status)}"
            entry.delivered = True
            if entry in self._pending:
                self._pending.remove(entry)
            self._changed()

    def _webhook_queue(self) -> list[_Queued]:
        allowed = self._allowed(self.webhook.allowed_updates if self.webhook else None)
        return [entry for entry in self._deliverable(allowed) if not entry.posting]

    async def _post(self, hook: WebhookInfo, update: JSON, secret: str | None) -> int:
        assert self._http is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        try:
            response = await self._http.post(hook.url, json=update, headers=headers)
        except httpx.HTTPError as error:
            hook.last_error_message = str(error)
            return 0
        return response.status_code

    async def post_to_webhook(self, update: JSON, secret: str | None) -> int:
        """POSTs an update to the webhook with the given secret header (none for None), outside
        the delivery queue: for tests of a receiver that must refuse a wrong secret."""
        if self.webhook is None:
            raise AssertionError("no webhook is set")
        if "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
            self._next_update_id += 1
        return await self._post(self.webhook, update, secret)

    # --- HTTP ------------------------------------------------------------------------------------

    async def _not_found(self, request: Request) -> JSONResponse:
        return JSONResponse(ApiError(404, "Not Found").body(), status_code=404)

    async def _endpoint(self, request: Request) -> JSONResponse:
        token = request.path_params["token"]
        method = self._method_names.get(request.path_params["method"].lower())
        call = Call(method or request.path_params["method"], {}, via=request.path_params.get("via"))
        recorded = False
        try:
            if not TOKEN_SHAPE.fullmatch(token):
                raise ApiError(404, "Not Found")  # what the real server says to a malformed token
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            if method is None:
                raise ApiError(404, "Not Found")
            call.params = await read_params(request)
            # Recorded on arrival, so `calls` is in the order the client made them even while a
            # long poll is still waiting.
            self._record(call)
            recorded = True
            self._changed()
            self._take_failure(method, call.params)
            paid = self._paid(method, call.params)
            result = await self._handlers[method](call.params)
            self.paid_sends += paid
            body: JSON = {"ok": True, "result": result}
            if isinstance(result, _Answer):
                body = {"ok": True, "result": result.result, "description": result.description}
            status = 200
        except ApiError as error:
            status, body = error.code, error.body()
        except Exception as error:  # the fake's own bug: answer 500 now, fail the test at exit
            self.internal_errors.append(error)
            status = 500
            body = {"ok": False, "error_code": 500, "description": f"fake Telegram: {error!r}"}
        if not recorded:
            self._record(call)
        call.status = status
        call.error = None if body["ok"] else body["description"]
        self._changed()
        return JSONResponse(body, status_code=status)

    def _record(self, call: Call) -> None:
        self.calls.append(call)

    def _paid(self, method: str, params: JSON) -> bool:
        """Whether the call is a paid send; refused when the Stars do not cover it."""
        if method not in PAID_SENDS or params.get("allow_paid_broadcast") not in (True, "true"):
            return False
        if self.paid_allowance is not None and self.paid_sends >= self.paid_allowance:
            raise bad_request(BALANCE_TOO_LOW)
        return True

    def _take_failure(self, method: str, params: JSON) -> None:
        queue = self._failures.get(method, [])
        chat = str(params.get("chat_id"))
        failure = next((f for f in queue if f.chat_id is None or str(f.chat_id) == chat), None)
        if failure is None:
            return
        failure.times -= 1
        if failure.times <= 0:
            queue.remove(failure)
        parameters = (
            {"retry_after": failure.retry_after} if failure.retry_after is not None else None
        )
        raise ApiError(failure.error_code, failure.description, parameters)

    # --- method helpers --------------------------------------------------------------------------

    def _target(self, params: JSON, *, sending: bool = True) -> _Chat:
        """The chat a call is about; blocked chats refuse sends and edits."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None  # "@username" of a chat it doesn't know
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if sending and chat_id in self._blocked:
            raise ApiError(403, BLOCKED if chat.type == "private" else KICKED)
        return chat

    def _formatted(self, raw: Any, parse_mode: Any) -> tuple[str, str | None, list[JSON]]:
        """(visible text, raw HTML or None, entities) of a text or caption parameter."""
        text = "" if raw is None else str(raw)
        if not parse_mode:
            return text, None, []
        if str(parse_mode).lower() != "html":
            # Markdown is not modelled: better a loud failure than a silently wrong transcript.
            raise bad_request("unsupported parse_mode (the fake Telegram only parses HTML)")
        try:
            visible, entities = parse_html(text)
        except HtmlError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        return visible, text, entities

    def _text(self, params: JSON) -> tuple[str, str | None, list[JSON]]:
        text, html, entities = self._formatted(params.get("text"), params.get("parse_mode"))
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, html, entities or list(params.get("entities") or [])

    def _caption(self, params: JSON) -> tuple[str | None, str | None, list[JSON]]:
        if params.get("caption") is None:
            return None, None, []
        text, html, entities = self._formatted(params["caption"], params.get("parse_mode"))
        if utf16_len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return text or None, html, entities or list(params.get("caption_entities") or [])

    @staticmethod
    def _markup(value: Any, *, inline_only: bool = False) -> JSON | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
                )
            for button in (button for row in rows for button in row):
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request("can't parse inline keyboard button: Text must be a String")
                if not INLINE_BUTTON_ACTIONS & button.keys():
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            return value
        if inline_only:
            raise bad_request("inline keyboard expected")
        if "keyboard" in value:
            if not keyboard_buttons(value) and value["keyboard"]:
                raise bad_request("can't parse keyboard button")
            return value
        if value.get("remove_keyboard") or value.get("force_reply"):
            return value
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _add_message(self, chat: _Chat, message: FakeMessage) -> FakeMessage:
        message.message_id = chat.next_message_id
        chat.next_message_id += 1
        message.date = int(self.clock())
        message.sent_at = message.changed_at = self._tick()
        chat.messages.append(message)
        if message.from_bot:
            chat.bot_changed, chat.bot_sent_at = message, message.sent_at
        if message.from_bot and message.reply_markup:
            if "keyboard" in message.reply_markup:
                chat.keyboard = message.reply_markup
            elif message.reply_markup.get("remove_keyboard"):
                chat.keyboard = None
        return message

    def message_json(self, message: FakeMessage) -> JSON:
        """The Message object the API returns (and puts in updates) for a fake message."""
        chat = self._chat(message.chat_id)
        body: JSON = {"message_id": message.message_id}
        body["from"] = self.bot_user if message.from_bot else message.sender
        body["chat"] = chat.json()
        body["date"] = message.date
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        if message.photo is not None or message.document is not None:
            if message.photo is not None:
                body["photo"] = message.photo_sizes
            else:
                body["document"] = message.document
            if message.text is not None:
                body["caption"] = message.text
                if message.entities:
                    body["caption_entities"] = message.entities
        elif message.text is not None:
            body["text"] = message.text
            if message.entities:
                body["entities"] = message.entities
        if message.contact is not None:
            body["contact"] = message.contact
        if message.sticker is not None:
            body["sticker"] = message.sticker
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup  # only inline keyboards come back
        return body

    def _bot_message(self, params: JSON, action: str) -> tuple[_Chat, FakeMessage]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID (inline messages are not modelled)")
        chat = self._target(params, sending=action == "edit")
        message_id = params.get("message_id")
        message = next((m for m in chat.messages if str(m.message_id) == str(message_id)), None)
        if message is None:
            raise bad_request(f"message to {action} not found")
        if action == "edit" and not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _edit(
        self,
        chat: _Chat,
        message: FakeMessage,
        text: str | None,
        html: str | None,
        entities: list[JSON],
        markup: JSON | None,
    ) -> JSON:
        # A message's reply keyboard (not inline) is not part of it once sent; an edit without
        # reply_markup removes an inline keyboard, as on Telegram.
        old_inline = message.reply_markup if inline_buttons(message.reply_markup) else None
        if (message.text, message.entities, old_inline) == (text, entities, markup):
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.text, message.html, message.entities = text, html, entities
        if markup is not None or old_inline is not None:
            message.reply_markup = markup
        message.edited += 1
        message.edit_date = int(self.clock())
        message.changed_at = self._tick()
        chat.bot_changed = message
        return self.message_json(message)

    # --- methods ---------------------------------------------------------------------------------

    async def _get_file(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id") or "")
        sent = self._sent_files.get(file_id)
        if sent is None:
            raise bad_request("invalid file_id")
        path, content = sent
        if len(content) > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"AQAD{file_id[-12:]}",
            "file_size": len(content),
            "file_path": path,
        }

    async def _download(self, request: Request) -> Response:
        """A file people sent, at the file_path getFile gave, for the bot's token only."""
        if request.path_params["token"] != self.token:
            return JSONResponse(ApiError(401, "Unauthorized").body(), status_code=401)
        path = request.path_params["path"]
        content = next((c for p, c in self._sent_files.values() if p == path), None)
        if content is None:
            return JSONResponse(ApiError(404, "Not Found").body(), status_code=404)
        self.downloads[path] = self.downloads.get(path, 0) + 1
        return Response(content, media_type="application/octet-stream")

    def _sent_photo(self, content: bytes) -> list[JSON]:
        """The PhotoSize list of a photo a person sends; each size downloads as `content`."""
        sizes = self._new_photo_sizes()
        sizes[-1]["file_size"] = len(content)
        for size in sizes:
            path = f"photos/file_{next(self._ids)}.jpg"
            self._sent_files[size["file_id"]] = (path, content)
        return sizes

    def _sent_document(self, content: bytes, file_name: str, mime_type: str) -> JSON:
        number = next(self._ids)
        file_id = f"BQACAgUAAxkBAAI{number:06d}"
        self._sent_files[file_id] = (f"documents/file_{number}", content)
        return {
            "file_id": file_id,
            "file_unique_id": f"AgAD{number:06d}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        try:
            offset = int(params.get("offset") or 0)
            limit = min(max(int(params.get("limit") or 100), 1), 100)
            timeout = max(float(params.get("timeout") or 0), 0.0)
        except (TypeError, ValueError):
            raise bad_request("wrong parameter in request") from None
        if "allowed_updates" in params:
            self._allowed_updates = self._allowed(params["allowed_updates"])
        self._confirm(offset)
        # A newer getUpdates ends an older one still waiting, with 409, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation

        def ready() -> bool:
            return (
                self._closing
                or generation != self._poll_generation
                or self.webhook is not None
                or bool(self._deliverable(self._allowed_updates))
            )

        if timeout:
            await self._wait(ready, timeout)
        if generation != self._poll_generation:
            raise ApiError(409, POLLING_CONFLICT)
        if self.webhook is not None:
            return []
        batch = self._deliverable(self._allowed_updates)[:limit]
        for entry in batch:
            entry.delivered = True
        return [copy.deepcopy(entry.update) for entry in batch]

    async def _set_webhook(self, params: JSON) -> _Answer:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params)
        if not url.startswith(("https://", "http://")):
            # The real server wants HTTPS; the fake also takes http:// for local receivers.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        self._allowed(allowed)  # validates
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = WebhookInfo(
            url=url,
            secret_token=None if secret is None else str(secret),
            allowed_updates=list(allowed) if allowed else None,
            max_connections=int(params.get("max_connections") or 40),
        )
        return _Answer(True, "Webhook was set")

    async def _delete_webhook(self, params: JSON) -> _Answer:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        was_set = self.webhook is not None
        self.webhook = None
        return _Answer(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _get_webhook_info(self, params: JSON) -> JSON:
        hook = self.webhook
        info: JSON = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    def _commands_slot(self, params: JSON) -> tuple[dict[Any, list[JSON]], Any]:
        language = params.get("language_code") or None
        scope = params.get("scope")
        if not scope or scope.get("type") == "default":
            return self.commands, language
        return self.scoped_commands, (json.dumps(scope, sort_keys=True), language)

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if commands is None:
            commands = []
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON array")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_NAME.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not str(command.get("description", "")).strip():
                raise bad_request("command description must be non-empty")
        store, key = self._commands_slot(params)
        if commands:
            store[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            store.pop(key, None)
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        store, key = self._commands_slot(params)
        return list(store.get(key, []))

    async def _delete_my_commands(self, params: JSON) -> bool:
        store, key = self._commands_slot(params)
        store.pop(key, None)
        return True

    async def _send_message(self, params: JSON) -> JSON:
        chat = self._target(params)
        text, html, entities = self._text(params)
        markup = self._markup(params.get("reply_markup"))
        message = FakeMessage(0, chat.id, True, text, html, reply_markup=markup, entities=entities)
        return self.message_json(self._add_message(chat, message))

    async def _send_photo(self, params: JSON) -> JSON:
        chat = self._target(params)
        photo = params.get("photo")
        if photo is None or photo == "":
            raise bad_request("there is no photo in the request")
        if isinstance(photo, Upload):
            if photo.size > MAX_PHOTO_UPLOAD:
                raise bad_request("PHOTO_INVALID_DIMENSIONS: photo is too big")
            source, sizes = f"upload:{photo.filename}", None
        else:
            source = str(photo)
            sizes = self._photos.get(source)
            if sizes is None and not source.startswith(("http://", "https://")):
                # Real file_ids are the ones Telegram issued; invented ones are refused.
                raise bad_request("wrong file identifier/HTTP URL specified")
        caption, html, entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"))
        if sizes is None:
            sizes = self._new_photo_sizes()
        message = FakeMessage(
            0,
            chat.id,
            True,
            caption,
            html,
            photo=source,
            reply_markup=markup,
            entities=entities,
            photo_sizes=sizes,
            upload=photo if isinstance(photo, Upload) else None,
        )
        return self.message_json(self._add_message(chat, message))

    async def _send_document(self, params: JSON) -> JSON:
        chat = self._target(params)
        document = params.get("document")
        if document is None or document == "":
            raise bad_request("there is no document in the request")
        if not isinstance(document, Upload):
            # jbl uploads what it sends; file ids and URLs of documents are not modelled.
            raise bad_request("wrong file identifier/HTTP URL specified")
        if document.size > MAX_DOCUMENT_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        if document.size == 0:
            raise bad_request("file must be non-empty")
        caption, html, entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"))
        number = next(self._ids)
        described: JSON = {
            "file_id": f"BQACAgUAAxkBAAI{number:06d}",
            "file_unique_id": f"AgAD{number:06d}",
            "file_size": document.size,
            "mime_type": document.content_type,
        }
        if document.filename is not None:
            described["file_name"] = document.filename
        message = FakeMessage(
            0,
            chat.id,
            True,
            caption,
            html,
            reply_markup=markup,
            entities=entities,
            upload=document,
            document=described,
        )
        return self.message_json(self._add_message(chat, message))

    def _new_photo_sizes(self) -> list[JSON]:
        number = next(self._ids)
        sizes = [
            {
                "file_id": f"AgACAgUAAxkBAAI{number:06d}x{side}",
                "file_unique_id": f"AQAD{number:06d}{side}",
                "width": side,
                "height": side,
                "file_size": side * side // 8,
            }
            for side in (90, 320, 800)
        ]
        for size in sizes:
            self._photos[size["file_id"]] = sizes
        return sizes

    async def _edit_message_text(self, params: JSON) -> JSON:
        chat, message = self._bot_message(params, "edit")
        if message.photo is not None or message.document is not None or message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, html, entities = self._text(params)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        return self._edit(chat, message, text, html, entities, markup)

    async def _edit_message_caption(self, params: JSON) -> JSON:
        chat, message = self._bot_message(params, "edit")
        if message.photo is None and message.document is None:
            raise bad_request("there is no caption in the message to edit")
        caption, html, entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        return self._edit(chat, message, caption, html, entities, markup)

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        chat, message = self._bot_message(params, "edit")
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        return self._edit(chat, message, message.text, message.html, message.entities, markup)

    async def _delete_message(self, params: JSON) -> bool:
        chat, message = self._bot_message(params, "delete")
        chat.messages.remove(message)
        if chat.bot_changed is message:
            bots = [m for m in chat.messages if m.from_bot]
            chat.bot_changed = max(bots, key=lambda m: m.changed_at, default=None)
        self._tick()
        return True

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self._queries.get(query_id)
        if query is None or query.answered:
            raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        if utf16_len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        self._answers.append((query.user_id, params))
        self._tick()
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        self._target(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _close(self, params: JSON) -> bool:
        return True

    async def _log_out(self, params: JSON) -> bool:
        return True

    # --- what people do (used by TelegramUser and Group) -----------------------------------------

    def _incoming(self, chat_id: int, sender: TelegramUser, **content: Any) -> int:
        """A message from a person: kept in the chat and pushed as a `message` update."""
        chat = self._chat(chat_id)
        message = self._add_message(
            chat, FakeMessage(0, chat_id, False, sender=sender.json, **content)
        )
        return self.push_update({"message": self.message_json(message)})

    def _press(
        self, chat_id: int, presser: TelegramUser, label: str, message_id: int | None
    ) -> int:
        chat = self._chat(chat_id)
        candidates = [
            m
            for m in reversed(chat.messages)
            if m.from_bot and (message_id is None or m.message_id == message_id)
        ]
        if message_id is not None and not candidates:
            raise AssertionError(f"chat {chat_id} has no bot message {message_id}")
        for message in candidates:
            for button in inline_buttons(message.reply_markup):
                if button.get("text") != label:
                    continue
                if "callback_data" not in button:
                    raise AssertionError(f"{label!r} is not a callback button: {button}")
                return self._callback(chat, presser, message, str(button["callback_data"]))
        shown = {m.message_id: m.buttons for m in candidates if m.buttons}
        raise AssertionError(
            f"no inline button {label!r} in chat {chat_id}; buttons by message id: {shown}"
        )

    def _callback(self, chat: _Chat, presser: TelegramUser, message: FakeMessage, data: str) -> int:
        query = {
            "id": str(4_000_000_000_000_000_000 + next(self._ids)),
            "from": presser.json,
            "message": self.message_json(message),
            "chat_instance": chat.instance,
            "data": data,
        }
        return self.push_update({"callback_query": query})

    async def _wait_for_reply(self, chat_id: int, after: int, seconds: float) -> FakeMessage:
        pushed = self._pushed.get(after)
        if pushed is None:
            raise AssertionError(f"update {after} was never pushed")
        if pushed.chat_id is not None and pushed.chat_id != chat_id:
            raise AssertionError(f"update {after} happened in chat {pushed.chat_id}, not {chat_id}")
        chat = self._chat(chat_id)

        def answered() -> bool:
            if pushed.callback_query_id is not None:
                query = self._queries[pushed.callback_query_id]
                changed = chat.bot_changed
                return query.answered and changed is not None and changed.changed_at > pushed.stamp
            return chat.bot_sent_at > pushed.stamp

        kind = "callback query" if pushed.callback_query_id else "message"
        await self.wait_for(answered, seconds, what=f"the bot's answer to {kind} update {after}")
        assert chat.bot_changed is not None
        return chat.bot_changed


class _ChatView:
    """What a person sees of one chat."""

    def __init__(self, tg: FakeTelegram, chat_id: int) -> None:
        self.tg = tg
        self.chat_id = chat_id

    @property
    def messages(self) -> list[FakeMessage]:
        return self.tg.chat(self.chat_id)

    @property
    def bot_messages(self) -> list[FakeMessage]:
        return [m for m in self.messages if m.from_bot]

    @property
    def last(self) -> FakeMessage:
        """The newest bot message."""
        messages = self.bot_messages
        if not messages:
            raise AssertionError(f"the bot sent nothing to chat {self.chat_id}")
        return messages[-1]

    def buttons(self, message: FakeMessage | None = None) -> list[str]:
        """The inline button labels of a bot message (the newest by default)."""
        return (message or self.last).buttons

    async def wait_for_reply(
        self,
        after: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented API
    ) -> FakeMessage:
        """Waits until the bot has answered update `after` in this chat and returns the bot
        message sent or edited most recently since then.

        A message update is answered by a new bot message; a callback query by answering the
        query and sending or editing a bot message. A bot that answers with several messages may
        still be sending when this returns: wait with `tg.wait_for` for the full set.
        """
        return await self.tg._wait_for_reply(self.chat_id, after, timeout)


class TelegramUser(_ChatView):
    """A person in a private chat with the bot (chat id == user id)."""

    def __init__(
        self,
        tg: FakeTelegram,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None,
    ) -> None:
        super().__init__(tg, user_id)
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        self.phone = "+6281234567890"  # shared by tap_keyboard on a request_contact button
        self.sent_photo: str | None = None  # the file_id of the last photo sent

    @property
    def json(self) -> JSON:
        """The User object Telegram sends for this person."""
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def callback_answers(self) -> list[JSON]:
        """The answerCallbackQuery parameters of this person's button presses, in order."""
        return [params for user_id, params in self.tg._answers if user_id == self.id]

    def send(self, text: str) -> int:
        return self.tg._incoming(self.chat_id, self, text=text, entities=_command_entities(text))

    def share_contact(self, phone: str) -> int:
        """Shares this person's own contact, as the request_contact button does."""
        return self.send_contact(phone, self.id)

    def send_contact(self, phone: str, user_id: int | None) -> int:
        """Sends a contact card: of the Telegram user `user_id` (forwarded from a chat with
        them), or of a phone-book entry that is nobody on Telegram (None)."""
        contact: JSON = {"phone_number": phone, "first_name": self.first_name}
        if user_id is not None:
            contact["user_id"] = user_id
        return self.tg._incoming(self.chat_id, self, contact=contact)

    def send_photo(self, content: bytes, caption: str | None = None) -> int:
        """Sends a photo whose largest size is `content` (Telegram re-encodes photos as JPEG;
        the fake keeps the bytes as given)."""
        sizes = self.tg._sent_photo(content)
        self.sent_photo = str(sizes[-1]["file_id"])
        return self.tg._incoming(
            self.chat_id, self, photo=sizes[-1]["file_id"], photo_sizes=sizes, text=caption
        )

    def send_document(self, content: bytes, file_name: str, mime_type: str) -> int:
        """Sends a file as a document: its name and media type are what the sender says."""
        document = self.tg._sent_document(content, file_name, mime_type)
        return self.tg._incoming(self.chat_id, self, document=document)

    def send_sticker(self) -> int:
        number = next(self.tg._ids)
        sticker = {
            "file_id": f"CAACAgIAAxkBAAI{number:06d}",
            "file_unique_id": f"AgAD{number:06d}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self.tg._incoming(self.chat_id, self, sticker=sticker)

    def press(self, label: str, message_id: int | None = None) -> int:
        """Presses the inline button `label` on a bot message (default: the newest one that has
        it) and returns the callback_query update's id."""
        return self.tg._press(self.chat_id, self, label, message_id)

    def press_data(self, data: str, message_id: int) -> int:
        """A callback query with any data from a bot message: a forged or stale press."""
        chat = self.tg._chat(self.chat_id)
        message = next((m for m in chat.messages if m.message_id == message_id), None)
        if message is None:
            raise AssertionError(f"chat {self.chat_id} has no message {message_id}")
        return self.tg._callback(chat, self, message, data)

    def tap_keyboard(self, label: str) -> int:
        """Taps a button of the reply keyboard shown now: sends its text, or the contact."""
        keyboard = self.tg._chat(self.chat_id).keyboard
        buttons = keyboard_buttons(keyboard)
        for button in buttons:
            if button.get("text") != label:
                continue
            if button.get("request_contact"):
                return self.share_contact(self.phone)
            return self.send(label)
        labels = [button.get("text") for button in buttons]
        raise AssertionError(f"no reply keyboard button {label!r}; the keyboard shows {labels}")


class Group(_ChatView):
    """A group chat; people in it write with `group.send(user, text)`."""

    def __init__(self, tg: FakeTelegram, chat_id: int, title: str) -> None:
        super().__init__(tg, chat_id)
        self.id = chat_id
        self.title = title

    def send(self, user: TelegramUser, text: str) -> int:
        return self.tg._incoming(self.chat_id, user, text=text, entities=_command_entities(text))

    def press(self, user: TelegramUser, label: str, message_id: int | None = None) -> int:
        return self.tg._press(self.chat_id, user, label, message_id)


def _command_entities(text: str) -> list[JSON]:
    """The bot_command entity Telegram adds when a text starts with a /command."""
    match = re.match(r"/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?", text)
    if match is None or (match.end() < len(text) and not text[match.end()].isspace()):
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]


class CountingTelegram(FakeTelegram):
    """The fake for load runs (benchmarks): the same server, but it keeps no calls and no
    messages, only what a million sends need — how many each chat got and when each arrived —
    so memory stays in megabytes. Any positive chat id is a private chat of someone who has
    started the bot; `sendMessage` is checked (HTML, length, markup) and answered as Telegram
    answers it. Tests that look at chats use FakeTelegram.

    `answer_after` seconds pass between a call's arrival and its answer: the Bot API's distance
    from the sender (its servers are in Europe).
    """

    def __init__(self, token: str = "123:ABC", answer_after: float = 0.0, **options: Any) -> None:
        super().__init__(token, **options)
        self.answer_after = answer_after
        # Successful sendMessage calls per chat id, and when each arrived (time.monotonic): all
        # of them, and apart the paid sends (allow_paid_broadcast) and the others.
        self.sends: Counter[int] = Counter()
        self.arrivals = array("d")
        self.paid_arrivals = array("d")
        self.free_arrivals = array("d")
        # "method status" of every call answered.
        self.answers: Counter[str] = Counter()
        # Called after each successful sendMessage with the number so far.
        self.on_send: Callable[[int], None] | None = None
        self._message_ids = itertools.count(1)

    def block(self, chat_id: int) -> None:
        """That person blocks the bot: sends to the chat answer 403 from now on."""
        self._blocked.add(chat_id)

    def _record(self, call: Call) -> None:
        pass

    async def _endpoint(self, request: Request) -> JSONResponse:
        response = await super()._endpoint(request)
        method = self._method_names.get(request.path_params["method"].lower(), "unknown")
        self.answers[f"{method} {response.status_code}"] += 1
        if self.answer_after:
            await asyncio.sleep(self.answer_after)
        return response

    async def _send_message(self, params: JSON) -> JSON:
        raw = params.get("chat_id")
        try:
            chat_id = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if chat_id <= 0:
            raise bad_request("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        text, _html, entities = self._text(params)
        markup = self._markup(params.get("reply_markup"))
        now = time.monotonic()
        self.arrivals.append(now)
        paid = params.get("allow_paid_broadcast") in (True, "true")
        (self.paid_arrivals if paid else self.free_arrivals).append(now)
        self.sends[chat_id] += 1
        body: JSON = {
            "message_id": next(self._message_ids),
            "from": self.bot_user,
            "chat": {"id": chat_id, "type": "private", "first_name": "Warga"},
            "date": int(self.clock()),
            "text": text,
        }
        if entities:
            body["entities"] = entities
        if markup and "inline_keyboard" in markup:
            body["reply_markup"] = markup
        if self.on_send is not None:
            self.on_send(len(self.arrivals))
        return body
