"""How far a set of messages has got, in words: for staff watching a broadcast (`/siaran`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.texts import text

if TYPE_CHECKING:
    from models.receipts import Progress


def progress_lines(language: str, progress: Progress) -> list[str]:
    """Sent, delivered and read; then what is still waiting, what needs a WhatsApp template
    and what failed, each only when there is some."""
    lines = [
        text(
            language,
            "progress_delivery",
            sent=progress.sent,
            total=progress.total,
            delivered=progress.delivered,
            read=progress.read,
        )
    ]
    if progress.waiting:
        lines.append(text(language, "progress_waiting", count=progress.waiting))
    if progress.needs_template:
        lines.append(text(language, "progress_needs_template", count=progress.needs_template))
    if progress.cancelled:
        lines.append(text(language, "progress_cancelled", count=progress.cancelled))
    if progress.failed or progress.unreachable:
        lines.append(
            text(
                language,
                "progress_failed",
                failed=progress.failed,
                unreachable=progress.unreachable,
            )
        )
    return lines
