"""A person's first visit, in a real browser (Debian's Chromium driven by Playwright).

Sign up, upload two photos and watch their progress bars and ready state, see them in the
feed, like one, comment, follow someone, log out. The stack is the embedded one that
`make run` serves: web server and Celery worker as separate processes. Screenshots of every
step are kept in test-artifacts/browser/.
"""

from __future__ import annotations

import io
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.processes import REPO, app_environment, manage, wait_for_http
from tests.services import free_port, missing

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
]  # fmt: skip


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        missing("Chromium is not installed (Debian package chromium)")
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    var_dir = tmp_path_factory.mktemp("browser-var")
    port = free_port()
    env = app_environment(var_dir, PINSTABLR_ADDRESS=f"127.0.0.1:{port}")
    del env["DJANGO_DEBUG"]  # the dev profile's default: what `make run` does
    manage(env, "migrate_all", "-v", "0")
    manage(env, "load_demo_data")
    server = subprocess.Popen(
        [sys.executable, "deploy/local/serve_embedded.py"], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/healthz", server)
        yield url
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


@pytest.fixture
def page(site):
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=site)
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


def photo_file(directory: Path, name: str, color: tuple[int, int, int]) -> Path:
    image = Image.new("RGB", (1800, 1200), color)
    image.paste((250, 250, 250), (200, 200, 700, 700))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    path = directory / name
    path.write_bytes(buffer.getvalue())
    return path


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sign_up_upload_like_comment_follow_log_out(page, tmp_path):
    from playwright.sync_api import expect

    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("mira")
    page.get_by_label("Email").fill("mira@example.com")
    page.get_by_label("Password", exact=True).fill("a long and unusual passphrase")
    page.get_by_label("Password confirmation").fill("a long and unusual passphrase")
    shot(page, "01-signup")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url("/upload/")

    files = [
        photo_file(tmp_path, "harbour.jpg", (20, 60, 140)),
        photo_file(tmp_path, "field.jpg", (40, 140, 60)),
    ]
    page.locator("#upload-files").set_input_files([str(path) for path in files])
    items = page.locator(".upload-item")
    expect(items).to_have_count(2)
    for index in range(2):
        expect(items.nth(index).locator("progress")).to_have_attribute("value", "100")
    shot(page, "02-uploading")
    expect(page.locator(".upload-item.ready")).to_have_count(2, timeout=60_000)
    shot(page, "03-ready")

    page.get_by_role("link", name="Home").click()
    cards = page.locator("article.card").filter(has=page.get_by_role("link", name="@mira"))
    expect(cards).to_have_count(2)
    expect(cards.first.locator("img")).to_have_js_property("complete", True)
    shot(page, "04-feed")

    cards.first.locator(".card-image").click()
    like = page.locator("[data-like-form] button")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-like-form] [data-like-count]")).to_have_text("1")
    page.get_by_label("Add a comment").fill("First light over the harbour")
    page.get_by_role("button", name="Post").click()
    expect(page.locator("[data-comments] li").last).to_contain_text("First light over the harbour")
    shot(page, "05-liked-and-commented")
    page.reload()
    expect(page.locator("[data-like-form] button")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-comments]")).to_contain_text("First light over the harbour")

    page.goto("/u/ada/")
    follow = page.locator("[data-follow-form] button")
    expect(follow).to_have_text("Follow")
    follow.click()
    expect(follow).to_have_text("Following")
    expect(page.locator("[data-follower-count]")).to_have_text("3")
    shot(page, "06-following")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    shot(page, "07-logged-out")
