"""The browser tests' harness: the demo site as `make run` serves it, and Debian's Chromium.

Each test module defines a ``site`` fixture (the URL) with ``demo_site``, which starts its
own site (own data folder and port) and runs the extra ``manage.py`` commands its story
needs; the ``page`` fixture (loaded for every folder by tests/conftest.py) opens pages on it.

Every page runs under the site's Content-Security-Policy, and a test fails when the browser
refused anything on any page it opened (an inline script or event handler, an inline style,
a resource from elsewhere): the ``securitypolicyviolation`` events of every page and frame,
and Chromium's console errors about the policy, are collected in ``csp_violations`` and
checked when the test has run (tests/browser/test_content_policy.py shows it failing).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.processes import REPO, app_environment, manage, wait_for_http
from tests.services import free_port, missing

ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
]  # fmt: skip

# Runs in every page and frame before its own scripts: each refusal is reported to the test.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.pinstablrCspViolation({
    directive: event.effectiveDirective, blocked: event.blockedURI, page: event.documentURI,
    source: event.sourceFile, line: event.lineNumber, sample: event.sample,
  });
}, true);
"""


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        missing("Chromium is not installed (Debian package chromium)")
    return path


@contextmanager
def demo_site(var_dir: Path, *commands: tuple[str, ...]) -> Iterator[tuple[str, dict[str, str]]]:
    """(URL, environment) of the embedded site with the demo data and ``commands`` run."""
    port = free_port()
    env = app_environment(var_dir, PINSTABLR_ADDRESS=f"127.0.0.1:{port}")
    del env["DJANGO_DEBUG"]  # the dev profile's default: what `make run` does
    manage(env, "migrate_all", "-v", "0")
    manage(env, "load_demo_data")
    for command in commands:
        manage(env, *command)
    server = subprocess.Popen(
        [sys.executable, "deploy/local/serve_embedded.py"], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/healthz", server)
        yield url, env
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


@pytest.fixture
def csp_violations() -> list[str]:
    """What the browser refused under the Content-Security-Policy, on any page of the test."""
    return []


@pytest.fixture
def page(site, csp_violations):
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=site)
        context.expose_binding(
            "pinstablrCspViolation", lambda source, report: csp_violations.append(str(report))
        )
        context.add_init_script(REPORT_VIOLATIONS)
        context.on("console", lambda message: record_policy_error(message, csp_violations))
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


def record_policy_error(message, violations: list[str]) -> None:
    """Chromium logs every refusal as a console error naming the Content Security Policy."""
    if message.type == "error" and "content security policy" in message.text.lower():
        violations.append(f"console: {message.text} ({message.location.get('url', '')})")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A test whose pages broke the Content-Security-Policy fails, even if it passed."""
    result = yield
    funcargs = getattr(item, "funcargs", {})
    violations = funcargs.get("csp_violations")
    if violations is None:
        return result
    if "page" in funcargs and not funcargs["page"].is_closed():
        # Reports of the last page arrive as events: let the browser deliver them.
        funcargs["page"].wait_for_timeout(200)
    if violations:
        listed = "\n".join(f"- {violation}" for violation in violations)
        pytest.fail(f"the browser refused content under the Content-Security-Policy:\n{listed}")
    return result


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, path: str, username: str, password: str) -> None:
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
