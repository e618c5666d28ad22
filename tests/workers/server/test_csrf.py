"""Every form the pages accept refuses what another site could make a logged-in browser send:
no CSRF token, a forged one, another session's, or a foreign `Origin`. Each is a 403 that
changes nothing: not the store, not the files, not the simulator's calls, not the cookie.

The cases are parametrised over the POST routes the app registers: a page route without a
case in `FORMS` fails the suite, and so does a case whose route is gone. A real app on a real
Redis (uvicorn in a thread, no worker) and the simulator over HTTP; the session cookie and
its CSRF token come from the login and the page, as a browser gets them.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi.routing import APIRoute, iter_route_contexts

from dialer.settings import Settings
from dialer.simulator.config import (
    DEFAULT_AGENT_ID,
    DEFAULT_API_KEY,
    DEFAULT_FROM_NUMBER,
    SimulatorConfig,
)
from dialer.simulator.server import RunningSimulator, start_in_thread
from dialer.store import Store
from tests.support import RedisServer, serve_in_thread
from workers.server.app import build_app
from workers.server.context import Server
from workers.server.web.common import HERE
from workers.server.web.login import COOKIE, CSRF_FIELD, CSRF_HEADER

TOKEN = "csrf-test-token-5e07a1"
CONTACTS = b"phone,name\n+14155552001,Ann\n+14155552002,Bob\nnot a phone,Cy\n"
OPTIONS = {"agent_id": DEFAULT_AGENT_ID, "from_number": DEFAULT_FROM_NUMBER, "window": "always"}
SCHEDULE = {"name": "mornings", "cron": "0 10 * * mon-fri", "tz": "UTC", **OPTIONS}
EVIL = "https://evil.example"
# POST routes of the pages that take no session, each with where it is tested instead.
SESSIONLESS = {"/login": "test_a_login_from_another_site_sets_no_cookie"}


@dataclass
class Site:
    """The running app, its Redis, the simulator, and a browser's session with its token."""

    url: str
    server: Server
    redis_url: str
    sim: RunningSimulator
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def api(self) -> httpx.Client:
        """A client of the REST API (bearer token), to set the scene."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def log_in(url: str) -> tuple[dict[str, str], str]:
    """A new session as a browser gets it: the cookie from /login, the token from a page."""
    answer = httpx.post(f"{url}/login", data={"token": TOKEN}, timeout=30)  # posted, never in a URL
    assert answer.status_code == 303, answer.text
    cookies = {COOKIE: answer.cookies[COOKIE]}
    shown = httpx.get(f"{url}/campaigns/new", cookies=cookies, timeout=30)
    found = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', shown.text)
    assert shown.status_code == 200 and found, shown.text
    return cookies, found.group(1)


# -- the scene each form would change -----------------------------------------------------------


def _nothing(site: Site) -> dict[str, str]:
    return {}


def _running(site: Site) -> dict[str, str]:
    with site.api() as api:
        files = {"file": ("leads.csv", CONTACTS)}
        created = api.post("/api/campaigns", files=files, data=OPTIONS)
    assert created.status_code == 201, created.text
    return {"cid": str(created.json()["id"])}


def _campaign_after(action: str) -> Callable[[Site], dict[str, str]]:
    def scene(site: Site) -> dict[str, str]:
        names = _running(site)
        with site.api() as api:
            done = api.post(f"/api/campaigns/{names['cid']}/{action}")
        assert done.status_code == 200, done.text
        return names

    return scene


def _scheduled(site: Site) -> dict[str, str]:
    with site.api() as api:
        files = {"file": ("mornings.csv", CONTACTS)}
        added = api.post("/api/schedules", files=files, data=SCHEDULE)
    assert added.status_code == 201, added.text
    return {"name": SCHEDULE["name"]}


@dataclass(frozen=True)
class Form:
    """One form action of the pages: the path and fields a page sends, the scene it would
    change (its names fill the path's blanks), and the route it posts to (the path's own when
    it has no blanks)."""

    path: str
    scene: Callable[[Site], dict[str, str]] = _nothing
    fields: dict[str, Any] = field(default_factory=dict)
    upload: bool = False
    changes: str = "store"  # what it changes when accepted: "store", "cookie" or "nothing"
    posts_to: str = ""

    @property
    def route(self) -> str:
        """The route as the app registers it."""
        return self.posts_to or self.path

    @property
    def id(self) -> str:
        """The case's name in test ids: the path's last part ("cancel", "test-call")."""
        return self.path.rsplit("/", 1)[-1]

    def send(
        self, site: Site, names: dict[str, str], csrf: str | None, **headers: str
    ) -> httpx.Response:
        """Post the form as the page does, with `csrf` in its field when given."""
        data = dict(self.fields)
        if csrf is not None:
            data[CSRF_FIELD] = csrf
        files = {"file": ("leads.csv", CONTACTS)} if self.upload else None
        return httpx.post(
            site.url + self.path.format(**names),
            data=data, files=files, headers=headers, cookies=site.cookies, timeout=30,
        )  # fmt: skip


CAMPAIGN = "/campaigns/{cid}/{action}"
SCHEDULED = "/schedules/{name}/{action}"
FORMS = [
    Form("/logout", changes="cookie"),
    Form("/campaigns/new/check", fields=OPTIONS, upload=True, changes="nothing"),
    Form("/campaigns/new/rejects.csv", fields=OPTIONS, upload=True, changes="nothing"),
    Form(
        "/campaigns/new/test-call", fields={**OPTIONS, "test_number": "+14155550199"}, upload=True
    ),
    Form("/campaigns/new/start", fields=OPTIONS, upload=True),
    Form("/campaigns/{cid}/pause", _running, posts_to=CAMPAIGN),
    Form("/campaigns/{cid}/resume", _campaign_after("pause"), posts_to=CAMPAIGN),
    Form("/campaigns/{cid}/cancel", _running, posts_to=CAMPAIGN),
    Form(
        "/campaigns/{cid}/retry",
        _campaign_after("cancel"),
        {"statuses": ["canceled"]},
        posts_to=CAMPAIGN,
    ),
    Form("/campaigns/{cid}/delete", _campaign_after("cancel"), posts_to=CAMPAIGN),
    Form("/schedules", fields=SCHEDULE, upload=True),
    Form("/schedules/{name}/remove", _scheduled, posts_to=SCHEDULED),
    Form("/schedules/{name}/run", _scheduled, posts_to=SCHEDULED),
]


def registered_forms() -> list[str]:
    """The POST routes of the pages, as the app registers them (its store is never reached).
    FastAPI keeps included routers as they are: `iter_route_contexts` flattens them."""
    settings = Settings(api_key=DEFAULT_API_KEY, redis_url="redis://127.0.0.1:9")
    server = Server(settings, Store.from_url("redis://127.0.0.1:9"), TOKEN, Path("unused"))
    posts = [
        str(route.path)
        for route in iter_route_contexts(build_app(server).routes)
        if isinstance(route.original_route, APIRoute) and "POST" in (route.methods or ())
    ]
    return sorted(p for p in posts if not p.startswith("/api/") and p not in SESSIONLESS)


TARGET = re.compile(r'(?:action|hx-post|formaction)="([^"]+)"')
BUTTON = re.compile(r'button\("(\w+)"')
BLANK = re.compile(r"\{\{ *([\w.]+) *\}\}")


def page_targets() -> set[str]:
    """Where the templates' forms and buttons post, blanks as `*` (the campaign buttons'
    macro expanded with the actions it is called with)."""
    found: set[str] = set()
    for template in sorted((HERE / "templates").glob("*.html")):
        text = template.read_text()
        for target in TARGET.findall(text):
            for action in BUTTON.findall(text) if "{{ action }}" in target else [""]:
                found.add(BLANK.sub(_filled(action), target))
    return found


def _filled(action: str) -> Callable[[re.Match[str]], str]:
    return lambda blank: action if blank[1] == "action" else "*"


def _cases() -> Iterator[Any]:
    for route in registered_forms():
        forms = [f for f in FORMS if f.route == route]
        for form in forms or [Form(route)]:
            yield pytest.param(form, id=form.id if forms else f"{route} has no case")


FORGERIES = {
    "no token": ({}, None),
    "an empty token": ({}, ""),
    "a forged token": ({}, "0" * 40),
    "a forged header": ({CSRF_HEADER: "0" * 40}, None),
    "another session's token": ({}, "other"),
    "a foreign origin": ({"Origin": EVIL}, "mine"),
    "a null origin": ({"Origin": "null"}, "mine"),
}


# -- the app ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class App:
    """The app as served for the whole module (starting one per case cost ~2.5 s each)."""

    url: str
    server: Server
    sim: RunningSimulator


@pytest.fixture(scope="module")
def app(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    state_dir = tmp_path_factory.mktemp("csrf-state")
    with start_in_thread(SimulatorConfig(speed=200.0, seed=3)) as sim:
        settings = Settings(
            api_key=DEFAULT_API_KEY, base_url=sim.url, redis_url=redis_server.url,
            state_dir=state_dir,
        )  # fmt: skip
        store = Store.from_url(redis_server.url)
        server = Server(settings, store, TOKEN, state_dir, events_every_s=0.05)
        with serve_in_thread(build_app(server)) as url:
            yield App(url, server, sim)


@pytest.fixture
def site(app: App, redis_url: str) -> Site:
    """Each case starts from nothing: an empty Redis (`redis_url` flushes it), no kept files,
    and a session of its own (a case may end its session, or spend its token)."""
    for kept in app.server.state_dir.iterdir():
        if kept.is_dir():
            shutil.rmtree(kept)
        else:
            kept.unlink()
    running = Site(app.url, app.server, redis_url, app.sim)
    running.cookies, running.csrf = log_in(app.url)
    return running


def everything(site: Site) -> tuple[dict[Any, Any], dict[str, bytes], int]:
    """What a form could change: every Redis key and value, every file the server keeps, and
    how many calls the simulator was asked to place."""
    with redis.Redis.from_url(site.redis_url) as db:
        keys = {key: db.dump(key) for key in db.keys("*")}
    files = {
        str(p): p.read_bytes() for p in sorted(site.server.state_dir.rglob("*")) if p.is_file()
    }
    return keys, files, len(site.sim.state.creates)


def _csrf(site: Site, given: str | None) -> str | None:
    if given == "mine":
        return site.csrf
    if given == "other":
        return log_in(site.url)[1]
    return given


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("forgery", list(FORGERIES))
@pytest.mark.parametrize("form", list(_cases()))
def test_a_form_another_site_could_send_is_refused_and_changes_nothing(
    site: Site, form: Form, forgery: str
) -> None:
    if form not in FORMS:
        pytest.fail(f"POST {form.route} is a form of the pages with no case in FORMS", False)
    names = form.scene(site)
    headers, given = FORGERIES[forgery]
    before = everything(site)
    answer = form.send(site, names, _csrf(site, given), **headers)
    assert answer.status_code == 403, f"{form.path} with {forgery}: {answer.text}"
    assert "not sent by this site's pages" in answer.text
    assert "set-cookie" not in answer.headers, "a refused form logs nobody in or out"
    assert everything(site) == before, f"{form.path} with {forgery} changed something"


@pytest.mark.parametrize("form", FORMS, ids=[f.id for f in FORMS])
def test_with_its_token_the_same_form_is_accepted(site: Site, form: Form) -> None:
    """The refusals above are of complete forms: with the page's token each does its work."""
    names = form.scene(site)
    before = everything(site)
    answer = form.send(site, names, site.csrf)
    assert answer.status_code in {200, 204, 303}, f"{form.path}: {answer.text}"
    assert (everything(site) != before) is (form.changes == "store")
    assert (f"{COOKIE}=" in answer.headers.get("set-cookie", "")) is (form.changes == "cookie")


def test_every_case_is_a_route_the_app_registers() -> None:
    routes = set(registered_forms())
    assert {f.route for f in FORMS} == routes, "FORMS and the pages' POST routes differ"
    assert len({f.path for f in FORMS}) == len(FORMS)


def test_every_form_of_the_templates_has_a_case() -> None:
    cases = {re.sub(r"\{\w+\}", "*", f.path) for f in FORMS}
    assert page_targets() == cases | set(SESSIONLESS), "a form of the templates has no case"


def test_a_login_from_another_site_sets_no_cookie(site: Site) -> None:
    forged = httpx.post(
        f"{site.url}/login", data={"token": TOKEN}, headers={"Origin": EVIL}, timeout=30
    )
    assert forged.status_code == 401 and COOKIE not in forged.cookies
    mine = httpx.post(f"{site.url}/login", data={"token": TOKEN}, timeout=30)
    assert mine.status_code == 303 and COOKIE in mine.cookies


def test_the_pages_test_call_to_a_listed_number_is_refused_and_placed_nowhere(site: Site) -> None:
    """The page's test call, with its token, goes through the same claim as a campaign's calls:
    a number on the account's do-not-call list is refused in words, and nothing is dialled."""
    account = site.server.settings.account_name()
    site.server.store.dnc_add(account, ["+14155550199"], reason="asked by phone")
    form = next(f for f in FORMS if f.path == "/campaigns/new/test-call")
    placed = len(site.sim.state.creates)  # the module's simulator: earlier cases' calls stay
    answer = form.send(site, {}, site.csrf)
    assert answer.status_code == 200, answer.text
    assert "Test call not placed" in answer.text and "do-not-call list" in answer.text
    assert len(site.sim.state.creates) == placed
