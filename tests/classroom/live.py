"""A real kubeviz server in classroom mode, and a browser-like HTTP client for it (cookies, CSRF token, Origin)."""

import http.cookiejar
import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

from tests.live.conftest import ROOT, LiveServer

PASSWORD = "a-long-teacher-password-1"


class ClassroomServer(LiveServer):
    ready_path = "/join/"  # the Kubernetes API answers nobody here

    def __init__(self, tmp):
        super().__init__(tmp)
        self.env.update(KUBEVIZ_CLASSROOM="true")

    def create_teacher(self, name: str):
        subprocess.run([sys.executable, "manage.py", "createteacher", name, "--password-stdin"], cwd=ROOT,
                       env=self.env, input=PASSWORD + "\n", text=True, check=True, stdout=subprocess.DEVNULL)


def classroom_server(tmp):
    server = ClassroomServer(tmp)
    server.manage("migrate", "--noinput")
    server.manage("bootstrap")
    server.manage("lessons", "load")
    server.start()
    return server


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies, the CSRF token from the cookie, this server's Origin: what a browser's form posts carry."""

    def __init__(self, server):
        self.server = server
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def request(self, method, path, body=None, content_type=None, headers=None):
        request = urllib.request.Request(self.server.url + path, data=body, method=method, headers=headers or {})
        if content_type:
            request.add_header("Content-Type", content_type)
        if method != "GET":
            request.add_header("Origin", self.server.url)
            request.add_header("X-CSRFToken", self.csrf())
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def get(self, path):
        return self.request("GET", path)

    def form(self, path, fields):
        """GET the form's page (for the CSRF cookie), then POST the fields with the token."""
        self.get(path)
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self.csrf()}, doseq=True).encode()
        return self.request("POST", path, data, "application/x-www-form-urlencoded")

    def json(self, method, path, body):
        status, _, raw = self.request(method, path, json.dumps(body).encode(), "application/json")
        return status, json.loads(raw)


def set_up_class(server, lessons=("why-jobs",)):
    """A teacher who made a class, and its join code: (teacher's Browser, class id, code)."""
    server.create_teacher("ms-lee")
    teacher = Browser(server)
    status, headers, _ = teacher.form("/accounts/login/", {"username": "ms-lee", "password": PASSWORD})
    assert status == 302, status
    status, headers, _ = teacher.form("/teach/", {"name": "Jobs 101", "lessons": list(lessons)})
    assert status == 302, status
    class_id = int(headers["Location"].strip("/").split("/")[-1])
    page = teacher.get(f"/teach/{class_id}/")[2].decode()
    code = re.search(r'data-testid="join-code">([A-Z0-9]+)<', page).group(1)
    return teacher, class_id, code


def learner(server, code, name, slug="why-jobs"):
    """A learner who joined and started ``slug``: (Browser, their cluster's name)."""
    browser = Browser(server)
    assert browser.form("/join/", {"code": code, "name": name})[0] == 302
    assert browser.form(f"/lessons/{slug}/", {})[0] in (200, 302)  # the start page's form: the token
    status, _, _ = browser.request("POST", f"/lessons/{slug}/start",
                                   urllib.parse.urlencode({"csrfmiddlewaretoken": browser.csrf()}).encode(),
                                   "application/x-www-form-urlencoded")
    assert status == 302, status
    cluster = json.loads(browser.get(f"/lessons/{slug}/api/step")[2])["cluster"]
    return browser, cluster
