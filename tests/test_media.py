"""Every photo on every channel: a photo a merchant sends in chat is fetched from the platform
and kept by jbl (a directory, or S3-compatible storage), then shown on Telegram (uploaded), on
WhatsApp (media Twilio fetches from an expiring link under public_url) and on the console (the
link). Checked by its bytes, up to 10 MB: anything else is refused and changes nothing."""

from __future__ import annotations

import contextlib
import io
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.bootstrap import App, media_directory
from bot.console import ConsoleChat
from bot.settings import (
    CatalogSettings,
    DatabaseSettings,
    MediaSettings,
    Settings,
)
from handlers import payloads
from handlers.messages import Incoming, Upload
from models.media import LINK_LIFETIME, MEDIA_PREFIX, MediaLink, MediaUnusable
from scheduler.jobs import refresh_ranking
from tests import db
from tests.conftest import Clock, demo_app
from tests.fake_telegram import FakeMessage, FakeTelegram, LocalServer, TelegramUser
from tests.fake_twilio import FakeTwilio, Message, WhatsappUser
from tests.people import Chatter
from tests.telegram_bot import Running, free_port
from tests.whatsapp_bot import PUBLIC_URL, running_both

MERCHANT_ID = 42_001
RESIDENT_NUMBER = "+6281311112222"
# A JPEG as far as its bytes go: the marker it starts with, some data, the end marker.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + secrets.token_bytes(4000) + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(500)
MEDIA_LINK = re.compile(rf"\[foto\] ({re.escape(PUBLIC_URL)}/media/[0-9a-f]+)")
BUCKET = "jbl-media"


@dataclass
class Both:
    """`jbl run` with Telegram and WhatsApp, and a merchant operator on Telegram."""

    running: Running
    tg: FakeTelegram
    twilio: FakeTwilio
    merchant: TelegramUser

    @property
    def app(self) -> App:
        return self.running.app


@contextlib.asynccontextmanager
async def both_channels(
    database_url: str, clock: Clock, tg: FakeTelegram, twilio: FakeTwilio, media: MediaSettings
) -> AsyncIterator[Both]:
    async with running_both(
        database_url,
        clock,
        tg,
        twilio,
        catalog=CatalogSettings(review_new_products=False),
        media=media,
    ) as running:
        await db.add_operator(running.app, 1, f"telegram:{MERCHANT_ID}")
        yield Both(running, tg, twilio, tg.user(MERCHANT_ID, "Sari"))


@pytest.fixture
async def both(
    database_url: str, clock: Clock, tg: FakeTelegram, twilio: FakeTwilio, tmp_path: Path
) -> AsyncIterator[Both]:
    media = MediaSettings(path=str(tmp_path / "media"))
    async with both_channels(database_url, clock, tg, twilio, media) as running:
        yield running


async def press_containing(user: TelegramUser, part: str) -> FakeMessage:
    [label] = [label for label in user.last.buttons if part in label]
    return await user.wait_for_reply(user.press(label))


async def new_product_up_to_its_photo(merchant: TelegramUser, name: str) -> FakeMessage:
    """`/produk` on Telegram up to the step that asks for the photo."""
    await merchant.wait_for_reply(merchant.send("/produk"))
    await merchant.wait_for_reply(merchant.send(name))
    await press_containing(merchant, "Makanan & Minuman")
    await merchant.wait_for_reply(merchant.send("25000"))
    await merchant.wait_for_reply(merchant.send("10"))
    asked = await press_containing(merchant, "Lewati")
    assert "Kirim foto produk" in (asked.text or ""), asked.text
    return asked


async def card_on_whatsapp(both: Both, budi: WhatsappUser, name: str) -> Message:
    """The product's card as a resident on WhatsApp finds it, once Twilio has sent it and
    jbl has recorded it (a clock moved on before that would lapse the row's lease)."""
    await budi.say(f"/cari {name}")
    card = await budi.choose(name)
    await both.twilio.wait_for(lambda: card.settled, 10, "the card sent")
    await db.sent_to(both.app, budi.address)
    return card


async def console_card(app: App, name: str) -> str:
    """The product's card as the console shows it, after a search."""
    output = io.StringIO()
    chat = ConsoleChat(app, "wati", output)
    await chat.say(f"/cari {name}")
    [number] = re.findall(rf"^(\d+)\. {re.escape(name)} · Rp", output.getvalue(), re.MULTILINE)
    output.truncate(0)
    output.seek(0)
    await chat.say(number)
    return output.getvalue()


async def get(running: Running, url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(running.base + url.removeprefix(PUBLIC_URL))


async def first_product_of_merchant_1(app: App) -> Any:
    return min((p for p in await db.products(app) if p.merchant_id == 1), key=lambda p: p.id)


async def photo_of(app: App, name: str) -> str | None:
    return (await db.product(app, name)).photo_url


async def test_a_photo_sent_on_telegram_shows_on_whatsapp_on_telegram_and_on_the_console(
    both: Both, tmp_path: Path
) -> None:
    await new_product_up_to_its_photo(both.merchant, "Kopi Foto Sari")
    created = await both.merchant.wait_for_reply(both.merchant.send_photo(JPEG))
    assert "Produk baru sudah tampil" in (created.text or ""), created.text

    # Kept by jbl, by its bytes, in the directory of `[media] path`.
    photo = await photo_of(both.app, "Kopi Foto Sari")
    assert photo is not None and photo.startswith(MEDIA_PREFIX) and photo.endswith(".jpg")
    assert (tmp_path / "media" / photo.removeprefix(MEDIA_PREFIX)).read_bytes() == JPEG

    # WhatsApp: the card's media is a link under public_url that Twilio fetched, same bytes.
    budi = both.twilio.user(RESIDENT_NUMBER, "Budi")
    card = await card_on_whatsapp(both, budi, "Kopi Foto Sari")
    [url] = card.media_urls
    assert url.startswith(f"{PUBLIC_URL}/media/")
    [fetched] = card.fetched
    assert (fetched.status, fetched.content_type, fetched.content) == (200, "image/jpeg", JPEG)
    assert card.status == "delivered"
    # The token says nothing of the file: not its key, not its name.
    assert photo.removeprefix(MEDIA_PREFIX).split(".")[0] not in url

    # Telegram: another resident gets the bytes, uploaded.
    ani = both.tg.user(42_002, "Ani")
    await ani.wait_for_reply(ani.send("/cari Kopi Foto Sari"))
    telegram_card = await press_containing(ani, "Kopi Foto Sari")
    assert telegram_card.photo == f"upload:{photo.removeprefix(MEDIA_PREFIX)}"
    assert telegram_card.upload is not None and telegram_card.upload.size == len(JPEG)
    assert telegram_card.upload.content_type == "image/jpeg"
    # Uploaded once: the next chat gets the file id Telegram gave it.
    eko = both.tg.user(42_004, "Eko")
    await eko.wait_for_reply(eko.send("/cari Kopi Foto Sari"))
    second_card = await press_containing(eko, "Kopi Foto Sari")
    assert second_card.upload is None and second_card.photo_sizes == telegram_card.photo_sizes

    # The console: the link, which serves the same bytes.
    shown = await console_card(both.app, "Kopi Foto Sari")
    [link] = MEDIA_LINK.findall(shown)
    served = await get(both.running, link)
    assert (served.status_code, served.content) == (200, JPEG)


async def test_a_photo_sent_on_whatsapp_shows_on_telegram(both: Both) -> None:
    """The other way round: a merchant on WhatsApp changes a photo with /stok; Telegram
    uploads it, fetched by jbl from Twilio with the account's credentials."""
    seller = both.twilio.user("+6281277778888", "Rudi")
    await db.add_operator(both.app, 1, f"whatsapp:{seller.number}")
    product = await first_product_of_merchant_1(both.app)
    await seller.say("/stok")
    await seller.choose(product.name)
    await seller.choose("Ubah foto")
    changed = await seller.wait_for_reply(await seller.send_media(PNG, "image/png"))
    assert "Foto diubah" in changed.text, changed.text
    assert len(both.twilio.media_fetches) == 1

    photo = await photo_of(both.app, product.name)
    assert photo is not None and photo.startswith(MEDIA_PREFIX) and photo.endswith(".png")
    ani = both.tg.user(42_003, "Ani")
    await ani.wait_for_reply(ani.send(f"/cari {product.name}"))
    card = await press_containing(ani, product.name)
    assert card.upload is not None and card.upload.size == len(PNG)


@pytest.mark.parametrize(
    ("content", "file_name", "declared"),
    [
        (b"Ini hanya teks, bukan foto.\n", "foto.jpg", "image/jpeg"),
        (b"GIF89a" + secrets.token_bytes(100), "kucing.gif", "image/gif"),
        (b"%PDF-1.7\n" + secrets.token_bytes(100), "struk.pdf", "application/pdf"),
        (b"\xff\xd8", "terpotong.jpg", "image/jpeg"),
    ],
)
async def test_a_file_that_is_no_picture_by_its_bytes_is_refused_whatever_its_name(
    both: Both, tmp_path: Path, content: bytes, file_name: str, declared: str
) -> None:
    await new_product_up_to_its_photo(both.merchant, "Kopi Salah File")
    refused = await both.merchant.wait_for_reply(
        both.merchant.send_document(content, file_name, declared)
    )
    assert "bukan foto yang bisa dipakai" in (refused.text or ""), refused.text
    # Nothing changed: no product, nothing kept; the step still waits for a photo.
    assert "Kopi Salah File" not in [p.name for p in await db.products(both.app)]
    assert not (tmp_path / "media").exists() or not list((tmp_path / "media").iterdir())
    created = await both.merchant.wait_for_reply(both.merchant.send_photo(JPEG))
    assert "Produk baru sudah tampil" in (created.text or ""), created.text


async def test_a_non_image_on_whatsapp_is_refused_in_english_for_an_english_speaker(
    both: Both,
) -> None:
    seller = both.twilio.user("+6281277779999", "Rudi")
    await db.add_operator(both.app, 1, f"whatsapp:{seller.number}", "en")
    product = await first_product_of_merchant_1(both.app)
    await seller.say("/stok")
    await seller.choose(product.name)
    await seller.choose("Change photo")
    # A phone that calls any file an image: its bytes say otherwise.
    refused = await seller.wait_for_reply(
        await seller.send_media(b"<html>not a photo</html>", "image/jpeg")
    )
    assert "not a photo jbl can use" in refused.text, refused.text
    assert await photo_of(both.app, product.name) == product.photo_url


async def test_the_accounts_credentials_go_to_twilio_only(both: Both) -> None:
    """A media URL that is not Twilio's API (a webhook Twilio signed cannot carry one, but
    jbl does not rely on that) is not fetched: nothing of the account leaves."""
    asked: list[Request] = []

    async def anything(request: Request) -> Response:
        asked.append(request)
        return Response(JPEG, media_type="image/jpeg")

    elsewhere = Starlette(routes=[Route("/{path:path}", anything, methods=["GET"])])
    async with LocalServer(elsewhere) as server:
        seller = both.twilio.user("+6281277771111", "Rudi")
        await db.add_operator(both.app, 1, f"whatsapp:{seller.number}")
        product = await first_product_of_merchant_1(both.app)
        await seller.say("/stok")
        await seller.choose(product.name)
        await seller.choose("Ubah foto")
        media = {"NumMedia": "1", "MediaUrl0": f"{server.url}/foto.jpg"}
        refused = await seller.say("", MediaContentType0="image/jpeg", **media)
    assert "tidak sampai" in refused.text, refused.text
    assert asked == []
    assert await photo_of(both.app, product.name) == product.photo_url


async def test_a_photo_over_10_mb_is_refused_without_being_downloaded(
    both: Both, tmp_path: Path
) -> None:
    await new_product_up_to_its_photo(both.merchant, "Kopi Besar")
    huge = JPEG + bytes(10 * 1024 * 1024)
    refused = await both.merchant.wait_for_reply(both.merchant.send_photo(huge))
    assert "lebih dari 10 MB" in (refused.text or ""), refused.text
    assert both.tg.downloads == {}  # Telegram said its size: not fetched at all
    assert "Kopi Besar" not in [p.name for p in await db.products(both.app)]
    assert not (tmp_path / "media").exists() or not list((tmp_path / "media").iterdir())

    # On WhatsApp Twilio says no size: jbl stops reading past the limit.
    seller = both.twilio.user("+6281277770000", "Rudi")
    await db.add_operator(both.app, 1, f"whatsapp:{seller.number}")
    product = await first_product_of_merchant_1(both.app)
    await seller.say("/stok")
    await seller.choose(product.name)
    await seller.choose("Ubah foto")
    refused_wa = await seller.wait_for_reply(await seller.send_media(huge, "image/jpeg"))
    assert "lebih dari 10 MB" in refused_wa.text, refused_wa.text
    assert await photo_of(both.app, product.name) == product.photo_url


async def test_a_link_expires_but_the_photo_does_not(both: Both, clock: Clock) -> None:
    await new_product_up_to_its_photo(both.merchant, "Kopi Awet")
    await both.merchant.wait_for_reply(both.merchant.send_photo(JPEG))
    budi = both.twilio.user(RESIDENT_NUMBER, "Budi")
    [first] = (await card_on_whatsapp(both, budi, "Kopi Awet")).media_urls

    # A second card soon after reuses the link: one link per photo, not per message.
    [again] = (await card_on_whatsapp(both, budi, "Kopi Awet")).media_urls
    assert again == first

    clock.advance(LINK_LIFETIME - timedelta(seconds=1))
    assert (await get(both.running, first)).content == JPEG
    clock.advance(timedelta(seconds=1))
    gone = await get(both.running, first)
    assert gone.status_code == 404 and gone.content != JPEG
    assert (await get(both.running, f"/media/{'0' * 48}")).status_code == 404
    # The nightly job forgets expired links, and only them: the photo stays.
    assert await db.count(both.app, MediaLink) == 1
    await refresh_ranking(both.app.sessions, clock)
    assert await db.count(both.app, MediaLink) == 0

    # A year on, the photo is still there, under a new link.
    clock.advance(timedelta(days=365))
    card = await card_on_whatsapp(both, budi, "Kopi Awet")
    [fresh] = card.media_urls
    assert fresh != first
    assert card.fetched[0].content == JPEG


async def test_without_whatsapp_the_console_shows_where_the_photo_is_kept(
    database_url: str, clock: Clock, tmp_path: Path
) -> None:
    """A photo that reached jbl as bytes (from a channel that fetches them) is kept in the
    directory of `[media] path`; with no public_url to link to, the console shows that file."""
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        catalog=CatalogSettings(review_new_products=False),
        media=MediaSettings(path=str(tmp_path / "foto")),
    )
    async with demo_app(settings, clock) as app:
        penjual = Chatter(app, "console:penjual")  # runs merchant 1 in the demo
        product = await first_product_of_merchant_1(app)
        await penjual.send_payload(payloads.SHOP_PRODUCT(product.id))
        await penjual.choose("Ubah foto")
        penjual.replies = await app.conversation.handle(
            Incoming(identity=penjual.identity, message_id="foto", upload=Upload(len(PNG), PNG))
        )
        assert "Foto diubah" in penjual.text
        shown = await console_card(app, product.name)
    [path] = re.findall(r"^\[foto\] (.+)$", shown, re.MULTILINE)
    kept = tmp_path / "foto" / path.rsplit("/", 1)[1]
    assert path == str(kept) and kept.read_bytes() == PNG


def test_by_default_photos_are_kept_beside_the_sqlite_file() -> None:
    def where(url: str, path: str = "") -> Path:
        return media_directory(Settings(database=DatabaseSettings(url=url), media={"path": path}))

    assert where("sqlite+aiosqlite:////srv/jbl/jbl.db") == Path("/srv/jbl/media")
    assert where("sqlite+aiosqlite:///jbl.db") == Path("media")
    assert where("postgresql+asyncpg://jbl@db/jbl") == Path("media")
    assert where("sqlite+aiosqlite:///jbl.db", "/data/foto") == Path("/data/foto")


# ---- S3-compatible storage, against a local S3 server (moto's server mode) ------------------


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local S3-compatible server on 127.0.0.1 with an empty bucket; its endpoint URL."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "jbl-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "jbl-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        s3(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def s3(endpoint: str) -> Any:
    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1")


async def test_on_s3_storage_a_photo_sent_on_telegram_shows_on_whatsapp(
    database_url: str,
    clock: Clock,
    tg: FakeTelegram,
    twilio: FakeTwilio,
    s3_server: str,
    tmp_path: Path,
) -> None:
    media = MediaSettings(s3_url=f"s3://{BUCKET}/produk?endpoint={s3_server}&region=us-east-1")
    async with both_channels(database_url, clock, tg, twilio, media) as both:
        await new_product_up_to_its_photo(both.merchant, "Kopi Awan")
        await both.merchant.wait_for_reply(both.merchant.send_photo(JPEG))

        photo = await photo_of(both.app, "Kopi Awan")
        assert photo is not None and photo.startswith(MEDIA_PREFIX)
        key = photo.removeprefix(MEDIA_PREFIX)
        stored = s3(s3_server).get_object(Bucket=BUCKET, Key=f"produk/{key}")
        assert stored["Body"].read() == JPEG
        assert stored["ContentType"] == "image/jpeg"
        assert not (tmp_path / "media").exists()  # nothing in a directory

        budi = twilio.user(RESIDENT_NUMBER, "Budi")
        card = await card_on_whatsapp(both, budi, "Kopi Awan")
        assert card.fetched[0].content == JPEG
        assert card.status == "delivered"

        # Gone from the bucket (an operator's mistake): the link answers 404, no traceback.
        s3(s3_server).delete_object(Bucket=BUCKET, Key=f"produk/{key}")
        answer = await get(both.running, card.media_urls[0])
        assert answer.status_code == 404


@pytest.mark.parametrize("where", ["bucket", "directory"])
async def test_jbl_run_stops_with_one_line_when_the_store_cannot_be_used(
    database_url: str,
    clock: Clock,
    tg: FakeTelegram,
    twilio: FakeTwilio,
    s3_server: str,
    tmp_path: Path,
    where: str,
) -> None:
    if where == "bucket":
        media = MediaSettings(s3_url=f"s3://no-such-bucket?endpoint={s3_server}")
        said = "media: s3://no-such-bucket cannot be used: "
    else:
        (tmp_path / "foto").write_text("a file where the directory should be")
        media = MediaSettings(path=str(tmp_path / "foto"))
        said = f"media: the directory {tmp_path / 'foto'} cannot be written: File exists"
    with pytest.raises(MediaUnusable) as refused:
        async with both_channels(database_url, clock, tg, twilio, media):
            pass
    assert str(refused.value).startswith(said), refused.value
    assert "jbl-test-secret" not in str(refused.value)
