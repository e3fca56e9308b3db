"""WhatsApp's rendering of any reply: within Twilio's lengths, nothing lost, typed text plain."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.whatsapp.render import BODY_LIMIT, CAPTION_LIMIT, escape, one_line, parts, units
from handlers.messages import Button, Reply
from tests.fake_twilio import visible

texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\u200b")
    | st.sampled_from("*_~` \n"),
    max_size=5000,
)


@given(texts, st.booleans())
def test_every_part_fits_and_together_they_say_it_all(said: str, photo: bool) -> None:
    reply = Reply(
        said, (Button("🛒 Keranjang", "cart"),), "https://x.test/p.jpg" if photo else None
    )
    pieces = parts(reply, "id")
    assert units(pieces[0].body) <= (CAPTION_LIMIT if photo else BODY_LIMIT)
    assert all(units(p.body) <= BODY_LIMIT for p in pieces)
    assert [bool(p.media_url) for p in pieces] == [photo] + [False] * (len(pieces) - 1)
    shown = "".join("".join(visible(p.body)[0].split()) for p in pieces)
    assert "".join(said.split()) in shown


@given(texts)
def test_what_someone_typed_is_never_formatted(typed: str) -> None:
    shown, formatted = visible(escape(typed))
    assert shown == typed
    assert not any(formatted.values())


@given(texts)
def test_a_template_variable_is_one_line_that_whatsapp_takes(said: str) -> None:
    line = one_line(Reply(said, (Button("✅ Terima", "mv:1:confirm"),)))
    assert line and "\n" not in line and "\t" not in line and "     " not in line
    assert units(line) <= 900
