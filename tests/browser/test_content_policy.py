"""The Content-Security-Policy in a real browser (Debian's Chromium driven by Playwright).

Every page of the site, the Swagger UI, the browsable API, the ops page and the admin's
forms work under the policy with nothing refused; and the harness (tests/browser/harness.py)
fails a test whose page had something refused: an injected inline script, an inline event
handler or an inline style, shown here by running such tests in a pytest of their own
against the same site.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Iterator

import pytest

from tests.browser.harness import demo_site, log_in, shot
from tests.processes import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]
pytest_plugins = ["pytester"]

PASSWORD = "a long and unusual passphrase"
SETUP = f"""
from django_celery_beat.models import CrontabSchedule
from apps.accounts.models import User
from apps.teams.models import Team
from apps.teams.services import team_add_member, users_make_staff
CrontabSchedule.objects.get_or_create(minute="15", hour="3")
opsie = User.objects.create_user("opsie", password={PASSWORD!r})
team_add_member(team=Team.objects.get(group__name="ops"), user=opsie)
users_make_staff(user_ids={{opsie.pk}})
User.objects.create_superuser("root", password={PASSWORD!r})
"""
SITE_URL: dict[str, str] = {}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    with demo_site(tmp_path_factory.mktemp("csp-browser-var"), ("shell", "-c", SETUP)) as (
        url,
        _,
    ):
        SITE_URL["url"] = url
        yield url


def test_every_page_a_visitor_and_a_member_open_works_with_nothing_refused(page):
    from playwright.sync_api import expect

    page.goto("/")
    cards = page.locator("article.card")
    expect(cards.first).to_be_visible()
    # The placeholder colour comes from a data attribute, applied by static/js/paint.js.
    frame = cards.first.locator("picture.photo-frame")
    expect(frame).to_have_attribute("data-color", re.compile(r"^#[0-9a-f]{6}$"))
    painted = frame.evaluate("element => getComputedStyle(element).backgroundColor")
    assert painted.startswith("rgb("), painted
    for path in ("/explore/", "/u/ada/", "/search/?q=ada", "/accounts/login/", "/accounts/signup/"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
    page.goto("/")
    page.locator("article.card .card-image").first.click()
    expect(page.locator(".photo-main picture")).to_be_visible()
    shot(page, "csp-01-photo")

    log_in(page, "/accounts/login/", "ada", "pinstablr-demo")
    for path in ("/", "/upload/", "/settings/profile/", "/u/grace/"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
    # DRF's browsable API for a person in a browser: its page renders, its scripts run.
    page.goto("/api/v1/me/")
    expect(page.locator(".response-info")).to_contain_text('"username": "ada"')
    shot(page, "csp-02-browsable-api")


def test_the_swagger_ui_renders_the_api_under_the_policy(page):
    from playwright.sync_api import expect

    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Pinstablr API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    page.locator(".opblock-summary-path", has_text="/api/v1/photos/").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    expect(page.locator("img[src*='validator.swagger.io']")).to_have_count(0)
    shot(page, "csp-03-swagger-ui")


def test_ops_see_their_page_and_the_admin_forms_work_under_the_policy(page):
    from playwright.sync_api import expect

    log_in(page, "/accounts/login/", "opsie", PASSWORD)
    page.goto("/ops/")
    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
    page.goto("/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto("/admin/photos/photo/")
    expect(page.locator("#result_list")).to_be_visible()
    shot(page, "csp-04-ops-admin")

    page.context.clear_cookies()
    log_in(page, "/admin/login/", "root", PASSWORD)
    # django-celery-beat's form: its crontab help, moved out of an inline script, still works.
    page.goto("/admin/django_celery_beat/periodictask/add/")
    expect(page.locator(".field-crontab_translation")).to_be_hidden()
    crontab = page.locator("#id_crontab option", has_text="15 3 * * *").get_attribute("value")
    assert crontab is not None
    page.locator("#id_crontab").select_option(crontab)
    expect(page.locator(".field-crontab .help")).to_contain_text("Translation: At 03:15 AM")
    shot(page, "csp-05-periodic-task-form")


# --- the detector -----------------------------------------------------------------------

INNER_CONFTEST = """
import os

import pytest

pytest_plugins = ["tests.browser.harness"]


@pytest.fixture
def site():
    return os.environ["PINSTABLR_TEST_SITE"]
"""

INNER_TESTS = """
def test_a_clean_page(page):
    page.goto("/explore/")


def test_an_injected_inline_script(page):
    page.goto("/explore/")
    page.evaluate(
        "() => { const script = document.createElement('script');"
        " script.textContent = 'window.injected = true;'; document.body.append(script); }"
    )
    assert page.evaluate("() => window.injected") is None, "the policy stopped it"


def test_an_inline_event_handler(page):
    page.goto("/explore/")
    page.evaluate(
        "() => document.querySelector('.brand').setAttribute('onclick', 'window.clicked = 1')"
    )
    page.evaluate("() => document.querySelector('.brand').dispatchEvent(new Event('click'))")


def test_an_injected_inline_style(page):
    page.goto("/explore/")
    page.evaluate(
        "() => { const style = document.createElement('style');"
        " style.textContent = 'body { background: red; }'; document.head.append(style); }"
    )
"""


def test_the_harness_fails_a_test_whose_page_had_something_refused(site, pytester, monkeypatch):
    pytester.makeconftest(textwrap.dedent(INNER_CONFTEST))
    pytester.makepyfile(test_inner=textwrap.dedent(INNER_TESTS))
    monkeypatch.setenv("PINSTABLR_TEST_SITE", SITE_URL["url"])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    result = pytester.runpytest_subprocess("-p", "no:django", "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*test_a_clean_page PASSED*",
            "*test_an_injected_inline_script FAILED*",
            "*test_an_inline_event_handler FAILED*",
            "*test_an_injected_inline_style FAILED*",
        ]
    )
    output = result.stdout.str()
    assert "refused content under the Content-Security-Policy" in output
    for directive in ("script-src-elem", "script-src-attr", "style-src-elem"):
        assert f"'directive': '{directive}'" in output, directive
