"""Staff read `staff_actions` in the web console: who did what, when, from which channel or
the web, newest first, filtered and paged."""

from __future__ import annotations

import html
import re

from bot.admin.console import PREFIX
from bot.cli.friday import set_friday
from bot.cli.staff import add_staff
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.web_console import Browser, console_jbl, signed_in_staff

AUDIT = f"{PREFIX}/audit"


def rows(page: str) -> list[list[str]]:
    """The table's rows as the cells' texts."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


async def test_staff_see_who_did_what_from_where_and_filter_it(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        home = await signed_in_staff(jbl, tg, browser)
        await set_friday(jbl.app, "2026-12-04", "produk-kesehatan", "Dari baris perintah")
        await browser.post(
            f"{PREFIX}/jumat/2026-12-11",
            {"csrf": browser.csrf(home), "category": "1", "headline": "Dari web"},
        )

        everything = rows((await browser.get(AUDIT)).text)
        whats = [row[3] for row in everything]
        assert whats[:2] == ["friday_set", "friday_set"]
        assert {"staff_add", "web_link"} <= set(whats)
        newest = everything[0]
        assert newest[1] == "Ana" and newest[2] == "Konsol web"
        assert '"headline": "Dari web"' in newest[4]
        assert everything[1][2] == "Baris perintah"
        assert newest[0] == "Selasa, 24 November 2026 10.00"

        from_web = rows((await browser.get(f"{AUDIT}?channel=web")).text)
        assert [row[3] for row in from_web] == ["friday_set"]
        by_chat = rows((await browser.get(f"{AUDIT}?channel=telegram&who=an")).text)
        assert [row[3] for row in by_chat] == ["web_link"]
        links = rows((await browser.get(f"{AUDIT}?action=web_link")).text)
        assert len(links) == 1
        nobody = await browser.get(f"{AUDIT}?who=%25_%25&from=2020-01-01&to=2020-01-02")
        assert "Tidak ada tindakan staf yang cocok." in nobody.text
        odd = await browser.get(f"{AUDIT}?channel=fax&from=20261124&before=²")
        assert odd.status_code == 200 and len(rows(odd.text)) == len(everything)


async def test_the_audit_pages_fifty_at_a_time(
    database_url: str, clock: Clock, tg: FakeTelegram
) -> None:
    async with console_jbl(database_url, clock, tg) as jbl, Browser(jbl) as browser:
        await signed_in_staff(jbl, tg, browser)
        for n in range(60):
            await add_staff(jbl.app, f"console:staf{n}")
        first = await browser.get(f"{AUDIT}?action=staff_add")
        assert len(rows(first.text)) == 50
        older = re.search(r'href="(/admin/audit\?[^"]+)"', first.text)
        assert older is not None
        rest = await browser.get(older.group(1).replace("&amp;", "&"))
        # 60 added here and Ana made staff before: 61, oldest last.
        assert len(rows(rest.text)) == 11
        assert "console:staf0" in rest.text
