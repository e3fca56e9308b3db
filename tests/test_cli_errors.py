"""A careless operator and a closed pipe: every `jbl` command, run as a real process, answers
with one line on stderr and a non-zero exit, or ends quietly, and never with a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.bootstrap import App, build_app
from bot.settings import NOT_SETTINGS, Settings, unknown_variables
from models.db import Access, create_engine
from models.staff import grant_staff
from models.uow import UnitOfWork
from tests.conftest import PG_URL
from tests.test_cli_and_console import JBL, run_jbl

NEXT_FRIDAY = date.today() + timedelta(days=7 + (4 - date.today().weekday()) % 7)
# Every command that prints, as an operator types it on the demo catalog.
PRINTING = [
    ["db", "init", "--demo"],
    ["chat", "--as", "ani"],
    ["links", "product", "--bot", "jblbot"],
    ["links", "merchant", "1", "2", "--bot", "jblbot"],
    ["merchant", "list"],
    ["merchant", "invite", "1", "--bot", "jblbot"],
    ["staff", "add", "console:ani"],
    ["staff", "remove", "console:sari"],
    ["friday", "plan"],
    ["friday", "set", NEXT_FRIDAY.isoformat(), "fesyen-kerajinan", "--headline", "Batik"],
    ["broadcast", "status"],
    ["--help"],
    ["merchant", "--help"],
]
READING = [
    ["merchant", "list"],
    ["friday", "plan"],
    ["broadcast", "status"],
    ["links", "product", "1", "--bot", "jblbot"],
]


def assert_one_line(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """A non-zero exit and one line on stderr that says each of `expected`."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("jbl: ")
    for part in expected:
        assert part in lines[0]
    return lines[0]


@pytest.mark.parametrize("command", PRINTING, ids=" ".join)
async def test_every_printing_command_ends_quietly_when_its_reader_has_gone(
    app: App, database_url: str, tmp_path: Path, command: list[str]
) -> None:
    async with UnitOfWork(app.sessions) as uow:
        await grant_staff(uow.session, "console:sari", app.clock())
        await uow.commit()
    result = run_with_reader_gone(command, database_url, tmp_path)
    assert (result.returncode, result.stderr) == (0, "")


def run_with_reader_gone(
    command: list[str], database_url: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`jbl …` writing to a pipe whose reader has gone, as `jbl … | head -1` once head has its
    line; a chat gets two lines on stdin."""
    reader, writer = os.pipe()
    os.close(reader)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    try:
        return subprocess.run(
            [JBL, *command],
            input="/start\n/katalog\n",
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=env | {"JBL_DATABASE__URL": database_url},
            timeout=120,
        )
    finally:
        os.close(writer)


# Each file, and what the line says; the ones that cannot be read are named by their path.
BROKEN_FILES = {
    "missing": (None, "no such settings file"),
    "directory": ("", "a directory, not a settings file"),
    "not UTF-8": (b"\xff\xfe[http]\nport = 1\n", "not UTF-8 text"),
    "broken TOML": (b"[http\nport = 1", "not valid TOML"),
    "infinite rate": (b"[telegram]\nrate_per_s = inf\n", "setting telegram.rate_per_s ("),
    "unknown section": (b"[htpp]\nport = 1\n", "setting htpp (JBL_HTPP)"),
}


@pytest.mark.parametrize("case", BROKEN_FILES, ids=str)
def test_a_settings_file_that_cannot_be_used_is_named(
    database_url: str, tmp_path: Path, case: str
) -> None:
    content, expected = BROKEN_FILES[case]
    path = tmp_path / "settings.toml"
    if content == "":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    by_flag = run_jbl(
        "--config", str(path), "merchant", "list", database_url=database_url, cwd=tmp_path
    )
    named = () if expected.startswith("setting") else (str(path),)
    assert_one_line(by_flag, *named, expected)
    by_env = run_jbl(
        "friday",
        "plan",
        database_url=database_url,
        cwd=tmp_path,
        extra_env={"JBL_CONFIG": str(path)},
    )
    assert_one_line(by_env, *named, expected)


BROKEN_SETTINGS = [
    ("JBL_TELEGRAM__RATE_PER_S", "inf"),
    ("JBL_TELEGRAM__RATE_PER_S", "nan"),
    ("JBL_TELEGRAM__RATE_PER_S", "1e308"),
    ("JBL_TELEGRAM__RATE_PER_S", "-inf"),
    ("JBL_TELEGRAM__RATE_PER_S", "0"),
    ("JBL_TELEGRAM__PER_CHAT_PER_S", "1e-300"),
    ("JBL_WHATSAPP__RATE_PER_S", "1e308"),
    ("JBL_WHATSAPP__RATE_PER_S", "infinity"),
    ("JBL_ORDERS__EXPIRE_AFTER_MINUTES", "100000000000000000000"),
    ("JBL_ORDERS__REMIND_AFTER_MINUTES", "1e308"),
    ("JBL_DATABASE__POOL_SIZE", "1e308"),
    ("JBL_HTTP__HOST", ""),
    ("JBL_HTTP__HOST", "   "),
    ("JBL_HTTP__PORT", "99999999999999999999"),
]


@pytest.mark.parametrize(
    ("name", "value"), BROKEN_SETTINGS, ids=[f"{name}={value}" for name, value in BROKEN_SETTINGS]
)
def test_an_absurd_setting_stops_the_command_with_one_line_naming_it(
    database_url: str, tmp_path: Path, name: str, value: str
) -> None:
    # Every command loads the settings in the same place; `jbl run` is the one that uses these.
    command = ["run"] if name.startswith(("JBL_HTTP", "JBL_TELEGRAM")) else ["merchant", "list"]
    result = run_jbl(*command, database_url=database_url, cwd=tmp_path, extra_env={name: value})
    assert_one_line(result, f"({name})")


def test_a_misspelt_variable_is_named_once_and_what_it_meant_too(
    app: App, database_url: str, tmp_path: Path
) -> None:
    result = run_jbl(
        "merchant",
        "list",
        database_url=database_url,
        cwd=tmp_path,
        extra_env={"JBL_DATABSE__URL": "sqlite+aiosqlite:///other.db", "JBL_FOO": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert sorted(result.stderr.splitlines()) == [
        "WARNING bot.settings: JBL_DATABSE__URL is not a setting of jbl and is ignored;"
        " did you mean JBL_DATABASE__URL?",
        "WARNING bot.settings: JBL_FOO is not a setting of jbl and is ignored",
    ]
    assert "Kue Basah Ibu Ratna" in result.stdout


def test_the_variables_jbl_tests_and_benchmarks_read_are_no_typos(
    app: App, database_url: str, tmp_path: Path
) -> None:
    config = Path(__file__).parent.parent / "config.toml"
    known = {
        "JBL_CONFIG": str(config),
        "JBL_TEST_DATABASE_URL": database_url,
        "JBL_BENCH_PROFILE": "profile",
        "JBL_TELEGRAM__RATE_PER_S": "20",
        "jbl_catalog__page_size": "5",
        "JBL_DATABASE": '{"pool_size": 3}',
    }
    assert set(NOT_SETTINGS) <= set(known)
    assert unknown_variables(known) == {}
    result = run_jbl("friday", "plan", database_url=database_url, cwd=tmp_path, extra_env=known)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("command", [*READING, ["merchant", "invite", "1"], ["chat"]], ids=" ".join)
def test_a_database_never_initialised_says_to_run_db_init(
    tmp_path: Path, command: list[str]
) -> None:
    missing = run_jbl(*command, database_url="sqlite+aiosqlite:///jbl.db", cwd=tmp_path)
    assert_one_line(missing, str(tmp_path / "jbl.db"), "does not exist: run `jbl db init`")
    assert not (tmp_path / "jbl.db").exists()  # nothing left behind
    (tmp_path / "empty.db").touch()
    empty = run_jbl(*command, database_url="sqlite+aiosqlite:///empty.db", cwd=tmp_path)
    assert_one_line(empty, "has no tables yet: run `jbl db init`")


@pytest.mark.skipif(not PG_URL, reason="needs JBL_TEST_DATABASE_URL")
async def test_a_postgresql_database_never_initialised_says_to_run_db_init(
    database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE alembic_version RENAME TO hidden_version"))
        for command in (*READING, ["staff", "add", "console:ani"]):
            result = run_jbl(*command, database_url=database_url, cwd=tmp_path)
            assert_one_line(result, "has no tables yet: run `jbl db init`")
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE hidden_version RENAME TO alembic_version"))
        await engine.dispose()


def _unreachable() -> list[tuple[str, str]]:
    cases = [
        (
            "postgresql+asyncpg://postgres@127.0.0.1:1/jbl",
            "cannot reach PostgreSQL at 127.0.0.1:1: Connection refused",
        ),
        ("sqlite+aiosqlite:////nonexistent-jbl/jbl.db", "the directory /nonexistent-jbl does not"),
    ]
    if PG_URL:
        url = make_url(PG_URL)
        server = f"PostgreSQL at {url.host}:{url.port or 5432}"
        cases += [
            (
                url.set(database="jbl_no_such_database").render_as_string(False),
                f"{server} has no database jbl_no_such_database",
            ),
            (
                url.set(username="jbl_no_such_role").render_as_string(False),
                f'{server} refused the connection: role "jbl_no_such_role" does not exist',
            ),
        ]
    return cases


@pytest.mark.parametrize(("url", "expected"), _unreachable(), ids=lambda value: value[:40])
@pytest.mark.parametrize(
    "command", [["merchant", "list"], ["db", "init"], ["staff", "add", "console:ani"]], ids=" ".join
)
def test_a_database_that_cannot_be_reached_is_named(
    tmp_path: Path, url: str, expected: str, command: list[str]
) -> None:
    result = run_jbl(*command, database_url=url, cwd=tmp_path)
    assert_one_line(result, expected)


# Root writes whatever it likes; without these capabilities it keeps to the permission bits.
AS_PLAIN_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


@pytest.fixture
def read_only_database(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A demo database this test's `jbl` may read and not write: neither the file nor its
    directory. As root, `jbl` runs without the capabilities that ignore permissions."""
    directory = tmp_path / "read-only"
    directory.mkdir()
    url = f"sqlite+aiosqlite:///{directory / 'jbl.db'}"
    assert run_jbl("db", "init", "--demo", database_url=url, cwd=directory).returncode == 0
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("as root, this needs setpriv to give up root's file permissions")
        prefix = AS_PLAIN_USER
    (directory / "jbl.db").chmod(0o444)
    directory.chmod(0o555)
    try:
        yield directory, prefix
    finally:
        directory.chmod(0o755)


def _run_as(
    command: list[str], directory: Path, prefix: list[str]
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    env["JBL_DATABASE__URL"] = f"sqlite+aiosqlite:///{directory / 'jbl.db'}"
    return subprocess.run(
        [*prefix, JBL, *command],
        capture_output=True,
        text=True,
        cwd=directory,
        env=env,
        timeout=120,
    )


def test_reading_commands_work_on_a_read_only_database_and_writing_ones_say_why_not(
    read_only_database: tuple[Path, list[str]],
) -> None:
    directory, prefix = read_only_database
    for command in READING:
        result = _run_as(command, directory, prefix)
        assert (result.returncode, result.stderr) == (0, ""), command
        assert result.stdout
    assert sorted(p.name for p in directory.iterdir()) == ["jbl.db"]
    for command in (["staff", "add", "console:ani"], ["merchant", "invite", "1"], ["db", "init"]):
        result = _run_as(command, directory, prefix)
        assert_one_line(result, "is read-only for this user", "this command writes")


async def test_an_engine_opened_for_reading_refuses_every_write(database_url: str) -> None:
    reader = build_app(
        Settings.model_validate({"database": {"url": database_url}}), access=Access.READ
    )
    try:
        async with UnitOfWork(reader.sessions) as uow:
            with pytest.raises(DBAPIError, match=r"(?i)read-only|readonly"):
                await grant_staff(uow.session, "console:ani", reader.clock())
                await uow.session.flush()
    finally:
        await reader.close()
