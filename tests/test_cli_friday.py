"""Staff plan the Fridays from the command line: `jbl friday plan` shows, under a header, each
Friday's category by name with the slug that `jbl friday set` takes."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import App
from models.catalog import Category
from tests.test_cli_and_console import run_jbl

HEADER = ["friday", "category", "slug (for jbl friday set)", "broadcast", "headline"]


def planned(database_url: str, cwd: Path) -> tuple[str, list[str]]:
    """`jbl friday plan`: its header line and its other lines."""
    result = run_jbl("friday", "plan", database_url=database_url, cwd=cwd)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    header, *lines = result.stdout.splitlines()
    return header, lines


async def test_friday_plan_names_each_category_with_the_slug_friday_set_takes(
    app: App, database_url: str, tmp_path: Path
) -> None:
    async with app.sessions() as session:
        names = {c.slug: c.name("id") for c in await session.scalars(select(Category))}
    header, lines = planned(database_url, tmp_path)
    assert re.split(r"  +", header) == HEADER
    rows = [re.split(r"  +", line) for line in lines]
    assert len(rows) == 8
    for friday, name, slug, broadcast, headline in rows:
        assert date.fromisoformat(friday).weekday() == 4
        assert names[slug] == name
        assert (broadcast, headline) == ("-", "-")
    # The columns line up under their headings.
    for line, (_, name, slug, *_) in zip(lines, rows, strict=True):
        assert line.index(f"  {name}") == header.index("  category"), line
        assert line.index(f"  {slug}") == header.index("  slug"), line

    friday, _, slug, *_ = rows[3]
    other = next(each for each in sorted(names) if each != slug)
    chosen = run_jbl(
        "friday",
        "set",
        friday,
        other,
        "--headline",
        "Batik Jumat",
        database_url=database_url,
        cwd=tmp_path,
    )
    assert (chosen.returncode, chosen.stderr) == (0, ""), chosen.stderr
    _, lines = planned(database_url, tmp_path)
    assert re.split(r"  +", lines[3]) == [friday, names[other], other, "-", "Batik Jumat"]
