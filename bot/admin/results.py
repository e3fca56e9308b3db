"""The console's results: `jbl report`'s figures for a Friday or a range of days, all Jakarta,
a kota or a kecamatan, broken down by what staff choose, as a chart and a table with the
broadcasts' funnel, and the same as CSV and as the XLSX `jbl report --format xlsx` writes."""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from handlers.money import format_rupiah
from handlers.reports.cells import write_results_csv
from handlers.reports.chart import chart_png
from handlers.reports.headings import count, period_heading, scope_heading
from handlers.reports.streaming import write_report_streaming
from handlers.results import funnel_text, kota_names, summary
from handlers.texts import text
from models.areas import UnknownArea, kecamatan_by_kota
from models.friday import FRIDAY, last_friday
from models.results import Dimension, Period, Results, Scope, funnels, results

if TYPE_CHECKING:
    from bot.admin.console import ConsoleConfig, Pages
    from models.web_sessions import Signed

# Fridays offered in the page's choice; any other comes by its date in the range.
FRIDAYS_OFFERED = 12
# Rows the page shows; the CSV and the XLSX hold them all.
ROWS_SHOWN = 200
LONGEST_RANGE = timedelta(days=366)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Asked:
    """The report a page's query asks for, checked; `error` says what was wrong with it (the
    report is then last Friday's, all Jakarta)."""

    period: Period
    scope: Scope
    by: Dimension
    error: str | None = None

    def query(self) -> str:
        values: dict[str, str] = {"per": self.by.value}
        if self.period.is_friday:
            values["jumat"] = self.period.first.isoformat()
        else:
            values |= {
                "dari": self.period.first.isoformat(),
                "sampai": self.period.last.isoformat(),
            }
        if self.scope.kota:
            values["kota"] = self.scope.kota
        if self.scope.kecamatan:
            values["kecamatan"] = self.scope.kecamatan
        return urlencode(values)


class ResultsPage:
    def __init__(self, config: ConsoleConfig, pages: Pages) -> None:
        self.config = config
        self.pages = pages

    def _last_friday(self) -> date:
        return last_friday(self.config.clock().astimezone(self.config.timezone).date())

    def asked(self, request: Request, language: str) -> Asked:
        query = request.query_params
        default = Asked(Period.friday(self._last_friday()), Scope(), Dimension.KOTA)
        try:
            period = self._period(query.get("jumat"), query.get("dari"), query.get("sampai"))
            scope = Scope.named(query.get("kota") or None, query.get("kecamatan") or None)
            typed_by = query.get("per") or ""
            by = Dimension(typed_by) if typed_by else None
        except (ValueError, UnknownArea):
            return Asked(default.period, default.scope, default.by, text(language, "web_rp_bad"))
        if by is None:
            by = Dimension.KECAMATAN if scope.kota and not scope.kecamatan else Dimension.KOTA
            by = Dimension.KELURAHAN if scope.kecamatan else by
        return Asked(period or default.period, scope, by)

    def _period(self, friday: str | None, first: str | None, last: str | None) -> Period | None:
        if first or last:
            start, end = date.fromisoformat(first or ""), date.fromisoformat(last or "")
            if end < start or end - start > LONGEST_RANGE:
                raise ValueError("range")
            return Period(start, end)
        if friday:
            day = date.fromisoformat(friday)
            if day.weekday() != FRIDAY:
                raise ValueError("not a Friday")
            return Period.friday(day)
        return None

    async def _results(self, asked: Asked) -> Results:
        async with self.config.sessions() as session:
            return await results(session, asked.period, asked.scope, asked.by, self.config.timezone)

    async def page(self, request: Request, signed: Signed) -> Response:
        language = signed.language
        asked = self.asked(request, language)
        async with self.config.sessions() as session:
            found = await results(
                session, asked.period, asked.scope, asked.by, self.config.timezone
            )
            funneled = await funnels(session, asked.period, asked.scope, self.config.timezone)
        last = self._last_friday()
        offered = [last - timedelta(weeks=n) for n in range(FRIDAYS_OFFERED)]
        rows = [
            {
                "key": row.key,
                "parent": row.parent or "",
                "units": count(row.figures.units, language),
                "omzet": format_rupiah(row.figures.omzet),
                "sold": count(row.figures.sold, language),
                "buyers": count(row.figures.buyers, language),
            }
            for row in found.rows[:ROWS_SHOWN]
        ]
        return self.pages.render(
            "results.html",
            language,
            signed,
            asked=asked,
            heading=f"{period_heading(asked.period, language)} · "
            f"{scope_heading(asked.scope, language)}",
            summary=summary(found.total, asked.period, asked.scope, language),
            funnel=funnel_text(funneled, language) if funneled else None,
            rows=rows,
            more=max(0, len(found.rows) - ROWS_SHOWN),
            total_units=count(found.total.units, language),
            total_omzet=format_rupiah(found.total.omzet),
            query=asked.query(),
            fridays=[(d.isoformat(), period_heading(Period.friday(d), language)) for d in offered],
            kotas=kota_names(),
            kecamatans=sorted(k for names in kecamatan_by_kota().values() for k in names),
            dimensions=[d.value for d in Dimension],
        )

    async def chart(self, request: Request, signed: Signed) -> Response:
        asked = self.asked(request, signed.language)
        found = await self._results(asked)
        png = await asyncio.to_thread(chart_png, found, signed.language)
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    async def csv(self, request: Request, signed: Signed) -> Response:
        asked = self.asked(request, signed.language)
        found = await self._results(asked)
        out = io.BytesIO()
        write_results_csv(found, out)
        name = f"{_file_name(asked)}.csv"
        return Response(out.getvalue(), media_type="text/csv", headers=_download(name))

    async def xlsx(self, request: Request, signed: Signed) -> Response:
        """The whole report's spreadsheet, written to a temporary file and sent from it."""
        asked = self.asked(request, signed.language)
        handle, path = tempfile.mkstemp(prefix="jbl-web-report-", suffix=".xlsx")
        os.close(handle)
        try:
            await write_report_streaming(
                path,
                self.config.sessions,
                asked.period,
                asked.scope,
                self.config.timezone,
                signed.language,
                products=self.config.sheet_products,
                at_once=self.config.at_once,
            )
        except BaseException:
            os.unlink(path)
            raise
        name = f"{_file_name(asked)}.xlsx"
        return FileResponse(
            path,
            media_type=XLSX,
            headers=_download(name),
            background=BackgroundTask(os.unlink, path),
        )


def _file_name(asked: Asked) -> str:
    period = asked.period
    when = str(period.first) if period.is_friday else f"{period.first}_{period.last}"
    where = asked.scope.name.replace(" ", "-")
    return f"jbl-{when}-{where}-{asked.by.value}"


def _download(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
