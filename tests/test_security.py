"""Security: loopback by default, WebSocket origins, body limits, model names, headers and CSP,
no pickle anywhere, bounded dependency versions."""
from __future__ import annotations

import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from starlette.websockets import WebSocketDisconnect

from app import cli
from app.settings import REPO_ROOT, Settings

PAGES = ("/", "/playground", "/digits", "/math")


# -- where the server listens -------------------------------------------------------------------
def test_the_default_bind_is_loopback(monkeypatch, tmp_path):
    assert Settings().host == "127.0.0.1"
    assert Settings.from_env({}).host == "127.0.0.1"
    for variable in ("NNPLAY_HOST", "PORT", "NNPLAY_PORT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NNPLAY_MODELS_DIR", str(tmp_path))
    started = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: started.update(options))
    assert cli.main(["serve"]) == 0
    assert started["host"] == "127.0.0.1" and started["port"] == 8000


# -- WebSocket origins (cross-site WebSocket hijacking) ------------------------------------------
FOREIGN = ["http://evil.example", "https://evil.example", "null", "http://testserver.evil.example",
           "http://evil.example/testserver", "http://testserver@evil.example", "http://testserver:8080",
           "http://friend.example.evil.example", "file://"]


@pytest.mark.parametrize("origin", FOREIGN)
def test_websocket_refuses_an_origin_from_another_site_with_1008(make_client, origin):
    client = make_client(allowed_origins=("http://friend.example",))
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws/session", headers={"origin": origin}) as ws:
            ws.receive()
    assert refused.value.code == 1008


@pytest.mark.parametrize("origin", ["http://testserver", "https://testserver", "http://friend.example",
                                    "http://friend.example/", None])
def test_websocket_accepts_its_own_host_listed_origins_and_non_browsers(make_client, wire, origin):
    client = make_client(allowed_origins=("http://friend.example",))
    headers = {} if origin is None else {"origin": origin}
    with client.websocket_connect("/ws/session", headers=headers) as ws:
        assert wire.recv(ws)["type"] == "hello"


def test_allowed_origins_come_from_the_environment():
    settings = Settings.from_env({"NNPLAY_ALLOWED_ORIGINS": " https://a.example/ ,http://b.example:8080"})
    assert settings.allowed_origins == ("https://a.example", "http://b.example:8080")


# -- the Host header (DNS rebinding) ------------------------------------------------------------------
REBOUND = "evil.example:8000"  # a page on evil.example whose DNS name now points at this machine
ROUTES = ["/", "/playground", "/digits", "/math", "/healthz", "/api/models", "/api/mnist", "/api/presets",
          "/api/models/x/weights", "/api/models/pretrained/weights", "/static/js/socket.js", "/api/openapi.json"]


@pytest.mark.parametrize("path", ROUTES)
def test_a_rebound_host_gets_400_on_every_route(make_client, path):
    response = make_client().get(path, headers={"host": REBOUND})
    assert response.status_code == 400, path
    detail = response.json()["detail"]
    assert detail["code"] == "bad_host" and "evil.example:8000" in detail["message"]
    assert "NNPLAY_ALLOWED_HOSTS" in detail["message"]


def test_a_rebound_host_cannot_post_or_open_a_session(make_client):
    client = make_client()
    response = client.post("/api/predict", headers={"host": REBOUND}, json={"pixels": "AA==", "width": 1,
                                                                            "height": 1})
    assert response.status_code == 400 and response.json()["detail"]["code"] == "bad_host"
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws/session", headers={"host": REBOUND,
                                                              "origin": "http://evil.example:8000"}) as ws:
            ws.receive()
    assert refused.value.code == 1008
    assert len(client.app.state.sessions) == 0


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "LOCALHOST:1", "localhost.:8000", "127.0.0.1",
                                  "127.0.0.1:8000", "127.8.9.10:80", "[::1]:8000", "[::1]", "app.localhost:5",
                                  "testserver"])
def test_loopback_names_and_listed_names_are_served(make_client, host):
    assert make_client().get("/healthz", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1.evil.example",
                                  "evillocalhost", "10.0.0.5:8000", "[::2]:80", "0.0.0.0:8000", "", "a b",
                                  "localhost:8000@evil.example", "testserver.evil.example"])
def test_every_other_host_is_refused(make_client, host):
    response = make_client().get("/healthz", headers={"host": host})
    assert response.status_code == 400 and response.json()["detail"]["field"] == "host"


def test_the_address_the_server_listens_on_is_allowed():
    settings = Settings.from_env({"NNPLAY_HOST": "192.168.1.5"})
    assert settings.host_allowed("192.168.1.5") and not settings.host_allowed("192.168.1.6")
    assert Settings.from_env({"NNPLAY_HOST": "::1"}).host_allowed("::1")
    assert not Settings.from_env({"NNPLAY_HOST": "0.0.0.0"}).host_allowed("0.0.0.0.evil.example")


def test_allowed_hosts_come_from_the_environment_with_subdomains_and_a_wildcard():
    settings = Settings.from_env({"NNPLAY_ALLOWED_HOSTS": " Class.Example.org , .school.example"})
    assert settings.allowed_hosts == ("class.example.org", ".school.example")
    for name in ("class.example.org", "school.example", "room1.school.example"):
        assert settings.host_allowed(name), name
    for name in ("example.org", "evilschool.example", "school.example.evil"):
        assert not settings.host_allowed(name), name
    assert Settings.from_env({"NNPLAY_ALLOWED_HOSTS": "*"}).host_allowed("anything.example")


def test_pages_and_redirects_do_not_repeat_the_host_header(make_client):
    client = make_client(allowed_hosts=("*",))
    for path in PAGES:
        page = client.get(path, headers={"host": "proxy.example:8443"}).text
        assert "proxy.example" not in page, path
        assert re.search(r'src="/static/js/\w+\.js"', page) or path == "/", path


def test_a_websocket_needs_an_allowed_host_and_the_same_origin(make_client, wire):
    client = make_client()
    with client.websocket_connect("/ws/session", headers={"host": "localhost:8000",
                                                          "origin": "http://localhost:8000"}) as ws:
        assert wire.recv(ws)["type"] == "hello"
    for origin in ("http://evil.example:8000", "http://localhost:9999", "http://127.0.0.1:8000"):
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect("/ws/session", headers={"host": "localhost:8000", "origin": origin}) as ws:
                ws.receive()


# -- request body limits ------------------------------------------------------------------------
def assert_limit(response, limit: int) -> None:
    assert response.status_code == 413, response.text[:200]
    detail = response.json()["detail"]
    assert detail["code"] == "limit" and f"max_message_bytes={limit}" in detail["message"]


@pytest.mark.parametrize("path", ["/api/predict", "/api/models", "/healthz", "/playground", "/nowhere"])
def test_a_body_over_the_limit_gets_413_naming_it(make_client, path):
    client = make_client(max_message_bytes=4096)
    assert_limit(client.post(path, content=b"{" + b" " * 5000 + b"}"), 4096)


def test_a_chunked_body_over_the_limit_gets_413_naming_it(make_client):
    client = make_client(max_message_bytes=4096)
    read = []

    def chunks():
        for _ in range(100):
            read.append(1)
            yield b" " * 1000

    response = client.post("/api/predict", content=chunks())
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert_limit(response, 4096)


def test_a_body_within_the_limit_is_read(make_client):
    client = make_client(max_message_bytes=4096)
    body = json.dumps({"model": "no-such-model", "pixels": "A" * 4000})
    response = client.post("/api/predict", content=body)  # read, then refused for what it says
    assert response.status_code == 404 and response.json()["detail"]["field"] == "model"


def test_a_websocket_message_over_the_limit_gets_a_limit_error(make_client, wire):
    client = make_client(max_message_bytes=4096)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_text(json.dumps({"type": "probe", "inputs": [[0.5, 0.5]] * 1000}))
        error = wire.recv(ws)
        assert error["code"] == "limit" and "max_message_bytes=4096" in error["message"]


# -- model names ----------------------------------------------------------------------------------
BAD_NAMES = ["../x", "../../etc/passwd", "a/b", "a\\b", "%2e%2e", "..", ".", ".hidden", "/tmp/x", "C:\\x",
             "", "x" * 65, "a b", "a\x00b", "naïve", "-dash-first", 7, None, ["x"], {"n": 1}]


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_model_names_are_checked_and_nothing_is_written_outside_the_models_dir(make_client, wire, tmp_path):
    client = make_client()
    before = files_under(tmp_path.parent)
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        for i, name in enumerate(BAD_NAMES):
            for kind in ("save", "load"):
                ws.send_text(json.dumps({"type": kind, "name": name, "id": i}))
                error = wire.until(ws, "error")
                assert (error["id"], error["code"], error["field"]) == (i, "bad_value", "name"), error
                assert "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" in error["message"], error["message"]
        ws.send_json({"type": "save", "name": "fine_name-1", "id": "ok"})
        assert wire.until(ws, "saved")["name"] == "fine_name-1"
    created = files_under(tmp_path.parent) - before
    assert created == {tmp_path / "models", tmp_path / "models" / "fine_name-1.npz"}, created


@pytest.mark.parametrize("path, status", [
    ("/api/models/%2e%2e/weights", 422), ("/api/models/.hidden/weights", 422), ("/api/models/..%5cx/weights", 422),
    (f"/api/models/{'x' * 65}/weights", 422), ("/api/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd/weights", 404),
    ("/api/models/a%2fb/weights", 404), ("/api/models/nope/weights", 404)])
def test_model_weights_refuse_names_that_break_the_rule(make_client, path, status):
    response = make_client().get(path)
    assert response.status_code == status, response.text[:200]
    if status == 422:
        assert "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" in response.json()["detail"]["message"]


def test_predict_refuses_a_model_name_with_a_path(make_client):
    response = make_client().post("/api/predict", json={"pixels": "AA==", "width": 1, "height": 1, "model": "../x"})
    assert response.status_code == 422 and response.json()["detail"]["field"] == "model"


def test_the_model_list_ignores_temp_and_foreign_files(make_client, wire, tmp_path):
    client = make_client()
    with client.websocket_connect("/ws/session") as ws:
        wire.recv(ws)
        ws.send_json({"type": "save", "name": "kept"})
        wire.until(ws, "saved")
    models = tmp_path / "models"
    (models / ".kept.npz.x1y2z3.tmp").write_bytes((models / "kept.npz").read_bytes()[:100])
    (models / ".hidden.npz").write_bytes((models / "kept.npz").read_bytes())
    (models / "broken.npz").write_bytes(b"not a zip")
    assert [m["name"] for m in client.get("/api/models").json()["models"]] == ["kept"]


# -- headers and the Content-Security-Policy ------------------------------------------------------
def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {d[0]: d[1:] for d in parts}


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_a_strict_content_security_policy(make_client, path):
    response = make_client().get(path)
    assert response.status_code == 200
    csp = directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert not any("unsafe" in source or source == "*" for sources in csp.values() for source in sources)


@pytest.mark.parametrize("path", [*PAGES, "/healthz", "/api/presets", "/static/js/socket.js", "/nowhere"])
def test_every_response_carries_the_usual_security_headers(make_client, path):
    headers = make_client().get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"


def test_a_forged_host_header_is_refused_before_it_reaches_the_policy(make_client):
    response = make_client().get("/", headers={"host": "evil.example; script-src *"})
    assert response.status_code == 400 and response.json()["detail"]["code"] == "bad_host"
    assert "script-src *" not in response.headers.get("content-security-policy", "")


class InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline script bodies, on* handlers, javascript: URLs,
    style elements and attributes."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._in_script = tag == "script"
        if tag == "script" and not attrs.get("src"):
            self.found.append(f"<script> without src at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        for name, value in attrs.items():
            if name.startswith("on") or name == "style" or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline script body at line {self.getpos()[0]}: {data.strip()[:60]}")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_inline_code_finder_finds_inline_code():
    assert len(inline_code('<script>alert(1)</script><a onclick="x()" href="javascript:y()">'
                           '<p style="color:red"><style>p{}</style>')) == 6
    assert inline_code('<script type="module" src="/static/js/x.js"></script><a href="/x">') == []


@pytest.mark.parametrize("template", sorted((REPO_ROOT / "templates").glob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_scripts_handlers_or_styles(template):
    assert inline_code(template.read_text()) == []


@pytest.mark.parametrize("path", PAGES)
def test_rendered_pages_have_no_inline_scripts_handlers_or_styles(make_client, path):
    assert inline_code(make_client().get(path).text) == []


# -- no pickle ----------------------------------------------------------------------------------
PICKLE = re.compile(r"^\s*(import|from)\s+(c?pickle|_pickle|dill|cloudpickle|joblib|shelve|marshal)\b"
                    r"|allow_pickle\s*=\s*True|\bpickle\.loads?\(|\btorch\.load\(", re.MULTILINE | re.IGNORECASE)


def pickle_uses(text: str) -> list[str]:
    return [m.group(0).strip() for m in PICKLE.finditer(text)]


def test_the_pickle_scanner_finds_pickle():
    planted = "import pickle\nfrom cPickle import loads\nnp.load(f, allow_pickle" + "=True)\nx = pickle" + ".loads(b)\n"
    assert len(pickle_uses(planted)) == 4  # (split so that this file does not hold them)
    assert pickle_uses("np.load(path, allow_pickle=False)\n# no pickle here\n") == []


def test_no_python_file_uses_pickle():
    skip = {".venv", "node_modules", ".git", "build", "dist"}
    sources = [p for p in REPO_ROOT.rglob("*.py") if not skip & set(p.relative_to(REPO_ROOT).parts)]
    assert len(sources) > 20
    found = {str(p.relative_to(REPO_ROOT)): uses for p in sources if (uses := pickle_uses(p.read_text()))}
    assert found == {}


# -- dependencies ---------------------------------------------------------------------------------
def bounded(requirement: str) -> bool:
    """True when the requirement has a lower bound (>=, >, ~=, ==) and an upper one (<, <=, ~=, ==)."""
    operators = {spec.operator for spec in Requirement(requirement).specifier}
    return bool(operators & {">=", ">", "~=", "=="}) and bool(operators & {"<", "<=", "~=", "=="})


def test_the_bound_check_tells_ranges_from_open_ends():
    assert bounded("numpy>=1.26,<3") and bounded("x~=1.2") and bounded("y==2.0")
    assert not bounded("numpy>=1.26") and not bounded("numpy<3") and not bounded("numpy")


def test_every_dependency_has_a_lower_and_an_upper_bound():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in project.get("optional-dependencies", {}).values():
        requirements += group
    assert len(requirements) >= 6
    assert [r for r in requirements if not bounded(r)] == []
