"""`jbl curate …`: staff's review of products from the terminal, as `/kurasi` does it in chat."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.staff import actor
from bot.cli.usage import UsageError, add_actions, add_command, row_id
from handlers.formatting import local_time
from handlers.money import format_rupiah
from models.catalog import Product, Review
from models.curation import MAX_NOTE, NEEDS_NOTE, Decision, Shown, decide, waiting_products
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.bootstrap import App

# What each decision needs the product not to be already, and how that is said.
_ALREADY = {
    Decision.APPROVE: (lambda p: p.review_state == Review.LISTED, "is listed already"),
    Decision.CHANGES: (
        lambda p: p.review_state == Review.CHANGES_ASKED,
        "has changes asked already",
    ),
    Decision.REJECT: (lambda p: p.review_state == Review.REJECTED, "is rejected already"),
    Decision.PIN: (lambda p: p.curated and p.review_state == Review.LISTED, "is pinned already"),
    Decision.UNPIN: (lambda p: not p.curated, "is not pinned"),
}
_HELP = {
    Decision.APPROVE: "list the product",
    Decision.CHANGES: "ask its merchant for changes (with --note)",
    Decision.REJECT: "reject the product (with --note, the reason)",
    Decision.PIN: "list it as a curator's pick, first in its category",
    Decision.UNPIN: "take back the curator's pick (it stays listed)",
}
_TOLD = {
    Decision.APPROVE: "Its merchant is told.",
    Decision.CHANGES: "Its merchant is told, with the note; editing the product sends it back"
    " for review.",
    Decision.REJECT: "Its merchant is told, with the note; it stays out of the catalog.",
    Decision.PIN: "It is listed if it was not, a demotion is lifted, and its merchant is told.",
    Decision.UNPIN: "It ranks by its sales again; its merchant is not told.",
}


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    curate = add_command(
        commands,
        "curate",
        "review products before they are listed",
        "As /kurasi does in chat; every decision is recorded in staff_actions.",
    )
    actions = add_actions(curate, "curate_command")
    listing = add_command(
        actions,
        "list",
        "list the products waiting for review, oldest first",
        "A line per product: id, name, price, shop and since when, separated by tabs.",
    )
    listing.add_argument(
        "--limit", type=int, default=50, metavar="N", help="at most N products (default: 50)"
    )
    listing.set_defaults(run=_list, read_only=True)
    for decision in Decision:
        action = add_command(actions, decision.value, _HELP[decision], _TOLD[decision])
        action.add_argument("product_id", type=row_id, metavar="ID", help="the product's id")
        action.add_argument("--note", help=f"for the merchant, up to {MAX_NOTE} characters")
        action.set_defaults(run=_decide, decision=decision)


async def _list(app: App, args: argparse.Namespace) -> None:
    if args.limit < 1:
        raise UsageError("--limit takes a number of 1 or more")
    async with app.sessions() as session:
        products = await waiting_products(session, args.limit)
        if not products:
            print("no product is waiting for review")
        for product in products:
            since = product.review_requested_at
            when = local_time(since, app.settings.timezone, "en") if since else "-"
            print(
                f"{product.id}\t{product.name}\t{format_rupiah(product.price)}"
                f"\t{product.merchant.name} ({product.merchant_id})\t{when}"
            )


async def _decide(app: App, args: argparse.Namespace) -> None:
    print(await curate(app, args.decision, args.product_id, args.note))


async def curate(app: App, decision: Decision, product_id: int, note: str | None) -> str:
    """Applies staff's decision to the product; a line saying what it did. Refuses, as a
    `UsageError`, a decision that needs a note without one, or one that changes nothing."""
    note = note.strip() if note is not None else None
    if decision in NEEDS_NOTE and not note:
        raise UsageError(f"curate {decision.value} needs --note: what the merchant is told")
    if note is not None and not 1 <= len(note) <= MAX_NOTE:
        raise UsageError(f"--note takes 1 to {MAX_NOTE} characters")
    async with UnitOfWork(app.sessions) as uow:
        product = await uow.session.get(Product, product_id)
        if product is None:
            raise UsageError(f"no product with id {product_id}")
        already, said = _ALREADY[decision]
        if already(product):
            raise UsageError(f"product {product_id} {said}")
        shown = Shown(product.review_state, product.review_requested_at)
        decided = await decide(
            uow.session, product_id, decision, app.clock(), actor=actor(), note=note, shown=shown
        )
        if decided is None:
            raise UsageError(f"product {product_id} changed meanwhile; look again and retry")
        await uow.commit()
    return f"product {product_id} ({decided.name}): {decided.review_state}" + (
        ", curator's pick" if decided.curated else ""
    )
