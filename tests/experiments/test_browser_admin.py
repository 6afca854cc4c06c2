"""The UX team's admin flow in a real browser (Debian's Chromium driven by Playwright).

A UX member creates an experiment with two variants, starts it, finds the weights locked,
sees its results with charts; a member of another UX team can read it but not change it.
Runs on the embedded stack `make run` serves; screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.harness import demo_site, log_in, shot
from tests.processes import manage

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a long and unusual passphrase"

SETUP = f"""
from django.contrib.auth.models import Group, Permission
from apps.accounts.models import User
perms = Permission.objects.filter(content_type__app_label="experiments",
    codename__in=["view_experiment", "add_experiment", "use_analysis_console"])
for username, team in [("uxana", "ux"), ("uxolly", "ux-growth")]:
    group, _ = Group.objects.get_or_create(name=team)
    group.permissions.add(*perms)
    user = User.objects.create_user(username, password={PASSWORD!r}, is_staff=True)
    user.groups.add(group)
"""

# People exposed over two days, a tenth of the list variant liking more: a clear result.
TRAFFIC = """
from datetime import timedelta
from django.utils import timezone
from apps.accounts.models import User
from apps.experiments.models import Experiment, Exposure
from apps.photos.models import Like, Photo
experiment = Experiment.objects.get(key="home-feed-layout")
variants = {v.key: v for v in experiment.variants.all()}
start = timezone.now() - timedelta(days=2)
experiment.started_at = start
experiment.save(update_fields=["started_at"])
photo = Photo.objects.first()
for key, count, likers in [("grid", 600, 60), ("list", 600, 96)]:
    users = User.objects.bulk_create(User(username=f"{key}-{i}") for i in range(count))
    users = list(User.objects.filter(username__startswith=f"{key}-"))
    Exposure.objects.bulk_create(
        Exposure(experiment=experiment, variant=variants[key], unit_id=f"u{u.pk}", user_id=u.pk,
                 exposed_at=start + timedelta(minutes=i * 4)) for i, u in enumerate(users))
    Like.objects.bulk_create(Like(user=u, photo=photo) for u in users[:likers])
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    var_dir = tmp_path_factory.mktemp("experiments-browser-var")
    with demo_site(var_dir, ("shell", "-c", SETUP)) as (url, env):
        SITE_ENV.update(env)
        yield url


SITE_ENV: dict[str, str] = {}


def sign_in(page, username: str) -> None:
    log_in(page, "/admin/login/?next=/admin/experiments/experiment/", username, PASSWORD)


def test_a_ux_member_runs_an_experiment_and_another_team_only_reads_it(page):
    from playwright.sync_api import expect

    sign_in(page, "uxana")
    expect(page.get_by_role("heading", name="Select experiment to change")).to_be_visible()
    page.goto("/admin/experiments/experiment/add/")
    page.get_by_label("Key:").fill("home-feed-layout")
    page.get_by_label("Name:").fill("Home feed: grid or list")
    page.get_by_label("Hypothesis:").fill("One photo per row gets more people to like a photo.")
    expect(page.get_by_label("Owning team:").locator("option:checked")).to_have_text("ux")
    page.get_by_label("Primary metric:").select_option("liked_photo")
    for index, (key, control) in enumerate([("grid", True), ("list", False)]):
        page.locator(f"#id_variants-{index}-key").fill(key)
        page.locator(f"#id_variants-{index}-weight").fill("50")
        if control:
            page.locator(f"#id_variants-{index}-is_control").check()
    shot(page, "experiments-01-create")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    page.get_by_role("link", name="Start").click()
    expect(page.get_by_text("locked for good once it has started")).to_be_visible()
    shot(page, "experiments-02-confirm-start")
    page.get_by_role("button", name="Yes, start it").click()
    expect(page.locator(".messagelist")).to_contain_text("Started: home-feed-layout.")
    expect(page.locator("input[name='variants-0-weight']")).to_have_count(0)
    expect(page.get_by_text("variants, weights, key, salt and layer are locked")).to_be_visible()
    shot(page, "experiments-03-running-locked")

    manage(SITE_ENV, "shell", "-c", TRAFFIC)
    assert "1 experiments recomputed" in manage(SITE_ENV, "recompute_experiment_results")
    page.get_by_role("link", name="Results").click()
    expect(page.get_by_role("heading", name="Liked a photo (primary")).to_be_visible()
    results = page.locator("table[data-metric='liked_photo']")
    expect(results).to_contain_text("10.00%")
    expect(results).to_contain_text("16.00%")
    expect(results).to_contain_text("better")
    expect(page.get_by_text("Sample ratio: as planned")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-results-charts", "drawn")
    shot(page, "experiments-04-results")

    page.context.clear_cookies()
    sign_in(page, "uxolly")
    page.get_by_role("link", name="home-feed-layout").click()
    expect(page.get_by_text("Read only: this experiment belongs to ux.")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_role("link", name="Pause")).to_have_count(0)
    shot(page, "experiments-05-other-team-read-only")
    change_url = page.url
    response = page.goto(change_url.replace("/change/", "/transition/pause/"))
    assert response is not None
    assert response.status == 403
    page.goto(change_url.replace("/change/", "/results/"))
    expect(page.locator("table[data-metric='liked_photo']")).to_contain_text("16.00%")
