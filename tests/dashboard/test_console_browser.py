"""The kubectl console in a real Chromium against a real Daphne server: the seed article's commands typed into
the page (the pi Job from the editor with ``kubectl apply -f -``, get, logs, the DaemonSets in kube-system), each
answer the same text the console API (the real kubectl) gives for the same command."""

import shutil

import pytest

from tests.dashboard.test_browser import Page, browser, call, new_cluster  # noqa: F401 - the Chromium fixture
from tests.live.conftest import kubeviz_server  # noqa: F401 - the session's live Daphne server

pytestmark = [pytest.mark.browser, pytest.mark.live,
              pytest.mark.skipif(shutil.which("/usr/bin/kubectl") is None, reason="kubectl is not installed")]


class Console:
    def __init__(self, page: Page):
        self.page = page
        self.p = page.page

    def done(self):
        return self.p.locator('[data-testid="console-entry"][data-state="done"]')

    def type(self, command, *, tab_after=None):
        """Type a command (optionally pressing Tab after `tab_after` to complete it), run it; answers the entry."""
        count = self.done().count()
        field = self.p.locator('[data-testid="console-input"]')
        field.click()
        if tab_after is not None:
            field.press_sequentially(tab_after)
            field.press("Tab")
            assert field.input_value().startswith(tab_after)
        else:
            field.press_sequentially(command)
        field.press("Enter")
        self.p.wait_for_function(f"() => document.querySelectorAll('[data-testid=\"console-entry\"][data-state=\"done\"]').length > {count}",
                                 timeout=20000)
        return self.last()

    def last(self):
        return self.p.evaluate("""() => {
            const entries = document.querySelectorAll('[data-testid="console-entry"][data-state="done"]');
            const e = entries[entries.length - 1];
            const text = (sel) => e.querySelector(sel)?.textContent ?? "";
            return {command: text('.console-command').replace(/^\\$ /, ''), stdout: text('.console-stdout'),
                    stderr: text('.console-stderr'), exitCode: Number(e.dataset.exitCode)};
        }""")


def api(server, cluster, command, stdin=None):
    body = {"command": command} if stdin is None else {"command": command, "stdin": stdin}
    return call(server, "POST", f"/sim/clusters/{cluster}/console", body)


def test_the_seed_articles_commands_in_the_console(browser, kubeviz_server):  # noqa: F811
    name = new_cluster(kubeviz_server, "console-walk", nodes=2)
    page = Page(browser, kubeviz_server, name).open()
    p = page.page
    console = Console(page)
    p.click('[data-testid="example-pi"]')
    p.click('[data-testid="console-tab"]')
    p.wait_for_selector('[data-testid="console-input"]', state="visible")

    # The pi Job from the editor: `-f -` sends the editor's text as stdin (the hint says so while typing).
    field = p.locator('[data-testid="console-input"]')
    field.press_sequentially("kubectl apply -f -")
    assert p.locator('[data-testid="console-hint"]').is_visible()
    field.fill("")
    applied = console.type("kubectl apply -f -")
    assert applied == {"command": "kubectl apply -f -", "stdout": "job.batch/pi created\n", "stderr": "",
                       "exitCode": 0}

    jobs = console.type("kubectl get jobs")
    assert jobs["stdout"] == api(kubeviz_server, name, "kubectl get jobs")["stdout"]
    assert jobs["stdout"].startswith("NAME   STATUS    COMPLETIONS   DURATION   AGE\npi ")

    # The clock moves on: the Job's pod runs and completes; it appears in the page's live state, so Tab
    # completes its name.
    call(kubeviz_server, "POST", f"/sim/clusters/{name}/clock/advance", {"seconds": 60})
    p.wait_for_function("() => Object.keys(window.kubeviz.state.objects.Pod).some(k => k.startsWith('default/pi-'))")
    pods = console.type("kubectl get pods")
    assert pods["stdout"] == api(kubeviz_server, name, "kubectl get pods")["stdout"]
    pod = pods["stdout"].splitlines()[1].split()[0]
    assert pod.startswith("pi-")

    logs = console.type(f"kubectl logs {pod}", tab_after="kubectl logs pi")
    assert logs["command"] == f"kubectl logs {pod}"
    expected = api(kubeviz_server, name, f"kubectl logs {pod}")
    assert logs["stdout"] == expected["stdout"] and logs["exitCode"] == 0
    assert logs["stdout"].startswith("3.14159")

    ds = console.type("kubectl get ds -n kube-system")
    expected = api(kubeviz_server, name, "kubectl get ds -n kube-system")
    assert (ds["stdout"], ds["stderr"]) == (expected["stdout"], expected["stderr"])
    assert ds["stdout"].startswith("NAME ") or ds["stderr"] == "No resources found in kube-system namespace.\n"

    # Errors print as kubectl prints them; refused lines explain why.
    missing = console.type("kubectl get job nope")
    assert missing["stderr"] == 'Error from server (NotFound): jobs.batch "nope" not found\n'
    assert missing["exitCode"] == 1
    refused = console.type("kubectl apply -f job.yaml")
    assert refused["stderr"] == ("error: the console reads no files of the server: use -f - for the editor's text "
                                 "(not -f job.yaml)\n")
    page.shot("console")

    # History: ↑ brings back the previous command.
    field.click()
    field.press("ArrowUp")
    assert field.input_value() == "kubectl apply -f job.yaml"
    field.press("ArrowUp")
    assert field.input_value() == "kubectl get job nope"
    field.fill("")

    # Tab completion of subcommands and resource types.
    field.press_sequentially("kubectl desc")
    field.press("Tab")
    assert field.input_value() == "kubectl describe "
    field.press_sequentially("cronj")
    field.press("Tab")
    assert field.input_value() == "kubectl describe cronjobs "
    field.fill("")

    # Other code (lesson text) runs commands through window.kubevizConsole.run.
    p.click('[data-tab="editor"]')
    result = p.evaluate("window.kubevizConsole.run('kubectl get nodes')")
    assert result["stdout"].splitlines()[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert p.locator('[data-panel="console"]').is_visible()

    # `clear` empties the screen.
    count_before = console.done().count()
    assert count_before > 0
    field.press_sequentially("clear")
    field.press("Enter")
    p.wait_for_function("() => document.querySelectorAll('[data-testid=\"console-entry\"]').length === 0")
    page.close()
