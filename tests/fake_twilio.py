"""A fake Twilio for tests: its REST API for WhatsApp messages, and the people on WhatsApp.

It speaks Twilio's REST API over HTTP on 127.0.0.1 (Messages create, Account fetch), so the
real `twilio` client runs against it unchanged, and it plays Twilio's side of the webhooks:
a person's message is posted to the app's incoming-message webhook, and every message the app
creates gets status callbacks (sent, delivered, read when the person reads it, or failed and
undelivered with an error code), each signed with `X-Twilio-Signature` as Twilio signs them,
over the *public* URL, while the request itself goes to the app on 127.0.0.1 (as a proxy in
front of the app would pass it on). Tests drive people and wait on what the app does:

    async with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, "whatsapp:+622150001000") as twilio:
        twilio.connect(app_url="http://127.0.0.1:8080", public_url="https://jbl.example.go.id")
        budi = twilio.user("+6281234567890", "Budi")
        reply = await budi.say("halo")

Faithful where it matters to the app: the JSON shapes of a created message and of an error,
Basic authentication, the checks Twilio makes on To, From, Body (1,600 characters at most),
MediaUrl and ContentSid/ContentVariables, WhatsApp's 24-hour window (a free-form message to
someone who has not written in 24 hours fails asynchronously with 63016; a template goes),
and injectable errors: an HTTP error for the next creates (429, 5xx, or a 400 with any code),
or an asynchronous failure of the next messages to a number (63016, 63024, …). How WhatsApp
shows a message is modelled too: *bold*, _italic_ and ~strike~ spans where the markers touch
the text, so `visible` is what a person reads. Not modelled: SMS, Messaging Services,
scheduling, media fetching, the Conversations API.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
from multidict import MultiDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from tests.fake_telegram import LocalServer

JSON = dict[str, Any]
API = "/2010-04-01"
BODY_LIMIT = 1600
WINDOW = timedelta(hours=24)
ZERO_WIDTH_SPACE = "\u200b"
MARKERS = {"*": "bold", "_": "italic", "~": "strike"}
# Twilio's error codes the fake answers with (https://www.twilio.com/docs/api/errors).
AUTHENTICATE = 20003
NOT_FOUND = 20404
TOO_MANY_REQUESTS = 20429
BODY_REQUIRED = 21602
TO_REQUIRED = 21604
INVALID_TO = 21211
INVALID_CALLBACK = 21609
BODY_TOO_LONG = 21617
INVALID_MEDIA = 21620
INVALID_CONTENT = 21655
INVALID_VARIABLES = 21656
NO_SENDER = 63007
OUTSIDE_WINDOW = 63016
# Twilio could not download the media of the message.
MEDIA_DOWNLOAD_FAILED = 63019
INVALID_RECIPIENT = 63024


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def twilio_error(status: int, code: int, message: str) -> JSONResponse:
    """An error answer as Twilio's REST API gives it."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status)


def visible(body: str) -> tuple[str, dict[str, list[str]]]:
    """What WhatsApp shows of a body: the text without the markers of the spans it formats,
    and those spans by format. A span is `*text*` with the markers touching visible text on
    their inner side and no letter or digit on their outer side; a zero-width space is not
    visible text, so a marker escaped with one stays a plain character."""
    formatted: dict[str, list[str]] = {name: [] for name in MARKERS.values()}
    hidden: set[int] = set()
    for line_start, line in _lines(body):
        for marker, name in MARKERS.items():
            position = 0
            while True:
                start = line.find(marker, position)
                if start < 0:
                    break
                end = _closing(line, start, marker)
                if end is None:
                    position = start + 1
                    continue
                formatted[name].append(line[start + 1 : end].replace(ZERO_WIDTH_SPACE, ""))
                hidden.update((line_start + start, line_start + end))
                position = end + 1
    shown = "".join(c for i, c in enumerate(body) if i not in hidden and c != ZERO_WIDTH_SPACE)
    return shown, formatted


def _lines(body: str) -> list[tuple[int, str]]:
    lines, start = [], 0
    for line in body.split("\n"):
        lines.append((start, line))
        start += len(line) + 1
    return lines


def _closing(line: str, start: int, marker: str) -> int | None:
    def plain(char: str) -> bool:
        return not char.isspace() and char != ZERO_WIDTH_SPACE

    before = line[start - 1] if start else " "
    after = line[start + 1] if start + 1 < len(line) else " "
    if before.isalnum() or before == ZERO_WIDTH_SPACE or not plain(after) or after == marker:
        return None
    end = line.find(marker, start + 2)
    while end >= 0:
        inside, outside = line[end - 1], line[end + 1] if end + 1 < len(line) else " "
        if plain(inside) and not outside.isalnum() and outside != ZERO_WIDTH_SPACE:
            return end
        end = line.find(marker, end + 1)
    return None


@dataclass(frozen=True)
class Template:
    """An approved Content template: its text with {{1}}, {{2}} … placeholders."""

    text: str

    def fill(self, variables: dict[str, str]) -> str:
        said = self.text
        for key, value in variables.items():
            said = said.replace("{{" + key + "}}", value)
        return said


@dataclass
class Call:
    """One REST request as the fake received it, with the status it answered."""

    method: str
    path: str
    params: dict[str, str]
    status: int = 0


@dataclass(frozen=True)
class Fetched:
    """A media URL as Twilio fetched it from the app before sending the message."""

    url: str
    status: int
    content_type: str
    disposition: str
    size: int
    content: bytes = field(default=b"", repr=False)


@dataclass(eq=False)
class Message:
    """A message the app created, as Twilio holds it and the person sees it."""

    sid: str
    to: str
    sender: str
    body: str | None
    media_urls: list[str]
    content_sid: str | None
    content_variables: dict[str, str] | None
    status_callback: str | None
    stamp: int
    status: str = "queued"
    error_code: int | None = None
    # Every status callback posted for it: (status, the app's HTTP answer).
    callbacks: list[tuple[str, int]] = field(default_factory=list)
    # Its delivery has ended (delivered, or failed or undelivered) and been reported.
    settled: bool = False
    shown: str = ""  # the text the person reads (a template's text with its variables)
    # The media fetched from the app's public URL (other URLs are not fetched: no network).
    fetched: list[Fetched] = field(default_factory=list)

    @property
    def text(self) -> str:
        """What WhatsApp shows: formatting markers gone, escaped ones plain."""
        return visible(self.shown)[0]

    @property
    def bold(self) -> list[str]:
        return visible(self.shown)[1]["bold"]

    @property
    def italic(self) -> list[str]:
        return visible(self.shown)[1]["italic"]

    @property
    def menu(self) -> list[str]:
        """The labels of the numbered menu at the end (`1. label` lines), in order."""
        labels: list[str] = []
        for line in self.text.splitlines():
            number, dot, label = line.partition(". ")
            if dot and number.isdigit() and int(number) == len(labels) + 1:
                labels.append(label)
            elif labels and line.strip():
                break
        return labels

    def json(self, account_sid: str, now: datetime) -> JSON:
        """The Message resource as Twilio's REST API answers a create."""
        date = format_datetime(now.astimezone(UTC), usegmt=True).replace("GMT", "+0000")
        base = f"{API}/Accounts/{account_sid}/Messages/{self.sid}"
        return {
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": self.shown,
            "date_created": date,
            "date_sent": None,
            "date_updated": date,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.sender,
            "messaging_service_sid": None,
            "num_media": str(len(self.media_urls)),
            "num_segments": "1",
            "price": None,
            "price_unit": None,
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": self.to,
            "uri": f"{base}.json",
        }


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    times: int
    to: str | None


class FakeTwilio:
    """`async with FakeTwilio(sid, token, sender) as twilio:` serves the REST API at
    `twilio.base_url`; `connect()` tells it where the app's webhooks are."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        sender: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        templates: dict[str, Template] | None = None,
        callbacks: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.clock = clock
        self.templates = dict(templates or {})
        # Whether messages get status callbacks (a benchmark may measure without them).
        self.callbacks = callbacks
        # Called with each message the app creates, as it is created (a benchmark's clock).
        self.on_message: Callable[[Message], None] | None = None
        self.validator = RequestValidator(auth_token)
        self.base_url = ""
        self.app_url = ""
        self.public_url = ""
        self.calls: list[Call] = []
        self.messages: list[Message] = []
        # The app's answers to incoming-message webhooks, in order.
        self.webhook_responses: list[int] = []
        self.internal_errors: list[BaseException] = []
        self._users: dict[str, WhatsappUser] = {}
        self._last_inbound: dict[str, datetime] = {}
        self._failures: list[_Failure] = []
        self._delivery_failures: dict[str, list[int]] = {}
        self._events = 0
        self._ids = itertools.count(1)
        self._condition = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._server = LocalServer(
            Starlette(
                routes=[
                    Route(f"{API}/Accounts/{{account}}.json", self._account, methods=["GET"]),
                    Route(
                        f"{API}/Accounts/{{account}}/Messages.json",
                        self._create_message,
                        methods=["POST"],
                    ),
                    Route(
                        f"{API}/Accounts/{{account}}/Messages/{{message}}/Media/{{media}}",
                        self._media,
                        methods=["GET"],
                    ),
                    Route("/{path:path}", self._not_found, methods=["GET", "POST"]),
                ]
            )
        )
        # Files people sent, by their MediaUrl's path: (media type, bytes).
        self._media_files: dict[str, tuple[str, bytes]] = {}
        # The MediaUrl paths the app fetched, with the account's credentials, in order.
        self.media_fetches: list[str] = []

    # --- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTwilio:
        await self._server.start()
        self.base_url = self._server.url
        # The client that plays Twilio's side of the webhooks.
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30.0))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._server.stop()
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self.internal_errors and exc_type is None:
            raise AssertionError(
                f"the fake Twilio failed internally: {self.internal_errors!r}"
            ) from self.internal_errors[0]

    def connect(self, app_url: str, public_url: str) -> None:
        """Webhooks go to `app_url` (where the app listens), signed for `public_url` (where
        Twilio believes it is: the app's [whatsapp] public_url)."""
        self.app_url = app_url.rstrip("/")
        self.public_url = public_url.rstrip("/")

    # --- waiting ---------------------------------------------------------------------------------

    def _tick(self) -> int:
        self._events += 1
        return self._events

    async def _changed(self) -> None:
        async with self._condition:
            self._condition.notify_all()

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented API
        what: str | None = None,
    ) -> None:
        """Waits until `predicate()` holds, re-checking after every request and callback; the
        predicate must depend on the fake's state only."""
        if predicate():
            return
        async with self._condition:
            try:
                async with asyncio.timeout(timeout):
                    await self._condition.wait_for(predicate)
                return
            except TimeoutError:
                pass
        raise AssertionError(
            f"timed out after {timeout} s waiting for "
            f"{what or getattr(predicate, '__qualname__', predicate)}\n{self.describe()}"
        )

    def describe(self) -> str:
        lines = ["last REST calls:"]
        for call in self.calls[-10:]:
            lines.append(
                f"  {call.method} {call.path} {json.dumps(call.params)[:200]} -> {call.status}"
            )
        for user in self._users.values():
            lines.append(f"{user.number} ({user.name}):")
            for message in user.messages:
                lines.append(f"  {message.sid} {message.status}: {message.text[:160]!r}")
        return "\n".join(lines)

    # --- people ----------------------------------------------------------------------------------

    def user(self, number: str, name: str = "Budi") -> WhatsappUser:
        """A person on WhatsApp with this E.164 number (the same person again for it)."""
        if number not in self._users:
            self._users[number] = WhatsappUser(self, number, name)
        return self._users[number]

    def inbound(self, number: str) -> None:
        """The person wrote to the app just now (without a webhook): their window is open."""
        self._last_inbound[number] = self.clock()

    def fail_next(
        self, status: int, code: int, message: str = "", *, times: int = 1, to: str | None = None
    ) -> None:
        """The next `times` creates (to `to`, if given) answer this HTTP error, e.g. 429 with
        20429, 503, or 400 with 63016 or 63024."""
        address = f"whatsapp:{to}" if to and not to.startswith("whatsapp:") else to
        self._failures.append(_Failure(status, code, message or f"error {code}", times, address))

    def fail_delivery(self, number: str, code: int, *, times: int = 1) -> None:
        """The next `times` messages to `number` are taken (201) and then fail to be delivered,
        reported by status callback with this error code."""
        self._delivery_failures.setdefault(f"whatsapp:{number}", []).extend([code] * times)

    async def post_webhook(self, form: dict[str, str], signature: str | None) -> int:
        """Posts an incoming-message form with any signature (None: without the header)."""
        headers = {} if signature is None else {"X-Twilio-Signature": signature}
        return await self._post("/whatsapp/webhook", form, headers)

    def sign(self, path: str, form: dict[str, str]) -> str:
        return self.signature(f"{self.public_url}{path}", form)

    def signature(self, url: str, form: dict[str, str]) -> str:
        # As a MultiDict, whose values the validator takes at once; of a plain dict it asks
        # two other ways first, each an exception, for every name.
        return self.validator.compute_signature(url, MultiDict(form))

    async def _post(
        self, path_and_query: str, form: dict[str, str], headers: dict[str, str]
    ) -> int:
        assert self._http is not None and self.app_url, "connect() the fake to the app first"
        try:
            # Encoded here: aiohttp's FormData for a dict cost more than the rest of a post.
            body = urlencode(form).encode()
            headers = headers | {"Content-Type": "application/x-www-form-urlencoded"}
            async with self._http.post(
                f"{self.app_url}{path_and_query}", data=body, headers=headers
            ) as answer:
                await answer.read()
                return answer.status
        except aiohttp.ClientError:
            return 0

    async def _incoming(self, user: WhatsappUser, form: dict[str, str]) -> int:
        self._last_inbound[user.number] = self.clock()
        stamp = self._tick()
        status = await self._post(
            "/whatsapp/webhook", form, {"X-Twilio-Signature": self.sign("/whatsapp/webhook", form)}
        )
        self.webhook_responses.append(status)
        await self._changed()
        return stamp

    # --- the REST API ----------------------------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization", "") == f"Basic {expected}"

    async def _account(self, request: Request) -> Response:
        call = Call("GET", request.url.path, {})
        self.calls.append(call)
        answer = self._check_account(request)
        if answer is None:
            answer = JSONResponse(
                {
                    "sid": self.account_sid,
                    "friendly_name": "jbl test account",
                    "status": "active",
                    "type": "Full",
                    "uri": f"{API}/Accounts/{self.account_sid}.json",
                }
            )
        call.status = answer.status_code
        return answer

    async def _media(self, request: Request) -> Response:
        """A file a person sent, as Twilio serves it: only with the account's credentials."""
        if not self._authorised(request):
            return twilio_error(401, AUTHENTICATE, "Authenticate")
        stored = self._media_files.get(request.url.path)
        if stored is None:
            return twilio_error(404, 20404, "The requested resource was not found")
        self.media_fetches.append(request.url.path)
        media_type, content = stored
        return Response(content, media_type=media_type)

    def media_url(self, message_sid: str, media_type: str, content: bytes) -> str:
        """Keeps a file a person sends and returns its MediaUrl, as Twilio's webhook gives it."""
        media_sid = f"ME{secrets.token_hex(16)}"
        path = f"{API}/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"
        self._media_files[path] = (media_type, content)
        return f"{self.base_url}{path}"

    def _check_account(self, request: Request) -> Response | None:
        if not self._authorised(request):
            return twilio_error(401, AUTHENTICATE, "Authenticate")
        if request.path_params["account"] != self.account_sid:
            return twilio_error(404, NOT_FOUND, "The requested resource was not found")
        return None

    async def _not_found(self, request: Request) -> Response:
        self.calls.append(Call(request.method, request.url.path, {}, 404))
        return twilio_error(
            404, NOT_FOUND, f"The requested resource {request.url.path} was not found"
        )

    async def _create_message(self, request: Request) -> Response:
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        params = dict(pairs)
        call = Call("POST", request.url.path, params)
        self.calls.append(call)
        try:
            answer = self._check_account(request) or self._failure(params) or self._message(pairs)
        except Exception as error:  # the fake's own bug: answered, and raised at the end
            self.internal_errors.append(error)
            answer = twilio_error(500, 20500, "Internal Server Error")
        call.status = answer.status_code
        await self._changed()
        return answer

    def _failure(self, params: dict[str, str]) -> Response | None:
        for failure in self._failures:
            if failure.to is None or failure.to == params.get("To"):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return twilio_error(failure.status, failure.code, failure.message)
        return None

    def _message(self, pairs: list[tuple[str, str]]) -> Response:
        params = dict(pairs)
        to, sender = params.get("To", ""), params.get("From", "")
        body, content_sid = params.get("Body"), params.get("ContentSid")
        media = [value for key, value in pairs if key == "MediaUrl"]
        callback = params.get("StatusCallback")
        if not to:
            return twilio_error(400, TO_REQUIRED, "A 'To' phone number is required.")
        if sender != self.sender:
            return twilio_error(
                400, NO_SENDER, "Twilio could not find a Channel with the specified From address"
            )
        number = to.removeprefix("whatsapp:")
        if not to.startswith("whatsapp:+") or not number[1:].isdigit() or len(number) > 16:
            return twilio_error(400, INVALID_TO, f"Invalid 'To' Phone Number: {to}")
        if callback is not None and not callback.startswith(("http://", "https://")):
            return twilio_error(400, INVALID_CALLBACK, "The StatusCallback URL is not valid.")
        if any(not url.startswith(("http://", "https://")) for url in media):
            return twilio_error(400, INVALID_MEDIA, "Invalid media URL(s)")
        variables: dict[str, str] | None = None
        if content_sid is not None:
            template = self.templates.get(content_sid)
            if template is None:
                return twilio_error(
                    400, INVALID_CONTENT, f"The ContentSid {content_sid} is invalid"
                )
            try:
                variables = json.loads(params.get("ContentVariables") or "{}")
            except ValueError:
                variables = None
            if not isinstance(variables, dict) or not all(
                isinstance(v, str) and v and "\n" not in v and "\t" not in v and "     " not in v
                for v in variables.values()
            ):
                return twilio_error(
                    400, INVALID_VARIABLES, "The ContentVariables Parameter is invalid"
                )
            shown = template.fill(variables)
        elif body or media:
            if body and utf16_len(body) > BODY_LIMIT:
                return twilio_error(
                    400,
                    BODY_TOO_LONG,
                    "The concatenated message body exceeds the 1600 character limit.",
                )
            shown = body or ""
        else:
            return twilio_error(400, BODY_REQUIRED, "Message body is required.")
        prefix = "MM" if media else "SM"
        message = Message(
            sid=f"{prefix}{secrets.token_hex(16)}",
            to=to,
            sender=sender,
            body=body,
            media_urls=media,
            content_sid=content_sid,
            content_variables=variables,
            status_callback=callback,
            stamp=self._tick(),
            shown=shown,
        )
        self.messages.append(message)
        user = self._users.get(number)
        if user is not None:
            user.messages.append(message)
        if self.on_message is not None:
            self.on_message(message)
        self._start(self._deliver(message))
        return JSONResponse(message.json(self.account_sid, self.clock()), status_code=201)

    # --- what happens to a message after it was taken ----------------------------------------

    def _start(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, message: Message) -> None:
        try:
            failures = self._delivery_failures.get(message.to)
            last = self._last_inbound.get(message.to.removeprefix("whatsapp:"))
            outside = message.content_sid is None and (
                last is None or self.clock() - last >= WINDOW
            )
            fetched = [await self._fetch(url) for url in message.media_urls]
            message.fetched = [f for f in fetched if f is not None]
            if any(f.status != 200 for f in message.fetched):
                await self._status(message, "failed", MEDIA_DOWNLOAD_FAILED)
            elif failures:
                await self._status(message, "sent")
                await self._status(message, "undelivered", failures.pop(0))
            elif outside:
                await self._status(message, "failed", OUTSIDE_WINDOW)
            else:
                await self._status(message, "sent")
                await self._status(message, "delivered")
        except Exception as error:
            self.internal_errors.append(error)
        message.settled = True
        await self._changed()

    async def _fetch(self, url: str) -> Fetched | None:
        """GETs a media URL of the app, as Twilio does before it sends the message."""
        if not self.public_url or not url.startswith(f"{self.public_url}/"):
            return None
        assert self._http is not None
        async with self._http.get(self.app_url + url.removeprefix(self.public_url)) as response:
            body = await response.read()
            return Fetched(
                url,
                response.status,
                response.headers.get("Content-Type", ""),
                response.headers.get("Content-Disposition", ""),
                len(body),
                body,
            )

    async def _status(self, message: Message, status: str, code: int | None = None) -> None:
        message.status, message.error_code = status, code
        if self.callbacks and message.status_callback:
            form = {
                "AccountSid": self.account_sid,
                "ApiVersion": "2010-04-01",
                "ChannelPrefix": "whatsapp",
                "From": message.sender,
                "MessageSid": message.sid,
                "MessageStatus": status,
                "SmsSid": message.sid,
                "SmsStatus": status,
                "To": message.to,
            }
            if code is not None:
                form["ErrorCode"] = str(code)
            parsed = urlsplit(message.status_callback)
            path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            signature = self.signature(message.status_callback, form)
            answer = await self._post(path, form, {"X-Twilio-Signature": signature})
            message.callbacks.append((status, answer))
        await self._changed()

    async def read(self, user: WhatsappUser) -> None:
        """The person opens the chat: every delivered message to them is read."""
        for message in user.messages:
            if message.status == "delivered":
                await self._status(message, "read")


class WhatsappUser:
    """A person on WhatsApp, writing to the app's sender."""

    def __init__(self, twilio: FakeTwilio, number: str, name: str) -> None:
        self.twilio = twilio
        self.number = number
        self.name = name
        self.messages: list[Message] = []

    @property
    def address(self) -> str:
        return f"whatsapp:{self.number}"

    @property
    def last(self) -> Message:
        if not self.messages:
            raise AssertionError(f"the app sent nothing to {self.number}")
        return self.messages[-1]

    def form(self, body: str = "", **extra: str) -> dict[str, str]:
        """The form Twilio posts for a WhatsApp message from this person."""
        sid = f"SM{secrets.token_hex(16)}"
        form = {
            "AccountSid": self.twilio.account_sid,
            "ApiVersion": "2010-04-01",
            "Body": body,
            "From": self.address,
            "MessageSid": sid,
            "MessageType": "text",
            "NumMedia": "0",
            "NumSegments": "1",
            "ProfileName": self.name,
            "ReferralNumMedia": "0",
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": self.twilio.sender,
            "WaId": self.number.removeprefix("+"),
        }
        return form | extra

    async def send(self, body: str = "", **extra: str) -> int:
        """Writes a message (extra form fields for buttons and media); returns its stamp."""
        return await self.twilio._incoming(self, self.form(body, **extra))

    async def send_form(self, form: dict[str, str]) -> int:
        """Posts this exact form, signed (the same form twice is a redelivery)."""
        return await self.twilio._incoming(self, form)

    async def send_photo(self, url: str, caption: str = "") -> int:
        media = {
            "NumMedia": "1",
            "MediaUrl0": url,
            "MediaContentType0": "image/jpeg",
            "MessageType": "image",
        }
        return await self.send(caption, **media)

    async def send_media(self, content: bytes, media_type: str, caption: str = "") -> int:
        """Sends a file (a photo, a document) that Twilio keeps and the app fetches from its
        MediaUrl with the account's credentials; `media_type` is what the sender's phone said."""
        form = self.form(caption)
        url = self.twilio.media_url(form["MessageSid"], media_type, content)
        kind = "image" if media_type.startswith("image/") else "document"
        media = {"NumMedia": "1", "MediaUrl0": url, "MediaContentType0": media_type}
        return await self.twilio._incoming(self, form | media | {"MessageType": kind})

    def replies_after(self, stamp: int) -> list[Message]:
        return [m for m in self.messages if m.stamp > stamp]

    async def wait_for_reply(
        self,
        after: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented API
    ) -> Message:
        """The first message to this person created after the message of stamp `after`."""
        await self.twilio.wait_for(
            lambda: bool(self.replies_after(after)), timeout, f"a reply to {self.number}"
        )
        return self.replies_after(after)[0]

    async def say(self, body: str, **extra: str) -> Message:
        return await self.wait_for_reply(await self.send(body, **extra))

    async def choose(self, label: str) -> Message:
        """Types the number of the newest menu's line that contains `label`."""
        menu = next((m.menu for m in reversed(self.messages) if m.menu), [])
        matches = [n for n, line in enumerate(menu, start=1) if label in line]
        assert len(matches) == 1, f"{label!r} matches {len(matches)} of {menu}"
        return await self.say(str(matches[0]))

    async def read_all(self) -> None:
        await self.twilio.read(self)
