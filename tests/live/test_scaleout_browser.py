"""The dashboard in a real Chromium through nginx, with two server processes behind it on PostgreSQL and Redis
(deploy/): it connects its live stream, applies a Job, plays the clock and sees the pods appear and complete."""

import pytest

from tests.dashboard.test_browser import EXAMPLES, START, Page, browser, call, wait_until  # noqa: F401 - fixture

from .scaleout import Nginx, deployment

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scaleout-browser")
    with deployment(tmp) as servers:
        nginx = Nginx(servers, tmp)
        nginx.servers = servers
        yield nginx
        nginx.close()


def test_the_dashboard_through_nginx_applies_plays_and_shows_pods(browser, front):  # noqa: F811
    call(front, "POST", "/sim/clusters", {"name": "behind", "nodes": 3, "seed": 2, "start": START})
    page = Page(browser, front, "behind").open()
    p = page.page
    assert p.locator('[data-testid="node"]').count() == 4

    page.apply_yaml((EXAMPLES / "paral-1.yaml").read_text(), "job.batch/paral-1 created")
    p.select_option('[data-testid="clock-speed"]', "20")
    p.click('[data-testid="clock-play"]')
    p.wait_for_selector('[data-testid="clock-play"][data-paused="false"]')
    wait_until(lambda: page.statuses().count("Running") == 2, message="two Running pods")
    wait_until(lambda: page.statuses().count("Completed") == 8, timeout=90, message="eight Completed pods")
    p.click('[data-testid="clock-play"]')
    p.wait_for_selector('[data-testid="clock-play"][data-paused="true"]')
    assert page.statuses() == ["Completed"] * 8
    # what the page shows is what either server process answers
    pods = call(front, "GET", "/clusters/behind/api/v1/namespaces/default/pods")["items"]
    assert sorted(pod["status"]["phase"] for pod in pods) == ["Succeeded"] * 8
    page.close()
    # and the page was served by both processes (nginx spreads the requests; the engine ran in one)
    for server in front.servers:
        assert '"GET /' in server.log_text(), server.url
