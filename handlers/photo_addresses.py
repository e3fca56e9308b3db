"""The https:// address of a product's photo, as a merchant types it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# The length of `products.photo_url`.
MAX_PHOTO_ADDRESS = 500
# One label of a host name, as DNS takes it (after IDNA for a name in other letters).
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def photo_address(typed: str) -> str | None:
    """`typed` when it is an address Telegram and WhatsApp could fetch a photo from: https,
    a host name with a dot (no IP address, user name or password), a valid port, no spaces;
    else None."""
    address = typed.strip()
    if len(address) > MAX_PHOTO_ADDRESS or any(c.isspace() for c in address):
        return None
    try:
        parts = urlsplit(address)
        port = parts.port  # raises when out of range
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return None
    labels = host.removesuffix(".").split(".")
    if (
        not address.startswith("https://")
        or port == 0
        or "@" in parts.netloc
        or len(host) > 253
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        return None
    return address
