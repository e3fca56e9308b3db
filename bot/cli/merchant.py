"""`jbl merchant …`: staff manage who runs which shop."""

from __future__ import annotations

import argparse
import functools
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.cli.staff import actor
from bot.cli.usage import UsageError, add_actions, add_command, row_id
from bot.telegram.links import bot_username, start_url
from handlers.routes import join_link
from handlers.texts import text
from models.claims import decide, pending_claims
from models.errors import Refusal
from models.invites import create_invite, merchants_and_operators, remove_operator
from models.people import canonical_identity
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    merchant = add_command(commands, "merchant", "manage merchants and the people who run them")
    merchant_commands = add_actions(merchant, "merchant_command")
    listing = add_command(
        merchant_commands,
        "list",
        "list merchants with their ids, areas and operators",
        "A line per merchant: id, name, area and operators, separated by tabs.",
    )
    listing.add_argument(
        "ids", nargs="*", type=row_id, metavar="ID", help="the merchants (default: all)"
    )
    listing.set_defaults(run=_list, read_only=True)
    invite = add_command(
        merchant_commands,
        "invite",
        "print a single-use code that makes someone an operator",
        "With a Telegram link too when the bot's username is known. The person sends"
        " /gabung CODE in the chat, or opens the link, before it expires ([merchants]"
        " invite_valid_days).",
    )
    invite.add_argument("merchant_id", type=row_id, metavar="ID", help="the merchant's id")
    invite.add_argument(
        "--bot", help="the bot's Telegram username, for the link (default: asked from Telegram)"
    )
    invite.set_defaults(run=_invite)
    remove = add_command(
        merchant_commands, "remove-operator", "stop someone running a merchant's shop"
    )
    remove.add_argument("merchant_id", type=row_id, metavar="ID", help="the merchant's id")
    remove.add_argument(
        "identity",
        type=_identity,
        help="the operator: telegram:12345, console:name or a WhatsApp number, whatsapp:+62 812-…",
    )
    remove.set_defaults(run=_remove_operator)
    pending = add_command(
        merchant_commands,
        "claims",
        "list the claims by phone waiting for staff",
        "A claim of a shop someone else runs waits for staff. A line per claim: id, shop id,"
        " shop, phone, claimant, since when and who runs the shop now, separated by tabs.",
    )
    pending.set_defaults(run=_claims, read_only=True)
    for name, approve, said in (
        ("approve-claim", True, "approve a claim: the claimant runs the shop too"),
        ("refuse-claim", False, "refuse a claim: nothing changes"),
    ):
        decision = add_command(
            merchant_commands, name, said, "The claimant is told in chat, in their language."
        )
        decision.add_argument(
            "claim_id",
            type=row_id,
            metavar="CLAIM_ID",
            help="the claim's id, as `jbl merchant claims` lists it",
        )
        decision.set_defaults(run=functools.partial(_decide, approve=approve))


def _identity(value: str) -> str:
    """An identity as typed (a WhatsApp number in any spelling) in its one stored form."""
    try:
        return canonical_identity(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


async def _list(app: App, args: argparse.Namespace) -> None:
    missing = await print_merchants(app, args.ids)
    if missing:
        raise UsageError(f"no merchant with id {', '.join(map(str, missing))}")


async def _invite(app: App, args: argparse.Namespace) -> None:
    username = args.bot
    if username is None and app.settings.telegram.token is not None:
        username = await bot_username(app.settings.telegram)
    try:
        print(await invite(app, args.merchant_id, username))
    except LookupError as error:
        raise UsageError(str(error)) from error


async def _remove_operator(app: App, args: argparse.Namespace) -> None:
    if not await unlink(app, args.merchant_id, args.identity):
        raise UsageError(f"{args.identity} is not an operator of merchant {args.merchant_id}")
    print(f"{args.identity} no longer runs merchant {args.merchant_id}")


async def _claims(app: App, args: argparse.Namespace) -> None:
    async with app.sessions() as session:
        waiting = await pending_claims(session)
    for claim in waiting:
        asked = claim.answered_at or claim.asked_at
        since = asked.astimezone(app.settings.timezone).strftime("%Y-%m-%d %H:%M")
        claimant = ", ".join(claim.identities) or "-"
        print(
            f"{claim.id}\t{claim.merchant_id}\t{claim.merchant}\t{claim.phone}\t{claimant}"
            f"\t{since}\trun by {', '.join(claim.operators)}"
        )
    if not waiting:
        print("no claims waiting")


async def _decide(app: App, args: argparse.Namespace, *, approve: bool) -> None:
    async with UnitOfWork(app.sessions) as uow:
        try:
            claim = await decide(uow.session, args.claim_id, approve, app.clock(), actor=actor())
        except Refusal as refusal:
            raise UsageError(text("en", refusal.key, **refusal.params)) from refusal
        await uow.commit()
    outcome = "now runs" if approve else "does not run"
    print(f"claim {claim.id} {'approved' if approve else 'refused'}: {claim.phone} {outcome}")
    print(f"merchant {claim.merchant_id} ({claim.merchant}); the claimant will be told")


async def print_merchants(app: App, ids: list[int]) -> list[int]:
    """`id<TAB>name<TAB>area<TAB>operators`; returns the ids that do not exist."""
    async with app.sessions() as session:
        merchants = await merchants_and_operators(session, ids)
    for merchant, operators in merchants:
        print(f"{merchant.id}\t{merchant.name}\t{merchant.area}\t{', '.join(operators) or '-'}")
    found = {merchant.id for merchant, _ in merchants}
    return [id for id in ids if id not in found]


async def invite(app: App, merchant_id: int, username: str | None) -> str:
    """Creates a single-use invite and returns the lines to give the operator."""
    valid = timedelta(days=app.settings.merchants.invite_valid_days)
    async with UnitOfWork(app.sessions) as uow:
        created = await create_invite(uow.session, merchant_id, app.clock(), valid)
        await uow.commit()
    expires = created.expires_at.astimezone(app.settings.timezone).strftime("%Y-%m-%d %H:%M")
    lines = [f"code: {created.code}", f"expires: {expires} ({app.settings.broadcast.timezone})"]
    lines.append(f"in chat: /gabung {created.code}")
    if username:
        lines.append(f"telegram: {start_url(username, join_link(created.code))}")
    return "\n".join(lines)


async def unlink(app: App, merchant_id: int, identity: str) -> bool:
    async with UnitOfWork(app.sessions) as uow:
        removed = await remove_operator(uow.session, merchant_id, identity)
        await uow.commit()
    return removed
