"""The lesson player in a real Chromium against a live Daphne server: lesson 3 walked from its first step to
its last, clicking what a learner clicks, with a screenshot of every step in ``test-artifacts/screenshots/``. Its
last step is a prediction, and turns green by itself once the clock ran (the server evaluates the checks again)."""

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
    assert p.text_content('[data-testid="lesson-counter"]').strip() == "Step 1 of 6"
    count = int(p.get_attribute('[data-testid="lesson-panel"]', "data-steps"))
    assert count == 6
    assert p.is_hidden('[data-testid="lesson-predict"]')
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
        if index == count - 1:
            predict_then_watch(page)
            break
        p.click('[data-testid="lesson-load"]')
        p.wait_for_selector('#validation[data-state="valid"]')
        if index < count - 2:
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


def predict_then_watch(page):
    """The predict step: the clock is stopped and its controls are off until the learner commits; the simulation
    grades the prediction; then, with the clock run by hand and no Check, the step turns green by itself."""
    p = page.page
    p.wait_for_selector('[data-testid="lesson-predict"]:not([hidden])')
    assert "how many paral-3 pods show STATUS Running" in p.text_content('[data-testid="predict-question"]')
    assert p.get_attribute('[data-testid="clock-play"]', "data-paused") == "true"
    assert p.is_disabled('[data-testid="clock-play"]') and p.is_disabled('[data-testid="clock-advance"]')
    p.click('[data-testid="lesson-hint"]')
    p.wait_for_selector('[data-testid="lesson-hint-list"] li')
    assert "parallelism is how many run at once" in p.text_content('[data-testid="lesson-hint-list"]')
    assert p.is_hidden('[data-testid="lesson-hint"]')  # the step has one hint only
    p.fill('[data-testid="predict-number"]', "3")
    p.click('[data-testid="predict-commit"]')
    p.wait_for_selector('[data-testid="predict-result"][data-correct="true"]', timeout=30000)
    assert "You predicted 3; the simulation shows 3." in p.text_content('[data-testid="predict-result"]')
    assert p.is_hidden('[data-testid="predict-form"]')
    assert not p.is_disabled('[data-testid="clock-advance"]')
    page.shot("lesson-03-predicted")
    fast_forward(page, 120)
    p.wait_for_selector(f'[data-goto="{page.page.get_attribute("[data-testid=lesson-panel]", "data-step")}"]'
                        '[data-passed="true"]', timeout=30000)
    p.wait_for_selector('[data-testid="lesson-result"][data-state="passed"]', timeout=10000)
    page.shot("lesson-03-step-6")


def test_lesson_list_in_the_browser(browser, server):  # noqa: F811
    page = Page(browser, server, None)
    page.page.goto(server.url + "/lessons/")
    page.page.click(f'[data-slug="{SLUG}"] h2 a')
    page.page.wait_for_selector('[data-testid="lesson-panel"]')
    page.close()
