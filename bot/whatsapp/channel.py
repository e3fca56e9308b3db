"""The WhatsApp channel through Twilio: incoming webhooks in, every message out by the outbox.

A webhook becomes one `Incoming` for the conversation, whose replies are outbox rows written
in the same transaction (`bot.queued_replies.QueuedReplies`); the outbox sender delivers them,
and everything else for WhatsApp, at the sender's rate with a status callback per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import aiohttp
from twilio.base import values
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.attachments import media_link
from bot.delivery import NeedsTemplate, Rejected, RetryLater, Unreachable
from bot.file_links import file_url
from bot.locks import KeyedLocks
from bot.whatsapp.render import MEDIA_TYPES, PHOTO_PREFIX, Part, one_line, parts
from handlers.messages import Incoming, Reply, Upload
from handlers.notices import REPLY, queue_replies
from handlers.routes import route_payload
from handlers.texts import text
from models.chats import swap_menu
from models.media import MAX_MEDIA_BYTES, key_of, media_type_of
from models.people import WHATSAPP, canonical_identity, person_of
from models.receipts import (
    DELIVERED,
    FAILED_EVENT,
    READ,
    RETRY_AS_TEMPLATE,
    SENT_EVENT,
    UNREACHABLE_EVENT,
    Receipt,
    record_receipts,
)
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.delivery import OutboxSender
    from bot.queued_replies import QueuedReplies
    from bot.settings import WhatsappSettings
    from handlers.dispatch import Conversation
    from models.outbox import Claimed

log = logging.getLogger(__name__)

CHANNEL = WHATSAPP
WEBHOOK_PATH = "/whatsapp/webhook"
STATUS_PATH = "/whatsapp/status"
TWILIO_API = "https://api.twilio.com"
# Free-form messages only this long after the person's last message; a little less, so that a
# message queued at Twilio does not arrive just after the window closed.
WINDOW = timedelta(hours=24) - timedelta(minutes=5)
# One chat's messages are spaced this much (and sent one at a time), so they arrive in order;
# WhatsApp itself lets a business send a few messages a second to one person in a burst.
PER_CHAT_PER_S = 10.0
# How long status callbacks are gathered before they are written, in one transaction (a
# receipt whose row another transaction held is written again with the next).
RECEIPTS_GATHER_S = 0.05
# Replies queued within this long of each other are picked up by one round of the sender.
WAKE_AFTER_S = 0.005
# Twilio gives up on a webhook after 15 s; handling that takes longer goes on after the answer.
ANSWER_WITHIN_S = 10.0
REST_TIMEOUT_S = 15.0
# A photo a person sent is fetched from Twilio within this.
MEDIA_TIMEOUT_S = 30.0
# Later parts of a long message are retried in place (the first is already on the phone, and
# sending the row again would repeat it): after these pauses, then the row fails over.
PART_RETRIES_S = (0.5, 1.0, 2.0)

# Twilio error codes (https://www.twilio.com/docs/api/errors).
OUTSIDE_WINDOW = 63016
TOO_MANY_REQUESTS = 20429
# The number cannot receive WhatsApp messages: not a valid number, not on WhatsApp, opted out.
CANNOT_RECEIVE = frozenset({21211, 21610, 21614, 63003, 63024})
# Words that stop or start the Friday broadcast, as WhatsApp users know them from other
# services, and the conversation's commands for them.
KEYWORDS = {
    "STOP": "/berhenti",
    "BERHENTI": "/berhenti",
    "UNSUBSCRIBE": "/berhenti",
    "START": "/langganan",
    "LANGGANAN": "/langganan",
    # A merchant taking over their imported shop, as staff's announcements tell them to write.
    "KLAIM": "/klaim",
    "KLAIM TOKO": "/klaim",
    "CLAIM": "/claim",
}
_STATUS_EVENTS = {"sent": SENT_EVENT, "delivered": DELIVERED, "read": READ}


class TwilioUnavailable(Exception):
    """Twilio could not take the message now (5xx, a network error): the outbox tries again."""


class _OutsideWindow(Exception):
    """Twilio refused a free-form message outside the 24-hour window (63016)."""


class _RestClient(AsyncTwilioHttpClient):
    """twilio's aiohttp client, talking to `base_url` instead of api.twilio.com when set.

    It also sends the credentials as an Authorization header itself: the client passes them
    to aiohttp as `BasicAuth`, which aiohttp 3.14 deprecates with a warning on every request.
    And it encodes the posted form itself.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._base = base_url.rstrip("/")

    async def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        **kwargs: Any,
    ) -> Response:
        if self._base != TWILIO_API:
            parsed = urlsplit(url)
            url = f"{self._base}{parsed.path}" + (f"?{parsed.query}" if parsed.query else "")
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(*auth)
        if isinstance(kwargs.get("data"), Mapping):
            # As aiohttp would (a list as repeated fields): its FormData for a dict was a
            # sixth of what sending a message cost this process.
            kwargs["data"] = urlencode(kwargs["data"], doseq=True).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return await super().request(method, url, headers=headers, **kwargs)


class ReceiptWriter:
    """Writes status callbacks' receipts in batches: those that arrive while one batch is
    being written go in the next, one transaction for all. Each callback is answered once
    its receipt is committed, so none is lost; at 80 messages/s there are 160 or more of
    them a second, and a transaction each would cost more than the messages themselves."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self._waiting: list[tuple[Receipt, asyncio.Future[bool]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def write(self, receipt: Receipt) -> bool:
        """Whether the receipt changed its row's state (see models.receipts)."""
        written: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((receipt, written))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_all(), name="whatsapp-receipts")
        return await written

    async def _write_all(self) -> None:
        # Callbacks come one by one as messages go out one by one: every batch waits a moment
        # to gather them. Writing the next batch as soon as the last one committed made a
        # transaction of every one to three callbacks.
        while self._waiting:
            await asyncio.sleep(RECEIPTS_GATHER_S)
            batch, self._waiting = self._waiting, []
            try:
                async with UnitOfWork(self.conversation.sessions) as uow:
                    receipts = [receipt for receipt, _ in batch]
                    changed = await record_receipts(
                        uow.session, receipts, self.conversation.clock()
                    )
                    await uow.commit()
            except Exception as error:
                for _, written in batch:
                    if not written.done():
                        written.set_exception(error)
                continue
            for (receipt, written), did in zip(batch, changed, strict=True):
                if did is None:
                    # Its row is being recorded by the sender just now: with the next batch.
                    self._waiting.append((receipt, written))
                elif not written.done():
                    written.set_result(did)


def identity_of(sender: str, wa_id: str | None = None) -> str | None:
    """`whatsapp:+6281…` (Twilio's From, or its WaId) as jbl's identity, or None."""
    for candidate in (sender, f"+{wa_id}" if wa_id else ""):
        if candidate.startswith(f"{CHANNEL}:") or candidate.startswith("+"):
            try:
                return canonical_identity(candidate)
            except ValueError:
                continue
    return None


class WhatsappChannel:
    """Hands each WhatsApp message to the conversation; the outbox transport for WhatsApp.

    `sender` is the outbox sender that delivers this channel's rows: woken when replies were
    queued, and its pacer also spaces the extra messages of a long reply. `replies` is how the
    conversation keeps this channel's replies (`bot.bootstrap.App.whatsapp_replies`).
    """

    channel = CHANNEL

    def __init__(
        self, settings: WhatsappSettings, conversation: Conversation, replies: QueuedReplies
    ) -> None:
        if not settings.enabled:
            raise ValueError("whatsapp.account_sid, auth_token and from_number are not all set")
        assert settings.auth_token is not None and settings.public_url is not None
        self.settings = settings
        self.conversation = conversation
        self.replies = replies
        self.sender: OutboxSender | None = None
        self.answer_within_s = ANSWER_WITHIN_S
        self.public_url = settings.public_url.rstrip("/")
        # The sender's own number, that people write to (`from_number` is canonical).
        self.number = (settings.from_number or "").split(":", 1)[1]
        # Whose limits the outbox senders share across processes: the sending number's.
        self.sender_key = self.number
        self._http: _RestClient | None = None
        self._client: Client | None = None
        self._up = False
        self._handling: KeyedLocks[str] = KeyedLocks()
        self._sending: KeyedLocks[str] = KeyedLocks()
        self._tasks: set[asyncio.Task[None]] = set()
        self._receipts = ReceiptWriter(conversation)
        self._waking: asyncio.TimerHandle | None = None
        self._handing_off = False
        # Answers of 429 in a row: each doubles the pause, a success resets it.
        self._throttled = 0

    @property
    def running(self) -> bool:
        """Up and taking webhooks (for /healthz)."""
        return self._up

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the WhatsApp channel is not started")
        return self._client

    async def start(self) -> None:
        """Opens the REST client and checks the credentials with Twilio."""
        token = self.settings.auth_token
        assert token is not None
        self._http = _RestClient(self.settings.api_base_url, REST_TIMEOUT_S)
        self._client = Client(
            self.settings.account_sid, token.get_secret_value(), http_client=self._http
        )
        await self.client.api.v2010.accounts(self.settings.account_sid).fetch_async()
        self._up = True
        log.info(
            "whatsapp: %s up (webhook %s%s)",
            self.settings.from_number,
            self.public_url,
            WEBHOOK_PATH,
        )

    def attach(self, sender: OutboxSender) -> None:
        """Makes `sender` deliver this channel's rows, and take the conversation's replies as
        they commit (`QueuedReplies.hand_to`) rather than claim them after a wake."""
        self.sender = sender
        self.replies.hand_to(sender)
        self._handing_off = True

    async def stop(self) -> None:
        """Takes no more webhooks and waits for the messages still being handled."""
        self._up = False
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._handing_off:
            # The sender stops next: replies written from now on wait for a claim.
            self.replies.hand_to(None)
            self._handing_off = False

    async def close(self) -> None:
        """Closes the REST client, once the sender is done with it."""
        if self._http is not None:
            await self._http.close()
            self._http = self._client = None

    # ---- incoming ------------------------------------------------------------------------

    def incoming_of(self, form: Mapping[str, str]) -> Incoming | None:
        """The message of a webhook, or None when it names no sender or message."""
        identity = identity_of(form.get("From", ""), form.get("WaId"))
        message_id = form.get("MessageSid") or form.get("SmsMessageSid")
        if identity is None or not message_id:
            return None
        typed = form.get("Body", "")
        keyword = KEYWORDS.get(typed.strip().upper())
        # A quick reply of a template carries a payload; one that jbl does not know is taken
        # as the button's text, which the person sees they sent.
        payload = form.get("ButtonPayload") or None
        if payload is not None and route_payload(payload) is None:
            typed, payload = typed or form.get("ButtonText", ""), None
        photo = None
        if form.get("NumMedia", "0") != "0" and form.get("MediaUrl0"):
            # Any kind of file: what it is, is checked on its bytes once fetched.
            photo = f"{PHOTO_PREFIX}{form.get('MediaUrl0', '')}"
        number = identity.split(":", 1)[1]
        return Incoming(
            identity=identity,
            message_id=message_id,
            text=keyword or typed,
            payload=payload,
            display_name=form.get("ProfileName", ""),
            # Twilio tells nothing of the person's language; their number's country does.
            language_hint="id" if number.startswith("+62") else "en",
            photo=photo,
            sender_phone=number,
            bot=self.number,
        )

    async def receive(self, form: Mapping[str, str]) -> None:
        """Handles a webhook's message before the webhook is answered, unless that takes
        longer than Twilio waits: then it goes on, and its reply follows when it is done."""
        incoming = self.incoming_of(form)
        if incoming is None:
            log.warning("whatsapp: a webhook without sender or message id was ignored")
            return
        task = asyncio.create_task(self._handle(incoming), name=f"whatsapp-{incoming.message_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            await asyncio.wait_for(asyncio.shield(task), self.answer_within_s)
        except TimeoutError:
            log.warning("whatsapp %s: still being handled; answered Twilio", incoming.message_id)

    async def _handle(self, incoming: Incoming) -> None:
        # One chat's messages in the order they came; the replies are queued with them.
        apologised = False
        async with self._handling.hold(incoming.identity):
            try:
                if incoming.photo is not None:
                    upload = await self._fetch_media(incoming.photo.removeprefix(PHOTO_PREFIX))
                    incoming = replace(incoming, upload=upload)
                await self.conversation.handle(incoming)
            except Exception:
                log.exception("whatsapp %s could not be handled", incoming.message_id)
                await self._apologise(incoming)
                apologised = True
        if apologised or not self._handing_off:
            self._wake_sender_soon()

    async def _fetch_media(self, url: str) -> Upload:
        """The bytes of a file the person sent, from Twilio with the account's credentials;
        not kept past MAX_MEDIA_BYTES. The credentials go only to Twilio's own API: a media
        URL elsewhere is not fetched (aiohttp drops them on a redirect to another host, such
        as Twilio's storage)."""
        api = urlsplit(self.settings.api_base_url)
        where = urlsplit(url)
        if (where.scheme, where.netloc) != (api.scheme, api.netloc):
            log.warning("whatsapp: media not on Twilio's API was not fetched: %.100s", url)
            return Upload(0, None)
        token = self.settings.auth_token
        assert self.settings.account_sid is not None and token is not None
        auth = aiohttp.encode_basic_auth(self.settings.account_sid, token.get_secret_value())
        received = bytearray()
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=MEDIA_TIMEOUT_S)) as http,
                http.get(url, headers={"Authorization": auth}) as response,
            ):
                if response.status != 200:
                    log.warning("whatsapp: media answered %d", response.status)
                    return Upload(0, None)
                async for chunk in response.content.iter_chunked(64 * 1024):
                    received += chunk
                    if len(received) > MAX_MEDIA_BYTES:
                        return Upload(len(received), None)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("whatsapp: media not fetched (%s)", error)
            return Upload(0, None)
        return Upload(len(received), bytes(received))

    def _wake_sender_soon(self) -> None:
        """Wakes the sender for the replies just queued, once for all that come within
        WAKE_AFTER_S: a round of the sender costs two transactions, whatever it carries."""
        if self.sender is None or self._waking is not None:
            return

        def wake() -> None:
            self._waking = None
            if self.sender is not None:
                self.sender.wake()

        self._waking = asyncio.get_running_loop().call_later(WAKE_AFTER_S, wake)

    async def _apologise(self, incoming: Incoming) -> None:
        async with UnitOfWork(self.conversation.sessions) as uow:
            person = await person_of(uow.session, incoming.identity)
            if person is None:  # their first message failed: there is nobody to write to yet
                return
            sorry = Reply(text(person.language, "internal_error"))
            await queue_replies(
                uow.session, person.id, incoming.identity, [sorry], self.conversation.clock()
            )
            await uow.commit()

    async def record_status(self, row_id: int, form: Mapping[str, str]) -> None:
        """A status callback for the message of outbox row `row_id`."""
        status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        code_text = form.get("ErrorCode", "")
        # Twilio's codes are five ASCII digits; `isdigit` alone takes "²", which int() refuses,
        # and nine digits at most fit the INTEGER column.
        known = code_text.isascii() and code_text.isdigit() and len(code_text) <= 9
        code = int(code_text) if known else None
        event = _STATUS_EVENTS.get(status)
        if status in ("failed", "undelivered"):
            if code == OUTSIDE_WINDOW:
                # Sent again as the template, or counted as needing one if there is none.
                event = RETRY_AS_TEMPLATE
            elif code in CANNOT_RECEIVE:
                event = UNREACHABLE_EVENT
            else:
                event = FAILED_EVENT
        if event is None:  # queued, accepted, sending, scheduled: nothing to record
            return
        receipt = Receipt(
            row_id,
            CHANNEL,
            event,
            form.get("MessageSid"),
            code,
            f"{status} {code}: {form.get('ErrorMessage', '')}".strip(),
        )
        changed = await self._receipts.write(receipt)
        if changed and event == RETRY_AS_TEMPLATE and self.sender is not None:
            self.sender.wake()

    # ---- outgoing ------------------------------------------------------------------------

    async def deliver(self, identity: str, replies: Sequence[Reply]) -> None:
        raise NotImplementedError("WhatsApp delivers outbox rows with deliver_row")

    async def deliver_row(self, claimed: Claimed, replies: Sequence[Reply]) -> None:
        """Outbox transport: the row's replies as free-form messages inside the 24-hour
        window, else as the approved template of its kind; each with a status callback."""
        message = claimed.message
        to = message.identity or ""
        replies = [await self._with_media_link(reply) for reply in replies]
        async with self._sending.hold(to):
            if self._outside_window(claimed):
                await self._send_template(claimed, replies)
                return
            pieces = [
                part
                for reply in replies
                for part in parts(reply, claimed.language, self._file_url(reply))
            ]
            # A reply's menu is the chat's already (the conversation saved it); a notice's
            # becomes it, from before it can be read.
            async with self._offering(to, () if message.kind == REPLY else replies):
                for index, part in enumerate(pieces):
                    if index:
                        await self._pace(to)
                    try:
                        await self._create(to, message.id, part=part, in_place=index > 0)
                    except _OutsideWindow:
                        if index:
                            raise Rejected("the 24-hour window closed in a long message") from None
                        await self._send_template(claimed, replies)
                        return

    async def _with_media_link(self, reply: Reply) -> Reply:
        """The reply with its stored photo (`media:<key>`) as a link Twilio fetches; a
        picture WhatsApp does not show as media (WebP) or a PDF goes as the link in the text."""
        key = key_of(reply.photo_url)
        if key is None:
            return reply
        link = await media_link(self.conversation, self.public_url, key)
        if media_type_of(key) in MEDIA_TYPES:
            return replace(reply, photo_url=link)
        return replace(reply, text=f"{reply.text}\n\n{link}", photo_url=None)

    def _file_url(self, reply: Reply) -> str | None:
        """Where Twilio, or the person, fetches the reply's file (`bot.file_links`)."""
        if reply.attachment is None:
            return None
        return file_url(self.public_url, reply.attachment)

    def _outside_window(self, claimed: Claimed) -> bool:
        if claimed.message.error_code == OUTSIDE_WINDOW:
            return True  # Twilio said so of this row's message
        seen = claimed.last_seen_at
        return seen is None or self.conversation.clock() - seen >= WINDOW

    async def _send_template(self, claimed: Claimed, replies: Sequence[Reply]) -> None:
        message = claimed.message
        broadcast = message.kind.startswith("broadcast")
        content_sid = (
            self.settings.broadcast_content_sid if broadcast else self.settings.notice_content_sid
        )
        if content_sid is None:
            setting = "broadcast_content_sid" if broadcast else "notice_content_sid"
            raise NeedsTemplate(f"outside WhatsApp's 24-hour window and no whatsapp.{setting}")
        said = " · ".join(
            one_line(reply, claimed.language, self._file_url(reply)) for reply in replies
        )
        variables = json.dumps({"1": said}, ensure_ascii=False)
        # The line ends with the numbered menu: a number typed in answer chooses from it.
        async with self._offering(message.identity or "", replies):
            try:
                await self._create(
                    message.identity or "", message.id, content=(content_sid, variables)
                )
            except _OutsideWindow as error:
                refused = f"{OUTSIDE_WINDOW}: the template {content_sid} was refused"
                raise Rejected(refused) from error

    async def _create(
        self,
        to: str,
        row_id: int,
        *,
        part: Part | None = None,
        content: tuple[str, str] | None = None,
        in_place: bool = False,
    ) -> str:
        """Creates one message; returns its SID. Raises what the outbox understands."""
        if self.sender is not None:
            await self.sender.on_the_wire()
        arguments: dict[str, Any] = {
            "to": to,
            "from_": self.settings.from_number,
            "status_callback": f"{self.public_url}{STATUS_PATH}?row={row_id}",
        }
        if part is not None:
            arguments["body"] = part.body
            arguments["media_url"] = [part.media_url] if part.media_url else values.unset
        if content is not None:
            arguments["content_sid"], arguments["content_variables"] = content
        pauses = list(PART_RETRIES_S) if in_place else []
        while True:
            try:
                created = await self.client.messages.create_async(**arguments)
            except TwilioRestException as error:
                failure = self._translate(error)
            except (aiohttp.ClientError, TimeoutError) as error:
                failure = TwilioUnavailable(f"{type(error).__name__}: {error}")
            else:
                self._throttled = 0
                return str(created.sid)
            if not pauses or not isinstance(failure, RetryLater | TwilioUnavailable):
                raise failure
            await asyncio.sleep(pauses.pop(0))

    def _translate(self, error: TwilioRestException) -> Exception:
        reason = f"{error.code}: {error.msg}"
        if error.status == 429 or error.code == TOO_MANY_REQUESTS:
            self._throttled += 1
            return RetryLater(min(30.0, 2.0 ** (self._throttled - 1)))
        if error.status >= 500 or error.status in (401, 403):
            # Twilio's trouble, or credentials changed under a running jbl: worth another go.
            return TwilioUnavailable(f"twilio {error.status}: {reason}")
        if error.code == OUTSIDE_WINDOW:
            return _OutsideWindow(reason)
        if error.code in CANNOT_RECEIVE:
            return Unreachable(reason)
        return Rejected(reason)

    async def _pace(self, to: str) -> None:
        """Waits for the sender's next turn, for a message beyond a row's first."""
        if self.sender is not None:
            await self.sender.next_part(to)

    @contextlib.asynccontextmanager
    async def _offering(self, identity: str, replies: Sequence[Reply]) -> AsyncIterator[None]:
        """The last reply's buttons are the chat's menu while it is sent and after, so that
        "1" accepts the new order the moment the merchant reads it; if it is not sent after
        all, the menu before it is back (unless the person has since seen another)."""
        menu = next((r for r in reversed(replies) if r.buttons), None)
        if menu is None:
            yield
            return
        offered = ([b.payload for b in menu.buttons], [b.label for b in menu.buttons])
        before = await self._swap_menu(identity, offered, None)
        try:
            yield
        except BaseException:
            await self._swap_menu(identity, before, offered)
            raise

    async def _swap_menu(
        self,
        identity: str,
        menu: tuple[list[str], list[str]],
        only_if: tuple[list[str], list[str]] | None,
    ) -> tuple[list[str], list[str]]:
        """Makes `menu` the chat's (if it still shows `only_if`); returns the one it had."""
        async with UnitOfWork(self.conversation.sessions) as uow:
            had = await swap_menu(uow.session, identity, menu, only_if, self.conversation.clock())
            await uow.commit()
        return had
