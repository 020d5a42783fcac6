"""The notice of work waiting on a paused clock, in a real Chromium against a real Daphne server: a Job applied on a
paused clock is named as waiting for the Job controller, whichever door it came through, and Step (or Play) runs it
and the notice goes."""

import pytest

from tests.dashboard.test_browser import Page, browser, call, new_cluster  # noqa: F401 - the browser fixture
from tests.live.conftest import kubeviz_server  # noqa: F401 - a live Daphne server
from tests.manifests import PI

pytestmark = [pytest.mark.browser, pytest.mark.live]

NOTICE = '[data-testid="pending-notice"]'


def notice_items(page):
    return page.page.eval_on_selector_all(f"{NOTICE} li[data-key]", "els => els.map(e => e.textContent)")


def test_a_job_applied_on_a_paused_clock_is_named_until_step_runs_it(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "pending-step", nodes=2)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    # Nothing has run yet: the controllers will start with a look at every object.
    p.wait_for_selector(f"{NOTICE}:has-text('the controllers have not started')")
    p.click('[data-testid="clock-step"]')
    p.wait_for_selector(NOTICE, state="hidden")

    page.apply_yaml(PI, "job.batch/pi created")
    p.wait_for_selector(f"{NOTICE}:has-text('the controllers have work waiting: 1 key(s) queued')")
    assert notice_items(page) == ["job-controller: default/pi"]
    assert p.is_visible(f"{NOTICE} >> text=Play or Step will run it.")
    assert p.locator('[data-testid="pod"]').count() == 0  # waiting: nothing was created
    page.shot("pending-01-job-waiting")

    p.click('[data-testid="clock-step"]')
    p.wait_for_selector(NOTICE, state="hidden")
    p.wait_for_selector('[data-testid="pod"]')  # the Job controller created the pod
    page.close()


def test_a_write_through_another_door_is_named_too_and_play_runs_it(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "pending-play", nodes=2)
    call(kubeviz_server, "POST", f"/sim/clusters/{name}/clock/step", {})
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    assert p.is_hidden(NOTICE)
    # The official client's way in: a Job created through the Kubernetes API, not from this page.
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "from-the-api"},
           "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
               {"name": "c", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 5"]}]}}}}
    call(kubeviz_server, "POST", f"/clusters/{name}/apis/batch/v1/namespaces/default/jobs", job)
    p.wait_for_selector(f"{NOTICE} li[data-key='default/from-the-api']")
    assert notice_items(page) == ["job-controller: default/from-the-api"]

    p.click('[data-testid="clock-play"]')
    p.wait_for_selector('[data-testid="clock-play"][data-paused="false"]')
    p.wait_for_selector(NOTICE, state="hidden")
    p.click('[data-testid="clock-play"]')
    p.wait_for_selector('[data-testid="clock-play"][data-paused="true"]')
    page.close()


def test_the_notice_in_chinese(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "pending-zh", nodes=1)
    page = Page(browser, kubeviz_server, name, locale="zh-CN")
    page.page.set_extra_http_headers({"Accept-Language": "zh-Hans"})
    page.open()
    page.page.wait_for_selector(f"{NOTICE}:has-text('时钟已暂停，控制器尚未启动')")
    assert page.page.is_visible(f"{NOTICE} >> text=点击“播放”或“单步”即可运行。")
    page.close()
