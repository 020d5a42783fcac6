"""The teacher's live grid in Chromium: a teacher logs in and creates a class, opens its live view; two learners join
in contexts of their own (one with a name that looks like script) and work through the retries lesson, a predict
step included: the grid shows each change as it happens (joins, the step turning green by itself, a refused apply's
error, hints, predictions and the class's tally). Then the teacher opens learner A's sandbox read-only: nothing that
writes is shown, and a write sent with the page's own credentials is refused. No dialog opens, no script runs."""

import pytest

from tests.classroom.test_browser import PASSWORD, Person, browser, server  # noqa: F401 - shared fixtures
from tests.dashboard.test_browser import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.live]

SLUG = "retries"
SCRIPTY_NAME = '<img src=x onerror=alert(1)>Ada'
SCRIPTY_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: "<script>alert('job')</script>"
spec:
  template:
    spec:
      containers:
      - name: c
        image: busybox
      restartPolicy: Never
"""
TIMEOUT = 60000


def create_class(teacher: Person, name: str) -> str:
    teacher.go("/teach/")
    teacher.page.fill('[data-testid="login-username"]', "ms-lee")
    teacher.page.fill('[data-testid="login-password"]', PASSWORD)
    teacher.page.click('[data-testid="login-submit"]')
    teacher.page.wait_for_selector('[data-testid="class-form"]')
    teacher.page.fill('[data-testid="class-name"]', name)
    for box in teacher.page.query_selector_all('input[name="lessons"]'):
        if box.get_attribute("value") != SLUG:
            box.uncheck()
    teacher.page.click('[data-testid="class-create"]')
    teacher.page.wait_for_selector('[data-testid="join-code"]')
    return teacher.page.text_content('[data-testid="join-code"]').strip()


def join_and_start(person: Person, code: str, name: str) -> str:
    person.go(f"/join/{code}/")
    person.page.fill('[data-testid="join-name"]', name)
    person.page.click('[data-testid="join-submit"]')
    person.page.wait_for_selector('[data-testid="lesson-start"]')
    person.page.click('[data-testid="lesson-start"]')
    person.page.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=TIMEOUT)
    return person.page.text_content(".cluster-name").strip()


def cell(teacher: Person, name: str, step: int, state: str):
    """Wait until the grid shows ``name``'s cell of ``step`` in ``state``."""
    row = teacher.page.locator('[data-testid="grid-row"]').filter(
        has=teacher.page.locator('[data-testid="grid-name"]', has_text=name))
    locator = row.locator(f'[data-testid="grid-cell"][data-lesson="{SLUG}"][data-step="{step}"][data-state="{state}"]')
    locator.wait_for(timeout=TIMEOUT)
    return locator


def fast_forward(person: Person, seconds: int):
    p = person.page
    before = p.text_content('[data-testid="clock-now"]')
    p.fill('[data-testid="clock-advance-seconds"]', str(seconds))
    p.click('[data-testid="clock-advance"]')
    wait_until(lambda: p.text_content('[data-testid="clock-now"]') != before, timeout=120,
               message="the clock to move")


def go_to_step(person: Person, index: int):
    person.page.click(f'[data-goto="{index}"]')
    person.page.wait_for_selector(f'[data-testid="lesson-panel"][data-step="{index}"]', timeout=TIMEOUT)


def predict(person: Person, choice: str, *, correct: bool):
    p = person.page
    p.wait_for_selector('[data-testid="lesson-predict"]:not([hidden])')
    choices = p.eval_on_selector_all('[data-testid="predict-choices"] input', "els => els.map(e => e.value)")
    p.check(f'[data-testid="predict-choice-{choices.index(choice)}"]')
    p.click('[data-testid="predict-commit"]')
    p.wait_for_selector(f'[data-testid="predict-result"][data-correct="{str(correct).lower()}"]', timeout=TIMEOUT)


def test_the_grid_follows_two_learners_live_and_a_sandbox_opens_read_only(browser, server):  # noqa: F811
    teacher, ada, bob = Person(browser, server), Person(browser, server), Person(browser, server)
    code = create_class(teacher, "Retries 101")
    teacher.page.click('[data-testid="class-live"]')
    teacher.page.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=TIMEOUT)
    assert teacher.page.is_visible('[data-testid="grid-empty"]')
    tally = teacher.page.locator('[data-testid="tally-step"]')
    assert tally.count() == 1 and "the lesson's answer: Failed" in tally.text_content()

    # Two learners join and start: their rows appear, on step 1.
    cluster_a = join_and_start(ada, code, SCRIPTY_NAME)
    cell(teacher, SCRIPTY_NAME, 0, "current")
    join_and_start(bob, code, "Bob")
    cell(teacher, "Bob", 0, "current")
    assert teacher.page.locator('[data-testid="grid-row"]').count() == 2
    names = teacher.page.eval_on_selector_all('[data-testid="grid-name"]', "els => els.map(e => e.textContent)")
    assert sorted(names) == sorted([SCRIPTY_NAME, "Bob"])

    # Ada does step 1 by hand, without Check: her step turns green by itself, here and on the grid.
    p = ada.page
    p.click('[data-testid="lesson-load"]')
    p.wait_for_selector('#validation[data-state="valid"]')
    p.click('[data-testid="apply"]')
    p.wait_for_selector('[data-testid="apply-output"]:has-text("created")', timeout=TIMEOUT)
    fast_forward(ada, 200)
    p.wait_for_selector('[data-goto="0"][data-passed="true"]', timeout=TIMEOUT)
    cell(teacher, SCRIPTY_NAME, 0, "passed")

    # An apply the API server refuses (a name that looks like script): the grid shows its error, as text.
    go_to_step(ada, 2)
    cell(teacher, SCRIPTY_NAME, 2, "current")
    p.evaluate("text => window.kubeviz.editor.load(text)", SCRIPTY_JOB)
    p.click('[data-testid="apply"]')
    row = teacher.page.locator('[data-testid="grid-row"]').filter(has_text="Ada")
    error = row.locator('[data-testid="grid-error"]')
    error.filter(has_text="<script>alert('job')</script>").wait_for(timeout=TIMEOUT)
    assert "a lowercase RFC 1123 subdomain" in error.text_content()

    # The predict step: Bob asks for a hint, predicts wrong; Ada predicts right. Each shows at once.
    go_to_step(bob, 3)
    cell(teacher, "Bob", 3, "current")
    bob.page.click('[data-testid="lesson-hint"]')
    bob_row = teacher.page.locator('[data-testid="grid-row"]').filter(has_text="Bob")
    bob_row.locator('[data-testid="grid-cell"][data-step="3"]', has_text="?1").wait_for(timeout=TIMEOUT)
    predict(bob, "Running", correct=False)
    bob_row.locator('[data-testid="grid-cell"][data-step="3"] .guess[data-correct="false"]',
                    has_text="Running").wait_for(timeout=TIMEOUT)
    go_to_step(ada, 3)
    predict(ada, "Failed", correct=True)
    cell(teacher, SCRIPTY_NAME, 3, "passed")
    teacher.page.locator('[data-testid="tally-answer"][data-value="Failed"][data-count="1"][data-correct="true"]') \
        .wait_for(timeout=TIMEOUT)
    teacher.page.locator('[data-testid="tally-answer"][data-value="Running"][data-count="1"][data-correct="false"]') \
        .wait_for(timeout=TIMEOUT)
    assert "2 predicted, 1 right" in teacher.page.text_content('[data-testid="tally-step"]')

    # The teacher opens Ada's sandbox read-only: live, and nothing that writes is there.
    clock_before = ada.page.text_content('[data-testid="clock-now"]')
    row.locator('[data-testid="grid-view"]').click()
    t = teacher.page
    t.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=TIMEOUT)
    assert t.text_content(".cluster-name").strip() == cluster_a
    assert SCRIPTY_NAME in t.text_content('[data-testid="read-only"]')
    for control in ("clock-play", "clock-step", "clock-speed", "clock-advance", "apply", "yaml-upload",
                    "console-tab", "example-pi"):
        assert not t.is_visible(f'[data-testid="{control}"]'), control
    assert not t.is_visible(".add-node")
    assert t.is_visible('[data-testid="clock-now"]')
    t.click('[data-testid="node"] >> nth=1')
    t.wait_for_selector("#details dl", timeout=TIMEOUT)
    for control in ("node-fail", "cordon", "node-remove", "delete", "edit"):
        assert t.locator(f'#details [data-testid="{control}"]').count() == 0, control
    assert t.locator("#details .chip-x").count() == 0
    # And the server refuses a write sent as the page sends its requests.
    refused = t.evaluate("""async () => {
        const config = JSON.parse(document.getElementById("kubeviz-config").textContent);
        const headers = {"Authorization": `Bearer ${config.bearer}`, "Content-Type": "application/json",
                         "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content};
        const clock = await fetch(`${config.sim}/clock`, {method: "PATCH", headers, body: '{"paused": false}'});
        const node = await fetch(`${config.api}/api/v1/nodes/node-1`, {method: "DELETE", headers});
        return [clock.status, node.status, (await node.json()).reason];
    }""")
    assert refused == [403, 403, "Forbidden"]
    assert ada.page.text_content('[data-testid="clock-now"]') == clock_before
    assert ada.page.get_attribute('[data-testid="clock-play"]', "data-paused") == "true"

    # The projector's view: the same cluster, read-only, large.
    t.go_back()
    t.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=TIMEOUT)
    row.locator('[data-testid="grid-present"]').click()
    t.wait_for_selector('body[data-present="true"][data-read-only="true"]')
    assert not t.is_visible(".side")

    for person in (teacher, ada, bob):
        assert person.page.evaluate(
            "document.querySelectorAll('script:not([src]):not([type=\"application/json\"])').length") == 0
        assert person.page.locator('img[src="x"]').count() == 0
        person.close()

