"""`jbl broadcast status`: how the Friday broadcast is going, as `/siaran` shows staff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.cli.friday import this_friday
from bot.cli.usage import add_actions, add_command
from handlers.broadcast import estimate_lines, paid_lines
from handlers.formatting import local_time
from models import broadcasts
from models.subscriptions import audience
from models.uow import UnitOfWork

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    broadcast = add_command(
        commands,
        "broadcast",
        "follow the Friday broadcast",
        "Staff send, pause and cancel it in chat, with /siaran.",
    )
    broadcast_commands = add_actions(broadcast, "broadcast_command")
    add_command(
        broadcast_commands,
        "status",
        "show the next broadcast: when, to how many, how far it is",
    ).set_defaults(run=_status, read_only=True)


async def _status(app: App, _args: argparse.Namespace) -> None:
    print(await broadcast_status(app))


async def broadcast_status(app: App) -> str:
    """The next broadcast's state as `/siaran` shows it, in lines for the terminal."""
    now = app.clock()
    friday = this_friday(app)
    zone = app.settings.timezone
    async with UnitOfWork(app.sessions) as uow:
        broadcast = await broadcasts.broadcast_for(uow.session, friday)
        content = await broadcasts.content_for(uow.session, broadcast, friday)
        lines = [f"friday: {friday.isoformat()} ({content.category.slug})"]
        if broadcast is None or broadcast.status == broadcasts.SCHEDULED:
            send_at = (
                broadcast.send_at if broadcast else app.conversation.config.send_time.of(friday)
            )
            total, unreachable = await audience(uow.session, content.category)
            rates = app.conversation.config.rates
            estimate = await broadcasts.estimate(uow.session, content.category, rates)
            lines += [
                "status: scheduled",
                f"sends at: {local_time(send_at, zone, 'en')}",
                f"recipients: {total - unreachable} ({unreachable} unreachable, skipped)",
                *estimate_lines("en", estimate),
            ]
            if rates.paid is not None:
                paid = broadcast is not None and broadcast.paid
                lines.append(f"telegram sends: {'paid' if paid else 'free'} (chosen in /siaran)")
            return "\n".join(lines)
        done = await broadcasts.progress(uow.session, broadcast, now)
    rate = f"{done.rate:.1f}/s" if done.rate else "-"
    eta = local_time(done.eta, zone, "en") if done.eta else "-"
    counts = done.counts
    lines += [
        f"status: {broadcast.status}",
        f"sent: {counts.sent} of {counts.total}",
        f"delivered: {counts.delivered}",
        f"read: {counts.read}",
        f"left: {counts.waiting}",
        f"needs a WhatsApp template: {counts.needs_template}",
        f"failed: {counts.failed}",
        f"unreachable: {counts.unreachable}",
        f"cancelled: {counts.cancelled}",
        f"skipped at start (unreachable): {broadcast.skipped}",
        f"rate: {rate}",
        f"estimated finish: {eta}",
    ]
    if broadcast.paid:
        lines += paid_lines("en", broadcast, zone)
    return "\n".join(lines)
