"""The lesson player in a real Chromium against a live Daphne server: lesson 3 walked from its first step to
its last, clicking what a learner clicks, with a screenshot of every step in ``test-artifacts/screenshots/``."""

import pytest

from tests.dashboard.test_browser import Page, browser, wait_until  # noqa: F401 - the shared Chromium fixture
from tests.live.conftest import kubeviz_server  # noqa: F401 - the live Daphne server

pytestmark = [pytest.mark.browser, pytest.mark.live]

SLUG = "parallel-jobs"


@pytest.fixture(scope="module")
def server(kubeviz_server):  # noqa: F811
    kubeviz_server.manage("lessons", "load")
    return kubeviz_server


def check_until_passed(page, timeout=30):
    p = page.page

    def passed():
        p.click('[data-testid="lesson-check"]')
        p.wait_for_selector('[data-testid="lesson-result"]:not([data-state="pending"]):not([data-state=""])')
        return p.get_attribute('[data-testid="lesson-result"]', "data-state") == "passed"

    wait_until(passed, timeout=timeout, interval=0.5, message="the step's checks to pass")
    items = p.eval_on_selector_all('[data-testid="lesson-check-item"]', "els => els.map(e => e.dataset.passed)")
    assert items and set(items) == {"true"}


def fast_forward(page, seconds):
    p = page.page
    before = p.text_content('[data-testid="clock-now"]')
    p.fill('[data-testid="clock-advance-seconds"]', str(seconds))
    p.click('[data-testid="clock-advance"]')
    # generous: on a loaded CI machine the advance waits behind the panel's own requests in Django's sync thread
    wait_until(lambda: p.text_content('[data-testid="clock-now"]') != before, timeout=120,
               message="the clock to move")


def test_lesson_3_from_first_step_to_last(browser, server):  # noqa: F811
    page = Page(browser, server, None).open(f"/lessons/{SLUG}/")
    p = page.page
    assert p.text_content('[data-testid="lesson-counter"]').strip() == "Step 1 of 5"
    count = int(p.get_attribute('[data-testid="lesson-panel"]', "data-steps"))
    assert count == 5
    # The learner's own cluster: a control-plane node and three workers.
    assert p.locator('[data-testid="node"]').count() == 4

    for index in range(count):
        p.wait_for_selector(f'[data-testid="lesson-panel"][data-step="{index}"]')
        assert p.text_content('[data-testid="lesson-counter"]').strip() == f"Step {index + 1} of {count}"
        if index == 0:
            # Before any work the checks fail, each with its message.
            p.click('[data-testid="lesson-check"]')
            p.wait_for_selector('[data-testid="lesson-result"][data-state="failed"]')
            assert "COMPLETIONS should read 8/8" in p.text_content('[data-testid="lesson-result"]')
        p.click('[data-testid="lesson-load"]')
        p.wait_for_selector('#validation[data-state="valid"]')
        if index < count - 1:
            # By hand: Apply from the editor, then run the clock.
            p.click('[data-testid="apply"]')
            p.wait_for_selector('[data-testid="apply-output"]:has-text("created")')
            fast_forward(page, 300)
        else:
            # The chain step: "Show me" applies it and resumes train once prepare has completed.
            p.click('[data-testid="lesson-show-me"]')
            p.wait_for_selector('[data-testid="lesson-result"][data-state="passed"]', timeout=30000)
        check_until_passed(page)
        if index == 0:
            # A passed check says what was seen; its message, which says what is still wrong, is not shown.
            shown = p.text_content('[data-testid="lesson-result"]')
            assert "COMPLETIONS should read 8/8" not in shown
            assert "COMPLETIONS is \"8/8\"" in shown
        assert p.get_attribute(f'[data-goto="{index}"]', "data-passed") == "true"
        page.shot(f"lesson-03-step-{index + 1}")
        if index < count - 1:
            p.click('[data-testid="lesson-next"]')
    assert p.is_disabled('[data-testid="lesson-next"]')

    # A reload keeps the cluster and the step.
    cluster = p.text_content(".cluster-name")
    p.reload()
    p.wait_for_selector('[data-testid="connection"][data-state="live"]')
    assert p.text_content(".cluster-name") == cluster
    assert p.text_content('[data-testid="lesson-counter"]').strip() == f"Step {count} of {count}"
    assert p.locator('.lesson-dot[data-passed="true"]').count() == count
    page.close()


def test_lesson_list_in_the_browser(browser, server):  # noqa: F811
    page = Page(browser, server, None)
    page.page.goto(server.url + "/lessons/")
    page.page.click(f'[data-slug="{SLUG}"] h2 a')
    page.page.wait_for_selector('[data-testid="lesson-panel"]')
    page.close()
