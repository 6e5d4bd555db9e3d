"""Browser tests: Debian Chromium driven by Playwright's async API against a real server on 127.0.0.1.

Every test module here starts with ``pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]``
so that one Chromium serves the whole run. ``server`` is a real ``kaiin serve`` process (SQLite in a temp
folder, migrated, demo members loaded); ``running_server(tmp_path, env)`` starts another one with its own
environment (e.g. ``KAIIN_CLOCK`` inside a maintenance window). ``page`` is a phone (390x844, touch, ja-JP,
Asia/Tokyo); a full-page screenshot of it is kept in ``tests/artifacts/`` after each test, and
``page.console_errors`` collects console errors (CSP violations appear there).
Passkeys need a secure context: use ``server.url`` (http://localhost:PORT), never 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright

from tests.conftest import TEST_CLOCK

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("KAIIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = dict(
    viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True,
    locale="ja-JP", timezone_id="Asia/Tokyo",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A ``kaiin serve`` process with its own SQLite database and data folder."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None, *, demo: bool = True,
                 command: tuple[str, ...] = ("web.cli", "serve")) -> None:
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.folder = folder
        self.log = folder / "server.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder / 'kaiin.sqlite3'}",
            "KAIIN_DATA_DIR": str(folder / "data"),
            "KAIIN_ENV": "dev",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "KAIIN_PUBLIC_ORIGIN": self.url,
            "KAIIN_DB_POOL_MAX": "0",
            "KAIIN_ARGON2_TIME_COST": "1",
            "KAIIN_ARGON2_MEMORY_KIB": "8192",
            "KAIIN_CLOCK": TEST_CLOCK,  # outside every maintenance window, whatever day the suite runs
            "KAIIN_DEMO_BULK_ROWS": "500",  # the demo's many-rows member, small: the benchmark keeps 100,000
            **(env or {}),
        }
        self.env.pop("REDIS_URL", None)
        self.demo = demo
        self.command = command
        self.process: subprocess.Popen | None = None

    def kaiin(self, *args: str) -> str:
        """Run a ``kaiin`` command against this server's database; returns its output."""
        done = subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"kaiin {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def start(self) -> "Server":
        self.folder.mkdir(parents=True, exist_ok=True)
        self.kaiin("migrate")
        if self.demo:
            self.kaiin("demo")
        self.process = subprocess.Popen([sys.executable, "-m", *self.command], cwd=ROOT, env=self.env,
                                        stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120  # generous: a loaded 2-core machine starts slowly
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def running_server(folder: Path, env: dict[str, str] | None = None, *, demo: bool = True,
                   command: tuple[str, ...] = ("web.cli", "serve")):
    server = Server(folder, env, demo=demo, command=command).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The app as ``kaiin serve`` runs it, plus the test-only ``POST /_test/login/{member_id}`` sign-in."""
    with running_server(tmp_path_factory.mktemp("server"), command=("tests.browser.member_server",)) as running:
        yield running


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def playwright():
    async with async_playwright() as pw:
        yield pw


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(playwright):
    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser):
    ctx = await browser.new_context(**PHONE)
    yield ctx
    await ctx.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context, request):
    page = await context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(Exception):
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
        await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


async def screenshot(page, name: str) -> Path:
    """Keep a named screenshot of the phone screen in tests/artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=path, full_page=True)
    return path
