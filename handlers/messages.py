"""The values that cross between channels and the conversation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from handlers.cleaning import clean_text

# A longer message is refused before anything is looked up.
MAX_TEXT_LENGTH = 1000


@dataclass(frozen=True)
class Upload:
    """The bytes of a file the person sent (a photo, a document), fetched by the channel.

    `content` is None when the channel did not fetch it: over `size` the limit it was told
    (`models.media.MAX_MEDIA_BYTES`), or the platform failed to give it."""

    size: int
    content: bytes | None


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
    # The file the person sent, as its bytes: what jbl keeps (`models.media`), checked by
    # its content. Set with `photo` by every channel that can fetch files.
    upload: Upload | None = None
    # The phone number the platform vouches for as the sender's own, as the platform gives
    # it: where the account is a phone number (WhatsApp), or on a contact the person shared
    # of their own account (Telegram).
    sender_phone: str | None = None
    # Which account of ours the message came to, where a channel may have several (a bot's id,
    # a sender's number): platforms number messages per account, so ids repeat across them.
    bot: str = ""

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


# The kinds of attachment: a picture a channel shows in the chat, or a file to open or save.
PHOTO = "photo"
DOCUMENT = "document"


@dataclass(frozen=True)
class Attachment:
    """A file a handler made for the reply, stored by `models.files` under `token`: a reply
    may be an outbox row, so it names the file and never carries its bytes."""

    kind: str  # PHOTO or DOCUMENT
    token: str
    name: str
    media_type: str
    size: int

    def to_json(self) -> list[Any]:
        return [self.kind, self.token, self.name, self.media_type, self.size]

    @classmethod
    def from_json(cls, data: list[Any]) -> Attachment:
        kind, token, name, media_type, size = data
        return cls(str(kind), str(token), str(name), str(media_type), int(size))


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
    # A generated file sent with the text (a chart as a photo, a spreadsheet as a document).
    attachment: Attachment | None = None

    def to_json(self) -> dict[str, Any]:
        """The reply as an outbox payload, for a channel whose replies are sent from there."""
        data: dict[str, Any] = {"text": self.text}
        if self.buttons:
            data["buttons"] = [[b.label, b.payload] for b in self.buttons]
        if self.photo_url:
            data["photo_url"] = self.photo_url
        if self.attachment:
            data["attachment"] = self.attachment.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        buttons = tuple(Button(label, payload) for label, payload in data.get("buttons", ()))
        attached = data.get("attachment")
        attachment = Attachment.from_json(attached) if attached else None
        return cls(str(data["text"]), buttons, data.get("photo_url"), attachment=attachment)
