"""The web app in a real browser: Playwright drives Debian's Chromium against a real `dialer serve`
process (its embedded Redis and worker) and the simulator over HTTP.

One server and one browser for the module. With DIALER_SCREENSHOTS=1 the tests also write the
README's screenshots to docs/screenshots/.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from openpyxl import load_workbook

from dialer.simulator.config import (
    DEFAULT_AGENT_ID,
    DEFAULT_API_KEY,
    DEFAULT_FROM_NUMBER,
    SimulatorConfig,
)
from dialer.simulator.server import start_in_thread
from tests.support import ROOT, cli_env, dialer_env, dialer_exe, wait_until
from workers.processes import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the site fixture skips (or fails under CI) without Playwright
    PlaywrightTimeout = TimeoutError  # type: ignore[assignment,misc]

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

TOKEN = "web-test-token-8d41b7"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CONTACTS = """\
Phone Number,first_name,order_id,notes
(415) 555-0101,Ana,A-1,"likes, commas"
+1 212 555 0102,Ben,A-2,=HYPERLINK("http://x")
415.555.0103,Chloé,A-3,
not a phone,Dev,A-4,
+14155550101,Emma,A-5,duplicate of row 1
"""
FINAL = {"completed", "voicemail", "no_answer", "failed"}
SHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _needed(why: str) -> None:
    """Skip, except under CI where a missing browser or Playwright fails the run."""
    if os.environ.get("CI"):
        pytest.fail(f"{why}: under CI it fails the run", pytrace=False)
    pytest.skip(why)


def chromium() -> str:
    """Debian's Chromium (no browser is downloaded)."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        _needed("needs Chromium (Debian package `chromium`)")
    return str(found)


def log_in(tab: Page, url: str, token: str) -> None:
    """Log in as a person does: the token typed into the login form."""
    tab.goto(f"{url}/login")
    tab.get_by_label("Token").fill(token)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(f"{url}/")


@dataclass
class Site:
    """The running server and a browser logged in to it."""

    url: str
    tmp: Path
    browser: Browser
    sim_url: str

    def page(self, viewport: dict[str, int] = DESKTOP, *, logged_in: bool = True) -> Page:
        """A fresh browser tab (its own cookies), logged in unless told."""
        context = self.browser.new_context(viewport=viewport, accept_downloads=True)  # type: ignore[arg-type]
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        if logged_in:
            log_in(tab, self.url, TOKEN)
        return tab

    def sent(self, call_id: str) -> dict[str, str]:
        """The variables the simulator received with a call."""
        headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        call = httpx.get(f"{self.sim_url}/v1/calls/{call_id}", headers=headers).json()
        return dict(call["variables"])

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _needed("needs the playwright package (dev extras)")
    executable = chromium()
    tmp = tmp_path_factory.mktemp("web")
    with start_in_thread(SimulatorConfig(speed=200.0, seed=11)) as sim:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        defaults = {"DIALER_AGENT_ID": DEFAULT_AGENT_ID, "DIALER_FROM_NUMBER": DEFAULT_FROM_NUMBER}
        env = cli_env(sim, tmp, DIALER_WEB_TOKEN=TOKEN, DIALER_PUBLIC_URL=url, **defaults)
        with (tmp / "serve.out").open("wb") as out, (tmp / "serve.err").open("wb") as err:
            process = subprocess.Popen(
                [dialer_exe(), "serve", "--port", str(port)],
                env=dialer_env(env), cwd=tmp, stdout=out, stderr=err,
            )  # fmt: skip
        try:
            wait_until(lambda: _up(url), 60, "the server to answer")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                try:
                    yield Site(url, tmp, browser, sim.url)
                finally:
                    browser.close()
        finally:
            process.terminate()
            process.wait(timeout=60)


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def shot(tab: Page, name: str, *, full_page: bool = True) -> None:
    """The README's screenshot of this page (or of what the window shows), when
    DIALER_SCREENSHOTS is set."""
    if os.environ.get("DIALER_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def upload(site: Site, tab: Page, name: str, content: str, *, drop: bool = False) -> None:
    """Choose (or drag and drop) a contacts file on the new-campaign page; wait for its check."""
    tab.goto(f"{site.url}/campaigns/new")
    if drop:
        tab.evaluate(DROP, [name, content])
    else:
        tab.get_by_label("Contacts file").set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": content.encode()}
        )
    tab.get_by_label("Phone column").wait_for()


DROP = """([name, content]) => {
  const files = new DataTransfer();
  files.items.add(new File([content], name, {type: "text/csv"}));
  const zone = document.querySelector("[data-dropzone]");
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true}));
}"""


def start(tab: Page, rate: str = "20/s") -> str:
    """Set the pace, window always, start; the new campaign's id."""
    tab.get_by_label("Rate").fill(rate)
    tab.get_by_label("Calling window").fill("always")
    tab.get_by_role("button", name="Start campaign").click()
    tab.wait_for_url(lambda url: "/campaigns/" in url and "/campaigns/new" not in url)
    tab.locator("[data-state]").wait_for()
    return tab.url.rsplit("/", 1)[1]


def confirmed(tab: Page, button: Locator) -> str:
    """Click a button that asks first: refuse once (nothing happens), then accept; the
    question asked."""
    asked: list[str] = []
    tab.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    url = tab.url
    button.click()
    deadline = time.monotonic() + 30
    while not asked:  # the dialog's handler runs only while Playwright is called: no sleep
        assert time.monotonic() < deadline, "timed out after 30 s waiting for the confirmation"
        tab.wait_for_timeout(50)
    assert tab.url == url and button.count() == 1, "refused, and nothing happened"
    tab.once("dialog", lambda dialog: dialog.accept())
    button.click()
    return asked[0]


def state(tab: Page) -> str:
    return str(tab.locator("[data-state]").inner_text())


def labels_and_buttons(tab: Page) -> list[str]:
    """Inputs without a visible label, buttons without text."""
    found: list[str] = tab.evaluate(
        """() => {
          const bad = [];
          for (const el of document.querySelectorAll('input:not([type=hidden]), select')) {
            const label = el.closest('label')
              || (el.id && document.querySelector(`label[for="${el.id}"]`));
            if (!label || !label.offsetParent || !label.innerText.trim()) bad.push(el.name);
          }
          for (const b of document.querySelectorAll('button')) {
            if (!b.innerText.trim()) bad.push('button');
          }
          return bad;
        }"""
    )
    return found


def fits(tab: Page) -> bool:
    """True when the page needs no sideways scrolling."""
    return bool(tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_login_sets_a_strict_http_only_cookie_and_pages_need_it(site: Site) -> None:
    tab = site.page(logged_in=False)
    tab.goto(f"{site.url}/campaigns/new")
    assert tab.url == f"{site.url}/login"
    shot(tab, "login")
    tab.get_by_label("Token").fill("wrong")
    tab.get_by_role("button", name="Log in").click()
    assert "not this server's" in tab.inner_text("main")
    tab.get_by_label("Token").fill(TOKEN)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(f"{site.url}/")
    history = tab.evaluate("[document.referrer, location.href]")
    assert all(TOKEN not in url for url in history), "the token reached an address"
    (cookie,) = tab.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # A form posted with the session and a forged CSRF token is refused (every form and every
    # kind of forgery, a missing token included: test_csrf.py).
    jar = {cookie["name"]: cookie["value"]}
    refused = httpx.post(f"{site.url}/campaigns/x/pause", cookies=jar, data={"csrf": "forged"})
    assert refused.status_code == 403
    assert httpx.get(f"{site.url}/", follow_redirects=False).status_code == 303


def test_upload_check_test_call_start_and_watch_it_finish_live(site: Site) -> None:
    tab = site.page()
    upload(site, tab, "leads.csv", CONTACTS)
    assert tab.get_by_label("Phone column").input_value() == "Phone Number"
    assert tab.locator("[data-to-dial]").inner_text() == "3"
    assert tab.locator("[data-rejected]").inner_text() == "2"
    assert tab.get_by_label("Agent id").input_value() == DEFAULT_AGENT_ID
    assert "ok API key" in tab.locator("[data-preflight]").inner_text()
    # Another phone column re-checks the list: no order id is a phone number.
    tab.get_by_label("Phone column").select_option("order_id")
    tab.locator("[data-to-dial]").filter(has_text="0").wait_for()
    tab.get_by_label("Phone column").select_option("Phone Number")
    tab.locator("[data-to-dial]").filter(has_text="3").wait_for()
    # A variable left out is not in the rows the agent receives.
    tab.get_by_label("notes").uncheck()
    tab.locator("[data-samples] th", has_text="notes").wait_for(state="detached")
    assert "Ana" in tab.locator("[data-samples]").inner_text()
    with tab.expect_download() as rejects:
        tab.get_by_role("button", name="Download rejects").click()
    rows = list(
        csv.DictReader(io.StringIO(Path(rejects.value.path()).read_text(encoding="utf-8-sig")))
    )
    assert [r["source_row"] for r in rows] == ["5", "6"]  # the header is row 1
    assert labels_and_buttons(tab) == []
    shot(tab, "new-campaign")
    tab.get_by_label("Your phone number for a test call").fill("+1 415 555 0199")
    tab.get_by_role("button", name="Test call").click()
    said = tab.locator("#test-result", has_text="to +14155550199")
    said.wait_for()
    test_call = said.inner_text().split(" ")[2]
    assert site.sent(test_call) == {"first_name": "Ana", "order_id": "A-1"}
    # The page asks again until the call has ended, then says how.
    ended = tab.locator("#test-result [data-said]:not([hx-get])")
    ended.wait_for()
    words = ended.inner_text()
    assert words.startswith(f"Test call {test_call} to +14155550199: ")
    assert words.split(": ", 1)[1].split(",")[0].rstrip(".") in {"completed", "failed"}

    cid = start(tab)
    tab.evaluate("window.notReloaded = true")
    tab.locator("[data-state]", has_text="Done").wait_for(timeout=60_000)
    assert tab.evaluate("window.notReloaded") is True, "the page reloaded"
    assert tab.locator("[data-done]").inner_text() == "3"
    assert tab.locator("[data-calls=recent] tbody tr").count() == 3
    shot(tab, "campaign")
    with tab.expect_download() as results:
        tab.get_by_role("link", name="Download results (CSV)").click()
    rows = list(
        csv.DictReader(io.StringIO(Path(results.value.path()).read_text(encoding="utf-8-sig")))
    )
    assert [r["first_name"] for r in rows] == ["Ana", "Ben", "Chloé"]
    assert {r["status"] for r in rows} <= FINAL
    assert all(set(site.sent(r["call_id"])) == {"first_name", "order_id"} for r in rows)
    with tab.expect_download() as workbook:
        tab.get_by_role("link", name="Download results (XLSX)").click()
    assert workbook.value.suggested_filename == f"{cid}.results.xlsx"
    sheet = load_workbook(io.BytesIO(Path(workbook.value.path()).read_bytes())).active
    assert sheet is not None and sheet.max_row == 4
    tab.get_by_role("link", name="Report").click()
    assert "3" in tab.inner_text("body")
    tab.goto(f"{site.url}/")
    card = tab.locator(f"[data-campaign='{cid}']")
    assert "leads.csv" in card.inner_text() and "Done" in card.inner_text()
    shot(tab, "campaigns")


def _people(n: int, start: int) -> str:
    return "phone,name\n" + "".join(f"+1415555{start + i:04d},person {i}\n" for i in range(n))


def test_pause_resume_cancel_retry_and_delete(site: Site) -> None:
    tab = site.page()
    upload(site, tab, "slow.csv", _people(30, 2000))
    cid = start(tab, rate="1/s")
    assert state(tab) == "Running"
    assert tab.get_by_role("button", name="Delete").count() == 0, "Delete while running"
    tab.get_by_role("button", name="Pause").click()
    tab.locator("[data-state]", has_text="Paused").wait_for()
    tab.get_by_role("button", name="Resume").click()
    tab.locator("[data-state]", has_text="Running").wait_for()
    asked = confirmed(tab, tab.get_by_role("button", name="Cancel"))
    assert asked.startswith(f"Cancel campaign {cid}? The contacts not dialled yet will never")
    tab.locator("[data-state]", has_text="Canceled").wait_for()
    assert tab.get_by_role("button", name="Pause").count() == 0
    # Delete shows once no call is in progress, without a reload.
    tab.get_by_role("button", name="Delete").wait_for(timeout=60_000)
    tab.get_by_label("canceled").check()
    tab.get_by_label("failed").uncheck()
    tab.get_by_label("no_answer").uncheck()
    tab.get_by_role("button", name="Retry failed").click()
    tab.wait_for_url(f"**/campaigns/{cid}-retry-*")
    with site.api() as api:
        canceled = api.get(f"/api/campaigns/{cid}").json()["counts"]["canceled"]
        retry = api.get(f"/api/campaigns/{tab.url.rsplit('/', 1)[1]}").json()
    assert retry["total"] == canceled > 0, "the retry holds the canceled contacts, only them"
    tab.goto(f"{site.url}/campaigns/{cid}")
    asked = confirmed(tab, tab.get_by_role("button", name="Delete"))
    assert asked.startswith(f"Delete campaign {cid}? Its results and report are deleted")
    tab.wait_for_url(f"{site.url}/")
    assert tab.locator(f"[data-campaign='{cid}']").count() == 0
    with site.api() as api:
        assert api.get(f"/api/campaigns/{cid}").status_code == 404


def test_add_run_and_remove_a_schedule(site: Site) -> None:
    tab = site.page()
    tab.goto(f"{site.url}/schedules")
    tab.get_by_label("Name").fill("mornings")
    tab.get_by_label("Cron").fill("0 10 * * mon-fri")
    tab.get_by_label("Calling window").fill("always")
    tab.get_by_label("Contacts file").set_input_files(
        {"name": "morning.csv", "mimeType": "text/csv", "buffer": _people(2, 3000).encode()}
    )
    tab.get_by_role("button", name="Add schedule").click()
    job = tab.locator("[data-schedule=mornings]")
    assert "morning.csv" in job.inner_text()
    assert "in " in job.locator("dd ul li").first.inner_text()
    assert labels_and_buttons(tab) == []
    shot(tab, "schedules")
    job.get_by_role("button", name="Run now").click()
    tab.wait_for_url("**/campaigns/mornings-*")
    tab.goto(f"{site.url}/schedules")
    remove = tab.locator("[data-schedule=mornings]").get_by_role("button", name="Remove")
    asked = confirmed(tab, remove)
    assert asked.startswith("Remove the schedule mornings? It will not start another campaign")
    tab.locator("[data-schedule=mornings]").wait_for(state="detached")
    assert tab.locator("[data-schedule=mornings]").count() == 0


@pytest.mark.parametrize("path", ["/", "/campaigns/new", "/schedules"])
def test_pages_fit_a_phone(site: Site, path: str) -> None:
    tab = site.page(PHONE)
    tab.goto(f"{site.url}{path}")
    if path == "/campaigns/new":
        upload(site, tab, "phone.csv", CONTACTS, drop=True)
        assert tab.locator("[data-to-dial]").inner_text() == "3"
    assert fits(tab), f"{path} scrolls sideways at {PHONE['width']} px"
    shot(tab, f"phone{path.replace('/', '-').rstrip('-') or '-home'}")


def test_the_campaign_page_fits_a_phone(site: Site) -> None:
    with site.api() as api:
        created = api.post(
            "/api/campaigns",
            files={"file": ("pocket.csv", _people(3, 4000).encode())},
            data={"rate": "20/s", "window": "always"},
        )
    assert created.status_code == 201, created.text
    tab = site.page(PHONE)
    tab.goto(f"{site.url}/campaigns/{created.json()['id']}")
    tab.locator("[data-state]", has_text="Done").wait_for(timeout=60_000)
    assert fits(tab)
    shot(tab, "phone-campaign")


@contextlib.contextmanager
def framing_page(target: str) -> Iterator[str]:
    """Another page of the same site (127.0.0.1, another port) that frames `target`."""
    html = f'<!doctype html><iframe src="{target}" width="1200" height="800"></iframe>'.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_of_the_same_site_cannot_frame_a_click(site: Site) -> None:
    with site.api() as api:
        created = api.post(
            "/api/campaigns",
            files={"file": ("framed.csv", _people(5, 5000).encode())},
            data={"rate": "1/h", "window": "always"},
        )
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        tab = site.page()  # logged in: the session cookie is in this browser
        tab.on("dialog", lambda dialog: dialog.accept())
        with framing_page(f"{site.url}/campaigns/{cid}") as evil:
            tab.goto(evil)
            button = tab.frame_locator("iframe").get_by_role("button", name="Cancel")
            with contextlib.suppress(PlaywrightTimeout):
                button.click(timeout=5_000)
            tab.wait_for_timeout(1_000)
        assert api.get(f"/api/campaigns/{cid}").json()["state"] == "running"
        framed = api.get(f"/campaigns/{cid}", follow_redirects=False)
        assert "frame-ancestors 'none'" in framed.headers["content-security-policy"]
        assert framed.headers["x-frame-options"] == "DENY"
        api.post(f"/api/campaigns/{cid}/cancel")
