"""The console's audit: `staff_actions` as a list, newest first, filtered by what, where from,
who and when, fifty at a time."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from bot.admin.typed import day, number
from handlers.formatting import local_time
from models.friday import day_bounds
from models.staff import CHANNELS, AuditFilter, audit, audit_actions

if TYPE_CHECKING:
    from bot.admin.console import ConsoleConfig, Pages
    from models.web_sessions import Signed

PAGE_ROWS = 50
MAX_TYPED = 80


class Audit:
    def __init__(self, config: ConsoleConfig, pages: Pages) -> None:
        self.config = config
        self.pages = pages

    async def page(self, request: Request, signed: Signed) -> Response:
        query = request.query_params
        action = _typed(query.get("action"))
        channel = query.get("channel") if query.get("channel") in CHANNELS else None
        who = _typed(query.get("who"))
        since, until = day(query.get("from")), day(query.get("to"))
        timezone = self.config.timezone
        found = AuditFilter(
            action=action,
            channel=channel,
            who=who,
            since=day_bounds(since, timezone)[0] if since else None,
            until=day_bounds(until, timezone)[1] if until else None,
        )
        before_id = number(query.get("before"))
        async with self.config.sessions() as session:
            rows = await audit(session, found, before_id, PAGE_ROWS + 1)
            actions = await audit_actions(session)
        more = len(rows) > PAGE_ROWS
        rows = rows[:PAGE_ROWS]
        language = signed.language
        shown = [
            {
                "at": local_time(row.at, timezone, language),
                "who": row.person or row.actor,
                "actor": row.actor,
                "channel": row.channel,
                "action": row.action,
                "detail": json.dumps(row.detail, ensure_ascii=False, sort_keys=True)
                if row.detail
                else "",
            }
            for row in rows
        ]
        kept = {
            "action": action or "",
            "channel": channel or "",
            "who": who or "",
            "from": since.isoformat() if since else "",
            "to": until.isoformat() if until else "",
        }
        older = None
        if more:
            older = "?" + urlencode({k: v for k, v in kept.items() if v} | {"before": rows[-1].id})
        return self.pages.render(
            "audit.html",
            language,
            signed,
            rows=shown,
            actions=actions,
            channels=CHANNELS,
            kept=kept,
            older=older,
        )


def _typed(value: str | None) -> str | None:
    value = (value or "").strip()
    return value[:MAX_TYPED] or None
