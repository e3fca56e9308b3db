"""The `jbl` command as an operator runs it: a real process with its own environment."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

JBL = str(Path(sys.executable).parent / "jbl")
ROOT = Path(__file__).resolve().parent.parent


def jbl_env(database_url: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JBL_")}
    return env | {"JBL_DATABASE__URL": database_url, **settings}


async def jbl(*args: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        JBL,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def jbl_output(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Runs a `jbl` command to its end: exit code, standard output and error."""
    process = await jbl(*args, env=env, cwd=cwd)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def sender_process(
    database_url: str,
    api_base_url: str,
    lease_seconds: float,
    rate: float = 20,
    per_chat: float = 20,
    logs: bool = False,
) -> asyncio.subprocess.Process:
    """The outbox sender alone, to Telegram at `api_base_url` (`tests/sender_process.py`), at
    `rate` a second overall and `per_chat` per chat; with `logs`, its standard error is piped
    to the test (to read its shares of the rate)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.sender_process",
        database_url,
        api_base_url,
        str(lease_seconds),
        str(rate),
        str(per_chat),
        cwd=ROOT,
        stderr=asyncio.subprocess.PIPE if logs else None,
    )
