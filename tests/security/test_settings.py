"""The secret key that signs the learners' lesson cookies: never the public one of earlier versions, made once
per installation when none is set, and required to be strong on a server reachable beyond this machine. Plus
`manage.py check --deploy`, whose only warnings left are about HTTPS, which a laptop server on loopback has not."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client, override_settings

from kubeviz.lessons.views import COOKIE, COOKIE_SALT

ROOT = Path(__file__).resolve().parents[2]
OLD_PUBLIC_KEY = "kubeviz-insecure-development-key-change-me"


def django_setup(tmp_path, **env) -> subprocess.CompletedProcess:
    """Start Django as the server does, with these settings; it prints the key it ended up with."""
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "HOST")}
    environment.update(DJANGO_SETTINGS_MODULE="kubeviz.settings",
                       KUBEVIZ_SECRET_KEY_FILE=str(tmp_path / "var" / "secret_key"), **env)
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=60)


def test_a_key_is_made_once_per_installation_and_kept(tmp_path):
    first = django_setup(tmp_path)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(key) >= 50 and key != OLD_PUBLIC_KEY
    kept = tmp_path / "var" / "secret_key"
    assert kept.read_text().strip() == key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert django_setup(tmp_path).stdout.strip() == key  # the next start, or another process, reads the same
    other = tmp_path / "other"
    other.mkdir()
    assert django_setup(other).stdout.strip() != key  # another installation has its own


def test_the_old_public_key_is_refused(tmp_path):
    started = django_setup(tmp_path, SECRET_KEY=OLD_PUBLIC_KEY)
    assert started.returncode != 0
    assert "public development key" in started.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_a_weak_key_is_refused_beyond_loopback(tmp_path, host):
    started = django_setup(tmp_path, SECRET_KEY="short-key", HOST=host)
    assert started.returncode != 0
    assert f"HOST={host} makes the server reachable from other machines, but SECRET_KEY is weak" in started.stderr
    strong = django_setup(tmp_path, SECRET_KEY="k" * 20 + "0123456789" * 4, HOST=host)
    assert strong.returncode == 0, strong.stderr
    assert django_setup(tmp_path, HOST=host).returncode == 0  # the installation's own key is strong


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_a_weak_key_is_accepted_on_loopback(tmp_path, host):
    assert django_setup(tmp_path, SECRET_KEY="short-key", HOST=host).returncode == 0


def test_a_cookie_forged_with_the_old_public_key_reaches_no_sandbox(db):
    """A learner's cookie names their sandbox; one signed with the key everyone could read is not believed."""
    from django.core.management import call_command

    call_command("lessons", "load")
    victim = Client()
    victim.get("/lessons/why-jobs/")
    signed = victim.cookies[COOKIE].value  # value:timestamp:signature
    victims_cluster = json.loads(signed.rsplit(":", 2)[0])["why-jobs"]["cluster"]

    # What anyone who read the old key could make: the same cookie, signed as Django signs cookies.
    forged = HttpResponse()
    with override_settings(SECRET_KEY=OLD_PUBLIC_KEY):
        forged.set_signed_cookie(COOKIE, json.dumps({"why-jobs": {"cluster": victims_cluster, "step": 0}}),
                                 salt=COOKIE_SALT)
    attacker = Client()
    attacker.cookies[COOKIE] = forged.cookies[COOKIE].value
    response = attacker.post("/lessons/why-jobs/api/step", data={"step": 1}, content_type="application/json")
    assert response.status_code == 404  # "open the lesson page first": no sandbox is named by that cookie
    page = attacker.get("/lessons/why-jobs/")
    assert victims_cluster not in page.content.decode()  # the page gave the attacker a fresh sandbox of their own


def test_check_deploy_warns_only_about_https():
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "DJANGO_SETTINGS_MODULE": "kubeviz.settings"})
    assert done.returncode == 0, done.stderr
    found = sorted({word.strip("():") for word in (done.stdout + done.stderr).split() if word.startswith("(security.")})
    # HSTS, the redirect to HTTPS, and session and CSRF cookies sent over HTTPS only (they are, on every request
    # that came over HTTPS): the README says why they stay
    assert found == ["security.W004", "security.W008", "security.W012", "security.W016"], done.stdout + done.stderr
