"""The dashboard's pages: they render with their test hooks and configuration, speak English or Chinese
(following the browser, switchable, remembered), and answer a friendly 404 page for an unknown cluster while the
API keeps its JSON Status 404s."""

import ast
import json
import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation.template import templatize

from kubeviz.dashboard.catalogue import MESSAGES, js_catalogue

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ("clock-play", "clock-step", "clock-speed", "clock-now", "yaml-editor", "yaml-upload", "apply")


@pytest.fixture
def default_cluster(db):
    from kubeviz.store.services import cluster_create

    return cluster_create(name="default", nodes=2, seed=1)


def page_config(response) -> dict:
    match = re.search(rb'<script id="kubeviz-config" type="application/json">(.*?)</script>', response.content, re.S)
    return json.loads(match.group(1))


def page_catalogue(response) -> dict:
    match = re.search(rb'<script id="kubeviz-catalogue" type="application/json">(.*?)</script>', response.content, re.S)
    return json.loads(match.group(1))


def test_root_opens_the_default_cluster(client, default_cluster):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for hook in HOOKS:
        assert f'data-testid="{hook}"' in html, hook
    config = page_config(response)
    assert config["cluster"] == "default"
    assert config["api"] == "/clusters/default"
    assert config["sim"] == "/sim/clusters/default"
    assert config["ws"] == "/ws/clusters/default/"
    assert config["speeds"][0] == 0.25 and config["speeds"][-1] == 100
    assert {"job", "cronjob", "daemonset", "scheduler", "kubelet"} <= set(config["controllers"])


def test_any_cluster_by_name(client, cluster):
    response = client.get("/c/test/")
    assert response.status_code == 200
    assert page_config(response)["cluster"] == "test"
    assert b"<title>test \xc2\xb7 kubeviz</title>" in response.content


def test_the_seed_examples_are_one_click_away(client, cluster):
    examples = {e["id"]: e["yaml"] for e in page_config(client.get("/c/test/"))["examples"]}
    assert set(examples) == {"pi", "paral-1", "hello", "fluentd"}
    assert "completions: 8" in examples["paral-1"] and "parallelism: 2" in examples["paral-1"]
    assert "sleep 30; date" in examples["paral-1"]
    assert 'schedule: "*/1 * * * *"' in examples["hello"]
    assert "namespace: kube-system" in examples["fluentd"]
    assert "node-role.kubernetes.io/control-plane" in examples["fluentd"]
    assert "bpi(2000)" in examples["pi"] and "backoffLimit: 4" in examples["pi"]


def test_the_examples_are_valid_manifests(client, cluster):
    for example in page_config(client.get("/c/test/"))["examples"]:
        response = client.post("/sim/clusters/test/apply?dryRun=All", example["yaml"], content_type="application/yaml")
        assert response.status_code == 200, (example["id"], response.content)


def test_unknown_cluster_gets_a_friendly_404_page(client, cluster):
    response = client.get("/c/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'data-testid="not-found"' in html
    assert "nope" in html
    assert 'href="/c/test/"' in html  # the clusters that do exist


def test_other_pages_under_c_are_html_404s(client, cluster):
    response = client.get("/c/test/nothing/here")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b'data-testid="not-found"' in response.content


def test_root_without_a_default_cluster_is_the_404_page(client, cluster):
    response = client.get("/")
    assert response.status_code == 404
    assert b'href="/c/test/"' in response.content


def test_api_404s_stay_json(client, cluster):
    response = client.get("/clusters/nope/api/v1/pods")
    assert response.status_code == 404
    assert response.json()["kind"] == "Status"
    response = client.get("/sim/unknown/thing")
    assert response.status_code == 404
    assert response.json()["kind"] == "Status"


def test_english_by_default(client, cluster):
    response = client.get("/c/test/")
    assert b'<html lang="en">' in response.content
    assert b">Apply</button>" in response.content
    assert page_catalogue(response) == {}


def test_accept_language_zh_hans_gives_chinese(client, cluster):
    response = client.get("/c/test/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert ">应用</button>" in html  # Apply
    assert "YAML 编辑器" in html
    assert "模拟时钟" in html  # the clock's label
    catalogue = page_catalogue(response)
    assert catalogue["Play"] == "播放"
    assert catalogue["batch {n}"] == "第 {n} 批"
    assert page_config(response)["language"] == "zh-hans"


def test_the_404_page_is_translated_too(client, cluster):
    response = client.get("/c/nope/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert "没有名为“nope”的集群" in response.content.decode()


def test_switching_language_persists(client, cluster):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/c/test/"})
    assert response.status_code == 302
    assert response["Location"] == "/c/test/"
    # The choice is a cookie: it wins over the browser's language from now on.
    response = client.get("/c/test/", HTTP_ACCEPT_LANGUAGE="en")
    assert ">应用</button>" in response.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/c/test/"})
    response = client.get("/c/test/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert b">Apply</button>" in response.content


def test_every_script_string_is_in_the_catalogue_and_translated():
    used = set()
    for path in (ROOT / "static" / "js").rglob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"((?:[^"\\]|\\.)*)"', path.read_text(encoding="utf-8")))
    assert used <= set(MESSAGES), sorted(used - set(MESSAGES))
    with translation.override("zh-hans"):
        catalogue = js_catalogue()
    untranslated = [m for m in MESSAGES if m not in catalogue]
    assert not untranslated


def test_the_compiled_catalogue_is_committed_and_current():
    po = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), "compile the .po (manage.py compilemessages) and commit the .mo"
    msgids = set(re.findall(r'^msgid "(.+)"$', po.read_text(encoding="utf-8"), re.M))
    with translation.override("zh-hans"):
        stale = [m for m in msgids if "%" not in m and translation.gettext(m) == m]
    assert not stale, stale


def _template_messages() -> set[str]:
    """Every string the templates mark for translation, as gettext sees it (Django's own extraction)."""
    found = set()
    for path in (ROOT / "templates").rglob("*.html"):
        code = templatize(path.read_text(encoding="utf-8"))
        found |= {literal.replace("\\'", "'") for literal in re.findall(r"\bgettext\(u?'((?:[^'\\]|\\.)*)'\)", code)}
    return found


def _python_messages() -> set[str]:
    """Every literal string the project's Python code hands to ``gettext`` (imported as ``_``) to translate."""
    found = set()
    for path in (ROOT / "kubeviz").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and node.module == "django.utils.translation" for alias in node.names
                   if alias.name in ("gettext", "gettext_lazy")}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in aliases
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
    return found


def test_every_page_and_message_string_is_translated():
    """The pages (the classroom's included) and the messages views show speak Chinese too."""
    templates, python = _template_messages(), _python_messages()
    assert "Join a class" in templates and "There is no class with this code. Check it with your teacher." in python
    with translation.override("zh-hans"):
        untranslated = sorted(m for m in templates | python if translation.gettext(m) == m)
    assert not untranslated, untranslated


def test_static_files_are_served(client, db):
    response = client.get("/static/js/main.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert client.get("/static/vendor/codemirror-5.65.21.js").status_code == 200
    assert client.get("/static/nothing.js").status_code == 404


def test_no_machine_paths_and_no_external_urls_in_the_front_end():
    for folder in ("templates/dashboard", "static/js", "static/css"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                assert str(ROOT) not in text, path
                assert not re.search(r'(src|href)="https?://', text), path
                assert "@import url(http" not in text, path


def test_vendored_files_are_listed_with_their_package_and_version():
    readme = (ROOT / "static" / "vendor" / "README.md").read_text(encoding="utf-8")
    for path in (ROOT / "static" / "vendor").iterdir():
        if path.name != "README.md":
            assert path.name in readme, path.name
            assert re.search(r"\d+\.\d+\.\d+", path.name), f"{path.name} carries no version"


def test_the_page_learns_its_kinds_from_the_resource_table(client, cluster):
    """The page keeps, streams and addresses exactly the kinds the resource table shows (no list of its own)."""
    from apiserver.kinds import RESOURCE_TYPES

    kinds = page_config(client.get("/c/test/"))["kinds"]
    assert [k["kind"] for k in kinds] == [r.kind for r in RESOURCE_TYPES if r.shown]
    assert "Lease" not in [k["kind"] for k in kinds]
    assert {"kind": "CronJob", "path": "apis/batch/v1", "plural": "cronjobs", "namespaced": True} in kinds
    assert {"kind": "Node", "path": "api/v1", "plural": "nodes", "namespaced": False} in kinds
