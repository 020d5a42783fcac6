"""The classroom in a real Chromium: a teacher logs in and creates a class, two learners join in browsers of their
own, each starts a lesson sandbox, and neither can open the other's dashboard. Then names that look like script,
in a class and a learner, shown on every page they reach: nothing runs."""

import re
from pathlib import Path

import pytest

from .live import PASSWORD, classroom_server

pytestmark = [pytest.mark.browser, pytest.mark.live]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SLUG = "why-jobs"
SCRIPTY = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser installs it)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = classroom_server(tmp_path_factory.mktemp("classroom-browser"))
    server.create_teacher("ms-lee")
    yield server
    server.close()


class Person:
    """One browser context (its own cookies); any dialog or page error is a failure."""

    def __init__(self, browser, server):
        self.server = server
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
        self.page = self.context.new_page()
        self.problems = []
        self.page.on("dialog", lambda dialog: (self.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def go(self, path):
        return self.page.goto(self.server.url + path)

    def close(self):
        self.context.close()
        assert not self.problems, self.problems


def teacher_creates_class(teacher: Person, name: str) -> str:
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


def learner_joins_and_starts(person: Person, code: str, name: str) -> str:
    """Join through the QR code's link, start the lesson, wait for the live dashboard; answers the cluster."""
    person.go(f"/join/{code}/")
    person.page.fill('[data-testid="join-name"]', name)
    person.page.click('[data-testid="join-submit"]')
    person.page.wait_for_selector('[data-testid="lesson-start"]')
    person.page.click('[data-testid="lesson-start"]')
    person.page.wait_for_selector('[data-testid="lesson-panel"]')
    person.page.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=15000)
    return person.page.text_content(".cluster-name").strip()


def test_a_class_of_two_who_cannot_open_each_others_dashboards(browser, server):
    teacher, ada, bob = Person(browser, server), Person(browser, server), Person(browser, server)
    code = teacher_creates_class(teacher, "Jobs 101")
    assert re.fullmatch(r"[A-Z0-9]{6}", code)
    teacher.page.wait_for_function("document.querySelector('[data-testid=join-qr]').naturalWidth > 0")
    cluster_a = learner_joins_and_starts(ada, code, "Ada")
    cluster_b = learner_joins_and_starts(bob, code, "Bob")
    assert cluster_a != cluster_b

    # Each one's own dashboard is live; the other's is refused, and no live stream of it opens.
    for person, own, other in ((ada, cluster_a, cluster_b), (bob, cluster_b, cluster_a)):
        person.go(f"/c/{own}/")
        person.page.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=15000)
        response = person.go(f"/c/{other}/")
        assert response.status == 403
        assert person.page.is_visible('[data-testid="forbidden"]')
        assert not person.page.query_selector('[data-testid="connection"]')

    # The teacher sees both in the class, and opens either dashboard.
    teacher.page.reload()
    names = teacher.page.eval_on_selector_all('[data-testid="learner-name"]', "els => els.map(e => e.textContent)")
    assert sorted(names) == ["Ada", "Bob"]
    teacher.go(f"/c/{cluster_a}/")
    teacher.page.wait_for_selector('[data-testid="connection"][data-state="live"]', timeout=15000)
    for person in (teacher, ada, bob):
        person.close()


def test_script_like_names_run_nothing(browser, server):
    teacher, learner = Person(browser, server), Person(browser, server)
    code = teacher_creates_class(teacher, SCRIPTY)
    assert teacher.page.text_content('[data-testid="class-title"]') == SCRIPTY
    learner_joins_and_starts(learner, code, SCRIPTY[:40])
    learner.go("/class/")
    assert learner.page.text_content('[data-testid="class-title"]') == SCRIPTY
    assert learner.page.text_content('[data-testid="who"]') == SCRIPTY[:40]
    teacher.page.reload()
    assert teacher.page.text_content('[data-testid="learner-name"]') == SCRIPTY[:40]
    teacher.go("/teach/")
    assert SCRIPTY in teacher.page.text_content('[data-testid="class-list"]')
    for person in (teacher, learner):
        assert person.page.evaluate("document.querySelectorAll('script:not([src]):not([type=\"application/json\"])').length") == 0
        person.close()
