"""Browser-test fixtures: a private JupyterLab server and headless Chromium driven by Playwright.

JupyterLab runs on 127.0.0.1 with a random port and token, in throwaway config/data/settings
directories, with every feature that fetches from the internet switched off (news, update checks,
the extension manager, the LSP server extension). Chromium is the system package
(``tools/ensure_chromium.sh`` installs it); Playwright's own browser download is never used. The
browser context also aborts any request that leaves loopback and lists them in the test output.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
GALLERY = REPO / "notebooks" / "widgets_gallery.ipynb"
ARTIFACTS = REPO / "artifacts"  # git-ignored
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT_S = 60.0

# JupyterLab plugins that would reach the internet or pop up toasts over the screenshots.
DISABLED_LAB_EXTENSIONS = {
    "@jupyterlab/extensionmanager-extension": True,
    "@jupyterlab/apputils-extension:announcements": True,
}
# User settings: never ask about (or fetch) news and update checks; render every notebook cell
# (no windowing), so the i-th cell in the DOM is the i-th cell of the notebook.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test (selected with ``-m browser``)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the item, so fixtures can tell that the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LabServer:
    """A running JupyterLab: where it listens, its token, its root directory and its log."""

    port: int
    token: str
    root_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    notebook: str = GALLERY.name

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lab_url(self, notebook: str) -> str:
        return f"{self.base_url}/lab/tree/{notebook}?token={self.token}"

    def log(self, tail_chars: int = 20_000) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return text[-tail_chars:]


def _wait_for_status(server: LabServer, timeout_s: float) -> None:
    """Poll ``/api/status`` (with the token) until it answers, the process dies, or time is up."""
    url = f"{server.base_url}/api/status"
    request = urllib.request.Request(url, headers={"Authorization": f"token {server.token}"})
    deadline = time.monotonic() + timeout_s
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"JupyterLab exited with code {server.process.returncode} before answering "
                f"{url}\n--- server log ---\n{server.log()}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    json.loads(response.read())
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError) as exc:
            last_error = str(exc)
        time.sleep(0.25)
    pytest.fail(
        f"JupyterLab did not answer {url} within {timeout_s:.0f} s (last: {last_error})\n"
        f"--- server log ---\n{server.log()}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server and its kernels (SIGTERM, then SIGKILL after 10 s); always reaps it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The system Chromium, or a skip that says how to get it."""
    if not CHROMIUM.exists():
        reason = (
            f"Chromium not found at {CHROMIUM}: run tools/ensure_chromium.sh (as root it installs "
            "the Debian package) or set CHROMIUM=/path/to/chromium"
        )
        print(reason)
        pytest.skip(reason)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the Python package 'playwright' is not installed: pip install -e '.[dev]'")
    return CHROMIUM


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JupyterLab's root directory: a copy of the gallery notebook (the repository stays clean)."""
    root = tmp_path_factory.mktemp("lab_root")
    shutil.copy2(GALLERY, root / GALLERY.name)
    return root


@pytest.fixture(scope="session")
def lab_server(
    lab_root: Path, tmp_path_factory: pytest.TempPathFactory, chromium_path: Path
) -> Iterator[LabServer]:
    """Start JupyterLab for the session; stop it (and its kernels) at the end, whatever happens."""
    home = tmp_path_factory.mktemp("lab_home")
    config_dir, data_dir, runtime_dir = home / "config", home / "data", home / "runtime"
    settings_dir, workspaces_dir = home / "user-settings", home / "workspaces"
    for d in (config_dir / "labconfig", data_dir, runtime_dir, workspaces_dir):
        d.mkdir(parents=True, exist_ok=True)
    (config_dir / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": DISABLED_LAB_EXTENSIONS}), encoding="utf-8"
    )
    for rel, values in USER_SETTINGS.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")

    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_DATA_DIR=str(data_dir),
        JUPYTER_RUNTIME_DIR=str(runtime_dir),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(home / "ipython"),
        MPLCONFIGDIR=str(home / "mpl"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        TRTLAB_QUICK=os.environ.get("TRTLAB_QUICK", "1"),
        TRTLAB_OFFLINE=os.environ.get("TRTLAB_OFFLINE", "1"),
        TRTLAB_CACHE_DIR=str(home / "trtlab-cache"),  # fresh exports, nothing from ~/.cache
        PYTHONUNBUFFERED="1",
    )
    env.pop("JUPYTER_PATH", None)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={lab_root}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.password=",
        "--ServerApp.jpserver_extensions={'jupyter_lsp': False}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.collaborative=False",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={workspaces_dir}",
        "--ServerApp.terminals_enabled=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers often run as root
        cmd.append("--allow-root")
    log_path = home / "jupyterlab.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, cwd=lab_root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LabServer(port, token, lab_root, log_path, process)
    try:
        _wait_for_status(server, SERVER_START_TIMEOUT_S)
        yield server
    finally:
        _stop(process)
        kept = ARTIFACTS / "jupyterlab.log"  # next to the screenshots, for CI to upload
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, kept)
        print(f"\nJupyterLab log: {kept}")


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    """Headless system Chromium through Playwright's bundled driver."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page whose requests may only go to loopback (anything else is aborted, listed).

    When the test fails, the page as it was is saved to ``artifacts/screenshots/99_failure.png``.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    blocked: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if url.startswith(("data:", "blob:")) or host in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed and not pg.is_closed():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            try:
                pg.screenshot(path=str(SCREENSHOTS / "99_failure.png"), timeout=10_000)
                print(f"\nfailure screenshot: {SCREENSHOTS / '99_failure.png'}")
            except Exception as exc:  # a broken page must not hide the test's own error
                print(f"\nno failure screenshot: {exc}")
        if blocked:
            print(f"\nblocked {len(blocked)} non-loopback request(s): {sorted(set(blocked))[:10]}")
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """``artifacts/screenshots`` (git-ignored), emptied of old PNGs at the start of a session."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS
