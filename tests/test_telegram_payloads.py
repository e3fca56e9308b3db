"""Every button payload the conversation can route fits Telegram's 64-byte callback_data."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.render import CALLBACK_DATA_LIMIT, cut, escaped, inline_keyboard
from handlers.messages import Button
from handlers.routes import PAYLOADS

ASCII = st.characters(codec="ascii")


@settings(max_examples=300)
@given(st.data())
def test_every_routable_payload_fits_in_callback_data(data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(PAYLOADS))
    payload = data.draw(st.from_regex(route.payload.pattern, fullmatch=True, alphabet=ASCII))
    assert len(payload.encode()) <= CALLBACK_DATA_LIMIT, payload


def test_the_longest_catalog_cursor_fits() -> None:
    # Twelve-digit ids, the largest recent-sales count the route accepts, and a demoted
    # product's mark.
    longest = f"m:{10**12 - 1}:n:1:{10**18 - 1}:{10**12 - 1}:d"
    assert any(route.payload.pattern.fullmatch(longest) for route in PAYLOADS)
    assert inline_keyboard((Button("Next", longest),)) is not None
    assert len(longest.encode()) <= CALLBACK_DATA_LIMIT


@given(st.text(max_size=6000))
def test_cut_text_fits_telegram_and_says_it_was_cut(text: str) -> None:
    shown = cut(text, 4096)
    assert len(shown.encode("utf-16-le")) // 2 <= 4096
    if shown != text:
        assert shown.endswith("…")
        assert text.startswith(shown[:-1].rstrip()) or not shown[:-1]


def test_escaping_leaves_no_markup_from_merchants() -> None:
    assert escaped('<b>Kopi & "Teh"</b>', 100) == '&lt;b&gt;Kopi &amp; "Teh"&lt;/b&gt;'
    # Cut before escaping, so an entity is never split.
    assert escaped("&" * 20, 10) == "&amp;" * 9 + "…"
