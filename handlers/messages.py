"""The values that cross between channels and the conversation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from handlers.cleaning import clean_text

# A longer message is refused before anything is looked up.
MAX_TEXT_LENGTH = 1000


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: typed text or pressed a button (`payload`)."""

    identity: str
    message_id: str
    text: str | None = None
    payload: str | None = None
    display_name: str = ""
    # The language the platform reports for the person, used for their first reply.
    language_hint: str | None = None
    # A phone number the person shared through the platform's contact button, where it has one.
    shared_phone: str | None = None
    # A photo the person sent, as the platform's reference to it (`<channel>:<the platform's
    # file id or media URL>`) or its https:// address.
    photo: str | None = None
    # The phone number the platform vouches for as the sender's own (where the account is a
    # phone number), as the platform gives it.
    sender_phone: str | None = None

    @property
    def channel(self) -> str:
        return self.identity.split(":", 1)[0]

    def cleaned(self) -> Incoming:
        """The same message with each text that came from outside cleaned (`clean_text`)."""
        return replace(
            self,
            text=_cleaned(self.text),
            payload=_cleaned(self.payload),
            display_name=clean_text(self.display_name),
            shared_phone=_cleaned(self.shared_phone),
            photo=_cleaned(self.photo),
            sender_phone=_cleaned(self.sender_phone),
        )


def _cleaned(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    photo_url: str | None = None
    # Rendering hint: a channel that can should offer a "share my phone number" button with
    # this label.
    ask_phone: str | None = None
    # A short notice for the button press that led here, where a platform shows one (a pop-up
    # over the chat); the text says it too.
    toast: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The reply as an outbox payload, for a channel whose replies are sent from there."""
        data: dict[str, Any] = {"text": self.text}
        if self.buttons:
            data["buttons"] = [[b.label, b.payload] for b in self.buttons]
        if self.photo_url:
            data["photo_url"] = self.photo_url
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        buttons = tuple(Button(label, payload) for label, payload in data.get("buttons", ()))
        return cls(str(data["text"]), buttons, data.get("photo_url"))
