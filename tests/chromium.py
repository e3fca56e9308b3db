"""Debian's Chromium, driven by Selenium through Debian's ChromeDriver, for the web console's
tests in a real browser. The tests install both from the package manager when they are
missing, and skip with the reason when that cannot be done.

Selenium's calls block: each runs in a thread, so the `jbl run` the browser talks to keeps
serving on the test's event loop meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PACKAGES = ("chromium", "chromium-driver")
WAIT_SECONDS = 10.0
T = TypeVar("T")


def ensure_chromium() -> None:
    """Chromium and ChromeDriver are here, installed now if need be; else the test skips."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(f"needs Debian's {' and '.join(PACKAGES)} (apt-get install as root)")
    installed = subprocess.run(
        ["apt-get", "install", "-y", "-q", *PACKAGES],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if installed.returncode != 0 or not Path(CHROMEDRIVER).exists():
        last = (installed.stderr or installed.stdout).strip().splitlines()[-1:]
        pytest.skip(f"could not install {' '.join(PACKAGES)}: {' '.join(last)}")


class Chromium:
    """One headless Chromium window. Screenshots go to `shots`, downloads to `downloads`."""

    def __init__(self, shots: Path, downloads: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            "--lang=id",
        ):
            options.add_argument(argument)
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(downloads),
                "download.prompt_for_download": False,
                "intl.accept_languages": "id,en",
            },
        )
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.shots = shots
        self.downloads = downloads

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(call, *args)

    async def open(self, url: str) -> None:
        await self.run(self.driver.get, url)

    async def click(self, css: str) -> None:
        """Presses what `css` finds, once the page shows it."""
        from selenium.webdriver.common.by import By

        await self._press(By.CSS_SELECTOR, css)

    async def click_text(self, label: str) -> None:
        """Presses the button or link that shows `label`, once the page shows it."""
        from selenium.webdriver.common.by import By

        quoted = _quoted(label)
        await self._press(
            By.XPATH, f"//button[normalize-space()={quoted}] | //a[normalize-space()={quoted}]"
        )

    async def _press(self, by: str, where: str) -> None:
        from selenium.common.exceptions import (
            StaleElementReferenceException,
            WebDriverException,
        )
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        def press() -> None:
            # The page before may still be there, or be replaced as it is found: then again.
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                waiting = WebDriverWait(
                    self.driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,)
                )
                try:
                    waiting.until(expected_conditions.element_to_be_clickable((by, where))).click()
                    return
                except (StaleElementReferenceException, WebDriverException) as error:
                    gone = isinstance(error, StaleElementReferenceException) or (
                        "does not belong to the document" in str(error)
                    )
                    if not gone or time.monotonic() > deadline:
                        raise

        await self.run(press)

    async def type(self, css: str, words: str) -> None:
        from selenium.webdriver.common.by import By

        def typing() -> None:
            field = self.driver.find_element(By.CSS_SELECTOR, css)
            field.clear()
            field.send_keys(words)

        await self.run(typing)

    async def choose(self, css: str, label: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        await self.run(
            lambda: Select(self.driver.find_element(By.CSS_SELECTOR, css)).select_by_visible_text(
                label
            )
        )

    async def text(self) -> str:
        """What the page shows now ("" while the next page replaces it)."""
        from selenium.common.exceptions import (
            NoSuchElementException,
            StaleElementReferenceException,
        )
        from selenium.webdriver.common.by import By

        def shown() -> str:
            try:
                return str(self.driver.find_element(By.TAG_NAME, "body").text)
            except (StaleElementReferenceException, NoSuchElementException):
                return ""

        return await self.run(shown)

    async def until_text(self, *words: str) -> str:
        """Waits until the page shows one of `words`; the page's text."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            shown = await self.text()
            if any(part in shown for part in words):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"the page never showed {words!r}:\n{shown}")
            await asyncio.sleep(0.05)

    async def script(self, source: str, *args: Any) -> Any:
        return await self.run(self.driver.execute_async_script, source, *args)

    async def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        await self.run(self.driver.save_screenshot, str(path))
        return path

    async def downloaded(self, suffix: str) -> Path:
        """Waits for a finished download ending in `suffix`."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            found = [p for p in self.downloads.iterdir() if p.name.endswith(suffix)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {suffix} was downloaded: {list(self.downloads.iterdir())}"
                )
            await asyncio.sleep(0.05)

    def quit(self) -> None:
        self.driver.quit()


def _quoted(words: str) -> str:
    return f'"{words}"' if '"' not in words else f"'{words}'"
