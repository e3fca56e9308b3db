"""The Telegram channel: updates in (long polling or webhook), replies and outbox rows out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import MutableMapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import Bot, BotCommand, CallbackQuery, InputFile, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.request import RequestData

# PTB builds its requests' parameters with this; python-telegram-bot is pinned for it.
from telegram.request._requestparameter import RequestParameter

from bot.attachments import open_attachment, size_text
from bot.delivery import Limits, PaidRefused, Rejected, RetryLater, Unreachable
from bot.locks import KeyedLocks
from bot.settings import TelegramSettings
from bot.telegram.render import PHOTO_PREFIX, Outgoing, as_text, outgoing
from bot.telegram.request import JsonRequest
from handlers.dispatch import Conversation
from handlers.messages import PHOTO, Attachment, Incoming, Reply, Upload
from handlers.routes import COMMAND_MENU
from handlers.texts import language_of, text
from models.bot_setup import digest_of, last_set, lock_setup, record_set
from models.leader import Leadership, Sole, leadership
from models.media import MAX_MEDIA_BYTES, PDF, key_of, media_type_of
from models.people import person_of
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

CHANNEL = "telegram"
REMEMBERED_CHATS = 50_000
REMEMBERED_UPLOADS = 10_000
# Long polling: how long one getUpdates waits for news.
POLL_SECONDS = 30
# Requests to the Bot API at once (replies and outbox sends); PTB's `Bot` alone keeps one.
CONNECTIONS = 64
# How often a process standing by asks whether it may poll now: another takes over within
# about this long of the poller's end.
STANDBY_SECONDS = 1.5
# Only these reach the bot; channel posts, edits, inline queries and the rest are not asked for.
ALLOWED_UPDATES = ["message", "callback_query"]
# Bad requests that mean the chat itself is gone, not that this message was wrong.
_GONE = ("chat not found", "user is deactivated", "bot was kicked", "peer_id_invalid")
# A paid send the bot's Stars do not cover: "Bad Request: BALANCE_TOO_LOW" (MTProto's error,
# passed through; python-telegram-bot gives it as "Balance_too_low").
BALANCE_TOO_LOW = "balance_too_low"
# Bad requests that mean the photo, not the message, is the problem.
_BAD_PHOTO = ("wrong file identifier", "failed to get http url content", "wrong type of the web")
# The Bot API's limits for an uploaded photo and document.
PHOTO_LIMIT = 10 * 1024 * 1024
DOCUMENT_LIMIT = 50 * 1024 * 1024


def connections(settings: TelegramSettings) -> int:
    """Requests to the Bot API at once: `CONNECTIONS`, and with paid broadcast on as many
    more as its sender keeps in flight at the paid rate."""
    if not settings.paid_broadcast:
        return CONNECTIONS
    return CONNECTIONS + Limits(settings.paid_rate_per_s, settings.per_chat_per_s).in_flight


def use_timedelta_periods(environ: MutableMapping[str, str]) -> None:
    """Opts python-telegram-bot in to its coming time periods as timedeltas, in the process's
    environment, where it reads the choice at use: otherwise every flood-control answer
    (`RetryAfter`) raises a deprecation warning as it is built. Set once, at start."""
    environ.setdefault("PTB_TIMEDELTA", "true")


def file_base_url(api_base_url: str) -> str:
    """Where the Bot API serves files, beside its methods: `…/bot` → `…/file/bot`."""
    base = api_base_url.rstrip("/")
    return f"{base.removesuffix('/bot')}/file/bot"


def identity_of(user_id: int) -> str:
    return f"{CHANNEL}:{user_id}"


def chat_id_of(identity: str) -> int:
    return int(identity.split(":", 1)[1])


class TelegramChannel:
    """Hands each private message and button press to the conversation, and sends replies.

    Also the outbox transport for Telegram (`deliver`).
    """

    channel = CHANNEL

    def __init__(
        self,
        settings: TelegramSettings,
        conversation: Conversation,
        engine: AsyncEngine | None = None,
    ) -> None:
        """With `engine`, the processes on its database elect the one that polls, and set
        the webhook and the command menus once between them."""
        if settings.token is None:
            raise ValueError("telegram.token is not set")
        self.settings = settings
        self.conversation = conversation
        self.webhook = settings.webhook_url is not None
        self._http = JsonRequest(connections(settings))
        self.bot = Bot(
            settings.token.get_secret_value(),
            base_url=settings.api_base_url,
            base_file_url=file_base_url(settings.api_base_url),
            request=self._http,
            get_updates_request=JsonRequest(1),
        )
        # The bot's user id, the token's number: update ids are counted per bot.
        self.bot_id = settings.token.get_secret_value().split(":", 1)[0]
        # Whose limits the outbox senders share across processes: the bot's.
        self.sender_key = self.bot_id
        self._setup_key = f"{CHANNEL}:{self.bot_id}"
        self._leadership: Leadership = (
            Sole() if engine is None else leadership(engine, f"telegram polling {self.bot_id}")
        )
        self.username = ""
        self._polling: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._up = False
        self._chat_locks: KeyedLocks[int] = KeyedLocks()
        # Polled updates whose replies are still being sent after their handling committed.
        self._replying: set[asyncio.Task[None]] = set()
        # The newest message this process sent to each chat, if it is a menu: a press on it
        # edits it in place. A notice (a new order) is never the newest menu, so its details
        # stay in the chat. Only recent chats are remembered; an older one gets a new message.
        self._last_menu: dict[int, int | None] = {}
        # The file id Telegram gave a photo jbl keeps when it was first uploaded (media key ->
        # file id): a broadcast of it then sends the id, not the bytes, to every chat.
        self._uploaded: dict[str, str] = {}

    @property
    def running(self) -> bool:
        """Up and taking updates (for /healthz)."""
        polling = self._polling is None or not self._polling.done()
        return self._up and polling and not self._stopping.is_set()

    async def start(self) -> None:
        await self.bot.initialize()
        self.username = self.bot.username
        await self._set_up("commands", self._command_menus(), self._set_commands)
        if self.webhook:
            await self._set_up("webhook", self._webhook(), self._set_webhook)
        else:
            # Chosen at once, this process deletes the webhook before it counts as up, as
            # a lone process always has.
            leading = await self._leadership.take()
            if leading:
                await self._lead()
            self._polling = asyncio.create_task(self._poll(leading), name="telegram-polling")
        self._up = True
        log.info("telegram: @%s up (%s)", self.username, "webhook" if self.webhook else "polling")

    async def stop(self) -> None:
        """Stops fetching after the updates already fetched are handled, then closes."""
        self._stopping.set()
        if self._polling is not None:
            await self._polling
        if self._replying:
            await asyncio.wait(self._replying)
        self._up = False
        await self._leadership.close()
        await self.bot.shutdown()

    async def process(self, data: dict[str, Any]) -> bool:
        """One update that came by webhook, handled before the webhook is answered; False if
        the JSON is no update python-telegram-bot can read (logged in one line).

        An update that breaks jbl is logged and answered as taken, as in polling: Telegram
        would otherwise deliver it again and again.
        """
        try:
            update = Update.de_json(data, self.bot)
        except Exception as error:
            log.warning("telegram update %s is not an update: %.200r", data.get("update_id"), error)
            return False
        try:
            await self._on_update(update)
        except Exception:
            log.exception("telegram update %s failed", data.get("update_id"))
        return True

    async def _lead(self) -> None:
        log.info("telegram: polling (this process was chosen to)")
        await self._delete_webhook()

    async def _poll(self, leading: bool) -> None:
        """Polls while this process is the one chosen to; stands by while another is.
        `leading`: chosen already, and the webhook deleted."""
        standing_by = False
        while not self._stopping.is_set():
            if not leading and not await self._leadership.take():
                if not standing_by:
                    log.info("telegram: standing by: another process polls")
                    standing_by = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), STANDBY_SECONDS)
                continue
            standing_by = False
            try:
                if not leading:
                    await self._lead()
                leading = False
                await self._poll_while_leading()
            except Exception as error:  # Telegram or the database away: later
                log.warning("telegram: cannot poll (%s); trying again", error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), STANDBY_SECONDS)
            finally:
                await self._leadership.give_up()

    async def _poll_while_leading(self) -> None:
        """Long polling that confirms a batch only once its handling has committed.

        Telegram forgets updates below the offset asked for next, so a crash before the
        commits fetches the batch again, and the update ids already handled are skipped by the
        conversation: nothing is lost, nothing is handled twice. The replies of a committed
        batch are sent while the next getUpdates waits, so the next message is not held up
        behind a round trip to Telegram; a crash while sending loses only those replies, as it
        would after they were confirmed.
        """
        # Once the lead is lost another process may poll: this one stops at once.
        losing = asyncio.ensure_future(self._leadership.lost())
        try:
            await self._poll_until(losing)
        finally:
            losing.cancel()

    async def _poll_until(self, losing: asyncio.Future[None]) -> None:
        offset: int | None = None
        failures = 0
        while not self._stopping.is_set() and not losing.done():
            fetching = asyncio.ensure_future(
                self.bot.get_updates(
                    offset=offset, timeout=POLL_SECONDS, allowed_updates=ALLOWED_UPDATES
                )
            )
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait([fetching, stopping, losing], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetching.done():
                # Stopped while waiting: whatever that request would bring is not confirmed.
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await fetching
                break
            try:
                updates = fetching.result()
            except TelegramError as error:
                failures += 1
                delay = _seconds(error.retry_after) if isinstance(error, RetryAfter) else None
                delay = delay or min(30.0, 2.0**failures)
                log.warning("telegram: getUpdates failed (%s); again in %.0f s", error, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            failures = 0
            if updates:
                await self._take(updates)
                offset = updates[-1].update_id + 1
        if losing.done():
            # Not confirmed: the process polling now fetches the batch again, and what was
            # handled here is recognised there.
            log.warning("telegram: lost the database lock that chooses the poller; stopped polling")
            return
        if offset is not None:
            # Confirms the last batch now, so the next start does not fetch it again.
            with contextlib.suppress(TelegramError):
                await self.bot.get_updates(offset=offset, timeout=0, limit=1)

    async def _take(self, updates: Sequence[Update]) -> None:
        """Handles a batch and returns once every update in it has committed (or failed);
        their replies go on being sent. One chat's updates stay in order (`_chat_locks`),
        other chats run alongside."""
        committed = []
        for update in updates:
            handled = asyncio.Event()
            task = asyncio.create_task(self._polled(update, handled))
            self._replying.add(task)
            task.add_done_callback(self._replying.discard)
            committed.append(asyncio.ensure_future(handled.wait()))
        await asyncio.wait(committed)

    async def _polled(self, update: Update, handled: asyncio.Event) -> None:
        try:
            await self._on_update(update, handled)
        except Exception:
            # Not fetched again: an update that breaks jbl would break it forever.
            log.exception("telegram update %s failed", update.update_id)
        finally:
            handled.set()

    # ---- set once at the platform ----------------------------------------------------------

    async def _set_up(
        self, item: str, setting: object, apply: Callable[[], Awaitable[object]]
    ) -> None:
        """Applies a setting at Telegram unless it is what was last applied there, as the
        database remembers; processes starting together take turns, so the first applies it
        and the others find it done."""
        digest = digest_of(setting)
        async with UnitOfWork(self.conversation.sessions) as uow:
            await lock_setup(uow.session, self._setup_key)
            if await last_set(uow.session, self._setup_key, item) == digest:
                return
            await apply()
            await record_set(uow.session, self._setup_key, item, digest, self.conversation.clock())
            await uow.commit()

    def _webhook(self) -> dict[str, Any]:
        secret = self.settings.secret_token
        return {
            "url": self.settings.webhook_url,
            "secret_token": secret.get_secret_value() if secret else None,
            "allowed_updates": ALLOWED_UPDATES,
        }

    async def _set_webhook(self) -> None:
        await self.bot.set_webhook(**self._webhook())

    async def _delete_webhook(self) -> None:
        """Done by the poller each time it takes over, and remembered, so that a webhook
        configured again later is set again."""
        await self.bot.delete_webhook()
        await self._set_up("webhook", None, _nothing)

    def _command_menus(self) -> dict[str, list[tuple[str, str]]]:
        """The menus by language, "" for the default one (no language given)."""
        menus = {
            language: [(name, text(language, key)) for name, key in commands]
            for language, commands in COMMAND_MENU.items()
        }
        menus[""] = menus[self.conversation.config.default_language]
        return menus

    async def _set_commands(self) -> None:
        for language, menu in self._command_menus().items():
            commands = [BotCommand(name, description) for name, description in menu]
            await self.bot.set_my_commands(commands, language_code=language or None)

    # ---- incoming ------------------------------------------------------------------------

    async def _on_update(self, update: Update, handled: asyncio.Event | None = None) -> None:
        """`handled` is set once the update's handling has committed, before the replies."""
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None or user.is_bot:
            return
        if update.message is None and update.callback_query is None:
            return
        if chat.type != ChatType.PRIVATE:
            await self._point_to_private_chat(update)
            return
        async with self._chat_locks.hold(chat.id):
            await self._handle(update, handled)

    async def _handle(self, update: Update, handled: asyncio.Event | None) -> None:
        user = update.effective_user
        assert user is not None
        query = update.callback_query
        message = update.message
        contact = message.contact if message is not None else None
        # Telegram shares a contact of the person's own account with their user id; a
        # contact of anyone else (forwarded, typed in) has another id or none.
        own = contact is not None and contact.user_id == user.id
        incoming = Incoming(
            identity=identity_of(user.id),
            message_id=str(update.update_id),
            text=message.text if message is not None else None,
            payload=query.data if query is not None else None,
            display_name=user.full_name,
            language_hint=user.language_code,
            shared_phone=contact.phone_number if contact is not None else None,
            sender_phone=contact.phone_number if own and contact is not None else None,
            photo=_photo_of(message),
            upload=await self._upload_of(message),
            bot=self.bot_id,
        )
        try:
            replies = await self.conversation.handle(incoming)
        except Exception:
            log.exception("telegram update %s could not be handled", update.update_id)
            language = language_of(user.language_code, self.conversation.config.default_language)
            replies = [Reply(text(language, "internal_error"))]
        if handled is not None:
            handled.set()
        try:
            if query is None:
                await self._send_replies(user.id, replies, None)
                return
            pressed = query.message if isinstance(query.message, Message) else None
            toast = next((r.toast for r in replies if r.toast), None)
            # The spinner on the button and the new menu are independent: both at once.
            await asyncio.gather(
                self._answer(query, toast), self._send_replies(user.id, replies, pressed)
            )
        except TelegramError as error:
            # Handled and committed; only telling the person failed (e.g. they blocked the
            # bot meanwhile). Nothing to undo, and the update must not be fetched again.
            log.warning("telegram update %s: reply not delivered: %s", update.update_id, error)

    async def _upload_of(self, message: Message | None) -> Upload | None:
        """The bytes of the photo (its largest size) or document the person sent, fetched
        with getFile; not fetched when Telegram says it is over jbl's limit."""
        sent = _file_of(message)
        if sent is None:
            return None
        file_id, size = sent
        if size > MAX_MEDIA_BYTES:
            return Upload(size, None)
        try:
            file = await self.bot.get_file(file_id)
            if (file.file_size or 0) > MAX_MEDIA_BYTES:
                return Upload(file.file_size or 0, None)
            content = bytes(await file.download_as_bytearray())
        except TelegramError as error:
            log.warning("telegram: file %s not fetched (%s)", file_id, error)
            return Upload(size, None)
        return Upload(len(content), content)

    async def _answer(self, query: CallbackQuery, toast: str | None) -> None:
        with contextlib.suppress(BadRequest):  # too old to answer: the replies still go
            await query.answer(toast)

    async def _point_to_private_chat(self, update: Update) -> None:
        message = update.message
        user = update.effective_user
        if message is None or user is None or not (message.text or "").startswith("/"):
            return  # only commands addressed to the bot get the pointer
        language = language_of(user.language_code, self.conversation.config.default_language)
        link = f"https://t.me/{self.username}"
        with contextlib.suppress(TelegramError):
            await message.reply_text(text(language, "group_pointer", link=link))

    # ---- outgoing ------------------------------------------------------------------------

    async def _send_replies(
        self, chat_id: int, replies: Sequence[Reply], pressed: Message | None
    ) -> None:
        for index, reply in enumerate(replies):
            message = outgoing(reply)
            if index == 0 and pressed is not None and await self._edit(pressed, message):
                continue
            self._remember(chat_id, await self._send(chat_id, message, reply))

    def _remember(self, chat_id: int, menu_id: int | None) -> None:
        self._last_menu.pop(chat_id, None)
        self._last_menu[chat_id] = menu_id
        if len(self._last_menu) > REMEMBERED_CHATS:
            del self._last_menu[next(iter(self._last_menu))]

    async def _edit(self, pressed: Message, message: Outgoing) -> bool:
        """Replaces the pressed menu with the first reply when that reads naturally: the
        pressed message is the newest, and both are text with inline buttons."""
        chat_id = pressed.chat.id
        if (
            self._last_menu.get(chat_id) != pressed.message_id
            or pressed.photo
            or message.photo
            or message.attachment
            or not message.inline
        ):
            return False
        try:
            await self._call(
                "editMessageText",
                chat_id=chat_id,
                message_id=pressed.message_id,
                text=message.html,
                parse_mode=ParseMode.HTML,
                reply_markup=message.keyboard.json if message.keyboard else None,
            )
        except BadRequest as error:
            return "not modified" in error.message.lower()
        return True

    async def _send(
        self, chat_id: int, message: Outgoing, reply: Reply, paid: bool | None = None
    ) -> int:
        """Sends one message; returns its message id. `paid`: as Telegram's paid broadcast."""
        markup = message.keyboard.json if message.keyboard else None
        if message.attachment is not None and message.attachment.size > DOCUMENT_LIMIT:
            # More than Telegram takes from a bot: the text goes, and says what did not.
            message = as_text(message, reply, await self._too_large(chat_id, message.attachment))
        elif message.attachment is not None:
            sent_id = await self._send_attachment(chat_id, message, markup, paid)
            if sent_id is not None:
                return sent_id
            message = as_text(message, reply)
        photo: str | InputFile | None = message.photo
        key = key_of(message.photo)
        if key is not None:
            # Kept by jbl: Telegram gets the bytes once, then the file id it gave them.
            photo = self._uploaded.get(key) or await self._stored_photo(key)
        if message.photo is not None and photo is None:
            log.warning("telegram: photo %s is not in the store; text instead", message.photo)
            message = as_text(message, reply)
        if message.photo is not None:
            # A kept PDF (a bank's receipt sent as proof) is no photo: it goes as a document.
            pdf = key is not None and media_type_of(key) == PDF
            method, field = ("sendDocument", "document") if pdf else ("sendPhoto", "photo")
            try:
                sent = await self._call(
                    method,
                    chat_id=chat_id,
                    **{field: photo},
                    caption=message.html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    allow_paid_broadcast=paid,
                )
                if key is not None:
                    self._remember_upload(key, sent)
                return int(sent["message_id"])
            except BadRequest as error:
                if key is not None:
                    self._uploaded.pop(key, None)
                if not any(part in error.message.lower() for part in _BAD_PHOTO):
                    raise
                log.warning("telegram: photo %s not sent (%s); text instead", message.photo, error)
                message = as_text(message, reply)
        sent = await self._call(
            "sendMessage",
            chat_id=chat_id,
            text=message.html,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            allow_paid_broadcast=paid,
        )
        return int(sent["message_id"])

    async def _send_attachment(
        self, chat_id: int, message: Outgoing, markup: str | None, paid: bool | None
    ) -> int | None:
        """Uploads the reply's file, with its text as caption or before it, and the buttons
        under it; None when the file has expired (the text goes alone)."""
        attachment = message.attachment
        assert attachment is not None
        file = await open_attachment(self.conversation, attachment)
        if file is None:
            log.warning("telegram: file %s has expired; text only", attachment.name)
            return None
        size = len(file.content)
        upload = InputFile(file.content, filename=file.name)
        upload.mimetype = file.media_type
        # A photo over Telegram's 10 MB still reaches the person, as a document.
        as_photo = attachment.kind == PHOTO and size <= PHOTO_LIMIT
        method, field = ("sendPhoto", "photo") if as_photo else ("sendDocument", "document")
        caption = message.html
        if message.text_first:
            await self._call(
                "sendMessage",
                chat_id=chat_id,
                text=message.html,
                parse_mode=ParseMode.HTML,
                allow_paid_broadcast=paid,
            )
            caption = None
        sent = await self._call(
            method,
            chat_id=chat_id,
            caption=caption,
            parse_mode=ParseMode.HTML if caption else None,
            reply_markup=markup,
            allow_paid_broadcast=paid,
            **{field: upload},
        )
        return int(sent["message_id"])

    def _remember_upload(self, key: str, sent: dict[str, Any]) -> None:
        # Only a photo's: a PDF is uploaded each time, as documents are rare.
        sizes = sent.get("photo") or []
        if not sizes or key in self._uploaded:
            return
        self._uploaded[key] = str(sizes[-1]["file_id"])
        if len(self._uploaded) > REMEMBERED_UPLOADS:
            del self._uploaded[next(iter(self._uploaded))]

    async def _stored_photo(self, key: str) -> InputFile | None:
        content = await self.conversation.media.load(key)
        if content is None:
            return None
        upload = InputFile(content, filename=key)
        upload.mimetype = media_type_of(key)
        return upload

    async def _too_large(self, chat_id: int, attachment: Attachment) -> str:
        """The line, in the person's language, that stands for a file Telegram would refuse."""
        log.warning(
            "telegram: file %s is %d bytes, over 50 MB; text only", attachment.name, attachment.size
        )
        async with UnitOfWork(self.conversation.sessions) as uow:
            person = await person_of(uow.session, identity_of(chat_id))
        language = person.language if person else self.conversation.config.default_language
        size = size_text(attachment.size)
        return text(language, "file_too_large", name=attachment.name, size=size)

    async def _call(self, method: str, **params: object) -> Any:
        """One Bot API call through python-telegram-bot's HTTP layer, which turns Telegram's
        errors into its exceptions. The answer stays JSON: building PTB's `Message` from it
        cost as much as the rest of the send, and jbl reads only the message id."""
        data = RequestData(
            [RequestParameter.from_input(k, v) for k, v in params.items() if v is not None]
        )
        return await self._http.post(f"{self.bot.base_url}/{method}", data)

    async def deliver(self, identity: str, replies: Sequence[Reply], paid: bool = False) -> None:
        """Outbox transport: sends rendered rows, translating Telegram's answers. `paid`: as
        Telegram's paid broadcast (`PaidBroadcast`)."""
        chat_id = chat_id_of(identity)
        try:
            for reply in replies:
                await self._send(chat_id, outgoing(reply), reply, paid or None)
                self._remember(chat_id, None)
        except RetryAfter as error:
            raise RetryLater(_seconds(error.retry_after)) from error
        except Forbidden as error:
            raise Unreachable(error.message) from error
        except BadRequest as error:
            said = error.message.lower()
            if paid and BALANCE_TOO_LOW in said:
                raise PaidRefused(error.message) from error
            if any(part in said for part in _GONE):
                raise Unreachable(error.message) from error
            raise Rejected(error.message) from error


class PaidBroadcast:
    """The channel as the paid broadcast's transport: every send carries
    allow_paid_broadcast. Its senders share the paid rate among themselves, apart from the
    free rate of the channel's other sends."""

    def __init__(self, telegram: TelegramChannel) -> None:
        self.telegram = telegram
        self.channel = telegram.channel
        self.sender_key = f"{telegram.sender_key}:paid"

    async def deliver(self, identity: str, replies: Sequence[Reply]) -> None:
        await self.telegram.deliver(identity, replies, paid=True)


async def _nothing() -> None:
    return None


def _photo_of(message: Message | None) -> str | None:
    """The largest size of a photo, or the document, the person sent, as Telegram's
    reference to it."""
    sent = _file_of(message)
    return None if sent is None else f"{PHOTO_PREFIX}{sent[0]}"


def _file_of(message: Message | None) -> tuple[str, int] | None:
    """The file id and size (as Telegram says) of the photo or document the person sent."""
    if message is None:
        return None
    if message.photo:
        return message.photo[-1].file_id, message.photo[-1].file_size or 0
    if message.document is not None:
        return message.document.file_id, message.document.file_size or 0
    return None


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
