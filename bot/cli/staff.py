"""`jbl staff …`: who may plan and send the Friday broadcast."""

from __future__ import annotations

import getpass
import re
from typing import TYPE_CHECKING

from bot.cli.usage import UsageError, add_actions, add_command
from handlers.phones import normalize_phone
from handlers.sign_in import sign_in_url
from models.staff import grant_staff, record, revoke_staff
from models.uow import UnitOfWork
from models.web_sessions import create_link, staff_person

if TYPE_CHECKING:
    import argparse

    from bot.bootstrap import App

_TELEGRAM = re.compile(r"telegram:\d{1,20}")
_CONSOLE = re.compile(r"console:[\w.-]{1,40}")


def add_to(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = add_command(
        commands,
        "staff",
        "give or take away the staff role",
        "Staff run the program in chat too: the Friday broadcast, reviews, claims and reports.",
    )
    staff_commands = add_actions(staff, "staff_command")
    for action, helped, command in (
        ("add", "give the staff role to an identity", _add),
        ("remove", "take the staff role away (their web console sessions end)", _remove),
        ("login-link", "print a single-use link that signs a staff member in to /admin", _link),
    ):
        one = add_command(staff_commands, action, helped)
        one.add_argument("identity", help="who: telegram:12345, whatsapp:+62… or console:name")
        one.set_defaults(run=command)


async def _add(app: App, args: argparse.Namespace) -> None:
    try:
        print(await add_staff(app, args.identity))
    except ValueError as error:
        raise UsageError(str(error)) from error


async def _remove(app: App, args: argparse.Namespace) -> None:
    try:
        print(await remove_staff(app, args.identity))
    except (ValueError, LookupError) as error:
        raise UsageError(str(error)) from error


async def _link(app: App, args: argparse.Namespace) -> None:
    try:
        print(await login_link(app, args.identity))
    except (ValueError, LookupError) as error:
        raise UsageError(str(error)) from error


def typed_identity(typed: str) -> str:
    """`telegram:12345`, `console:name` or `whatsapp:+62…` (any way a number is written)."""
    typed = typed.strip()
    if typed.startswith("whatsapp:"):
        phone = normalize_phone(typed.removeprefix("whatsapp:"))
        if phone is None:
            raise ValueError(f"{typed}: not a valid Indonesian WhatsApp number")
        return f"whatsapp:{phone}"
    if _TELEGRAM.fullmatch(typed) or _CONSOLE.fullmatch(typed):
        return typed
    raise ValueError(f"{typed}: write telegram:<user id>, whatsapp:+62… or console:<name>")


def actor() -> str:
    """Who did it, in the staff actions' record: the user at this terminal."""
    return f"cli:{getpass.getuser()}"


async def add_staff(app: App, typed: str) -> str:
    identity = typed_identity(typed)
    async with UnitOfWork(app.sessions) as uow:
        added = await grant_staff(uow.session, identity, app.clock())
        if added:
            await record(uow.session, actor(), "staff_add", app.clock(), identity=identity)
        await uow.commit()
    return f"{identity} is staff now" if added else f"{identity} was staff already"


async def login_link(app: App, typed: str) -> str:
    """A sign-in link to the web console for a staff member, valid for 10 minutes."""
    identity = typed_identity(typed)
    console_url = app.settings.console_url
    if console_url is None:
        raise LookupError(
            "the web console has no public address: set [web] public_url (JBL_WEB__PUBLIC_URL)"
        )
    async with UnitOfWork(app.sessions) as uow:
        person_id = await staff_person(uow.session, identity)
        if person_id is None:
            raise LookupError(f"{identity} is not staff (jbl staff add {identity})")
        token, expires = await create_link(uow.session, person_id, actor(), app.clock())
        await record(uow.session, actor(), "web_link", app.clock(), identity=identity)
        await uow.commit()
    until = expires.astimezone(app.settings.timezone).strftime("%H:%M")
    return f"{sign_in_url(console_url, token)}\n(single use, until {until} {app.settings.timezone})"


async def remove_staff(app: App, typed: str) -> str:
    identity = typed_identity(typed)
    async with UnitOfWork(app.sessions) as uow:
        removed = await revoke_staff(uow.session, identity, app.clock())
        if not removed:
            raise LookupError(f"{identity} is not staff")
        await record(uow.session, actor(), "staff_remove", app.clock(), identity=identity)
        await uow.commit()
    return f"{identity} is no longer staff"
