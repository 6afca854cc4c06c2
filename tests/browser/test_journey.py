"""A person's first visit, in a real browser (Debian's Chromium driven by Playwright).

Sign up, upload two photos and watch their progress bars and ready state, see them in the
feed, like one, comment, follow someone, log out. The stack is the embedded one that
`make run` serves: web server and Celery worker as separate processes. Screenshots of every
step are kept in test-artifacts/browser/.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.harness import demo_site, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    with demo_site(tmp_path_factory.mktemp("browser-var")) as (url, _):
        yield url


def photo_file(directory: Path, name: str, color: tuple[int, int, int]) -> Path:
    image = Image.new("RGB", (1800, 1200), color)
    image.paste((250, 250, 250), (200, 200, 700, 700))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    path = directory / name
    path.write_bytes(buffer.getvalue())
    return path


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
