"""`jbl friday …`: the Friday calendar of featured categories."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from bot.cli.staff import actor
from bot.cli.usage import UsageError, add_actions, add_command
from handlers.broadcast import CALENDAR_WEEKS
from handlers.texts import text
from models import broadcasts
from models.catalog import category_by_slug_or_id, category_slugs
from models.errors import Refusal
from models.friday import edition_date
from models.staff import record
from models.uow import UnitOfWork

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    friday = add_command(
        commands, "friday", "plan the featured category and headline of each Friday"
    )
    friday_commands = add_actions(friday, "friday_command")
    plan = add_command(
        friday_commands,
        "plan",
        f"show the next {CALENDAR_WEEKS} Fridays: category, headline and broadcast",
        "Under a header, a line per Friday: its date, its featured category's name, the"
        " category's slug (what `jbl friday set` takes), the broadcast's state and headline.",
    )
    plan.set_defaults(run=_plan, read_only=True)
    set_one = add_command(
        friday_commands,
        "set",
        "choose a Friday's featured category and headline",
        "A Friday whose broadcast has started cannot be changed.",
    )
    set_one.add_argument("date", help="the Friday, YYYY-MM-DD")
    set_one.add_argument("category", help="the category's slug or id (see `jbl friday plan`)")
    set_one.add_argument("--headline", help="the broadcast's headline for that Friday")
    set_one.set_defaults(run=_set)


async def _plan(app: App, _args: argparse.Namespace) -> None:
    await print_plan(app)


async def _set(app: App, args: argparse.Namespace) -> None:
    try:
        print(await set_friday(app, args.date, args.category, args.headline))
    except ValueError as error:
        raise UsageError(str(error)) from error


def this_friday(app: App) -> date:
    """The Friday of this week's edition, in the program's time zone: today on a Friday."""
    return edition_date(app.clock().astimezone(app.settings.timezone).date())


# The columns of `jbl friday plan`; the slug's header says where it is used.
PLAN_HEADER = ("friday", "category", "slug (for jbl friday set)", "broadcast", "headline")


async def print_plan(app: App) -> None:
    """The next Fridays under a header, in aligned columns: date, the featured category's
    name and the slug `jbl friday set` takes, the broadcast's state and the headline (last,
    as the one that may be long)."""
    async with UnitOfWork(app.sessions) as uow:
        fridays = await broadcasts.calendar(uow.session, this_friday(app), CALENDAR_WEEKS)
    lines = [PLAN_HEADER] + [
        (
            friday.isoformat(),
            category.name("id"),
            category.slug,
            status or "-",
            " ".join(headline.split()) if headline else "-",
        )
        for friday, category, headline, status in fridays
    ]
    *aligned, _ = zip(*lines, strict=True)
    widths = [max(map(len, column)) for column in aligned]
    for *cells, headline in lines:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        print("  ".join([*padded, headline]))


async def set_friday(app: App, day: str, category_name: str, headline: str | None) -> str:
    try:
        friday = date.fromisoformat(day)
    except ValueError as error:
        raise ValueError(f"{day}: write the date as YYYY-MM-DD") from error
    async with UnitOfWork(app.sessions) as uow:
        category = await category_by_slug_or_id(uow.session, category_name)
        if category is None:
            slugs = ", ".join(await category_slugs(uow.session))
            raise ValueError(f"{category_name}: no such category (one of {slugs})")
        try:
            await broadcasts.plan_friday(uow.session, friday, category, headline, this_friday(app))
        except Refusal as refusal:
            raise ValueError(text("en", refusal.key, **refusal.params)) from None
        await record(
            uow.session,
            actor(),
            "friday_set",
            app.clock(),
            friday=day,
            category=category.slug,
            headline=headline,
        )
        await uow.commit()
    return f"{day}: {category.slug}" + (f" — {headline.strip()}" if headline else "")
