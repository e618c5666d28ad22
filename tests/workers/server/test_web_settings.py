"""The new-campaign page's settings and the small things, in a real browser: variables
renamed, the campaign's name, max attempts and rules, the schedule form after a refusal, wide
tables, the icon. The server, browser and helpers are those of `test_web`."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.support import wait_until
from tests.workers.server.test_web import (
    PHONE,
    Site,
    fits,
    labels_and_buttons,
    shot,
    site,
    upload,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
__all__ = ("site",)  # the module's server and browser, shared with test_web's fixture

LEADS = """\
Phone Number,First Name,Company,Email
(415) 555-0111,Ana,Acme,ana@acme.io
(415) 555-0112,Ben,Initech,ben@initech.io
"""


def test_variables_renamed_on_the_page_reach_the_agent_under_their_new_names(
    site: Site,
) -> None:
    tab = site.page()
    upload(site, tab, "renamed.csv", LEADS)
    first = tab.locator("[data-sent-as='First Name']")
    assert first.input_value() == "First Name"
    first.fill("first_name")
    first.dispatch_event("change")
    tab.locator("[data-samples] th", has_text="first_name").wait_for()
    samples = tab.locator("[data-samples]").inner_text()
    assert "First Name" not in samples and "Ana" in samples
    # A name another variable has is refused, naming both; the variables stay on show.
    tab.locator("[data-sent-as='Company']").fill("Email")
    tab.locator("[data-sent-as='Company']").dispatch_event("change")
    said = tab.get_by_role("alert")
    said.wait_for()
    problem = said.inner_text()
    assert "'Company' and 'Email' would both reach the agent as 'Email'" in problem, problem
    assert "--" not in problem and "/" not in problem
    assert tab.locator("[data-sent-as='Company']").input_value() == "Email", "kept to fix"
    # An empty name is refused too.
    tab.locator("[data-sent-as='Company']").fill("")
    tab.locator("[data-sent-as='Company']").dispatch_event("change")
    tab.get_by_role("alert").filter(has_text="'Company' is given no new name").wait_for()
    tab.locator("[data-sent-as='Company']").fill("company")
    tab.locator("[data-sent-as='Company']").dispatch_event("change")
    tab.get_by_role("alert").wait_for(state="detached")
    assert tab.locator("[data-samples] th").all_inner_texts() == [
        "phone",
        "first_name",
        "company",
        "Email",
    ]
    assert labels_and_buttons(tab) == []
    tab.locator("[data-sent-as='Company']").scroll_into_view_if_needed()
    shot(tab, "renamed")
    # The campaign's name, max attempts and rules from the page.
    tab.get_by_label("Campaign name").fill("spring-leads")
    tab.get_by_label("Max attempts").fill("2")
    tab.get_by_label("State rules").select_option("us-states")
    tab.get_by_label("Rate").fill("20/s")
    tab.get_by_label("Calling window").fill("always")
    tab.get_by_role("button", name="Start campaign").click()
    tab.wait_for_url(f"{site.url}/campaigns/spring-leads")
    with site.api() as api:
        shown = api.get("/api/campaigns/spring-leads").json()
        assert shown["options"]["max_attempts"] == 2 and shown["options"]["rules"] == "us-states"
        wait_until(lambda: len(_called(api, "spring-leads")) == 2, 60, "both contacts called")
        rows = _called(api, "spring-leads")  # a no answer would be retried in 30 minutes
    assert [r["First Name"] for r in rows] == ["Ana", "Ben"], "the results keep the headers"
    assert site.sent(rows[0]["call_id"]) == {
        "first_name": "Ana",
        "company": "Acme",
        "Email": "ana@acme.io",
    }


def _called(api: httpx.Client, cid: str) -> list[dict[str, str]]:
    """The rows of the campaign's results whose contact has been called."""
    text = api.get(f"/api/campaigns/{cid}/results.csv").content.decode("utf-8-sig")
    return [row for row in csv.DictReader(io.StringIO(text)) if row["call_id"]]


def test_the_schedule_form_keeps_every_field_after_a_refusal(site: Site) -> None:
    tab = site.page()
    tab.goto(f"{site.url}/schedules")
    typed = {
        "Name": "mornings",
        "Cron": "0 25 * * mon-fri",  # no 25th hour: refused
        "Time zone": "Europe/Paris",
        "Rate": "2/s",
        "Max concurrent": "3",
        "Calling window": "09:00-17:00",
        "Days": "mon-fri",
        "Max attempts": "2",
    }
    for label, value in typed.items():
        tab.get_by_label(label, exact=True).fill(value)
    tab.get_by_label("Contacts file").set_input_files(
        {"name": "leads.csv", "mimeType": "text/csv", "buffer": LEADS.encode()}
    )
    tab.get_by_role("button", name="Add schedule").click()
    alert = tab.get_by_role("alert")
    alert.wait_for()
    assert "cron" in alert.inner_text() and "--" not in alert.inner_text()
    kept = {label: tab.get_by_label(label, exact=True).input_value() for label in typed}
    assert kept == typed
    assert "Choose the file again" in tab.inner_text("main")


def test_a_wide_list_scrolls_inside_its_table_not_the_page(site: Site) -> None:
    header = ["phone"] + [f"Field {i:02}" for i in range(1, 30)]
    rows = [[f"+1415555{i:04}"] + [f"value {i}-{c}" for c in range(1, 30)] for i in range(3)]
    text = "\n".join(",".join(row) for row in [header, *rows]) + "\n"
    tab = site.page(PHONE)
    upload(site, tab, "wide.csv", text)
    tab.locator("[data-to-dial]").filter(has_text="3").wait_for()
    assert fits(tab), "the page itself does not scroll sideways"
    wrapper = tab.locator("[data-samples]").locator("xpath=..")
    widths = wrapper.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert widths[0] > widths[1], "the table is wider than its wrapper, which scrolls"
    last = tab.locator("[data-samples] th", has_text="Field 29")
    assert not last.is_visible() or not _in_view(last.bounding_box(), PHONE["width"])
    last.scroll_into_view_if_needed()
    assert wrapper.evaluate("w => w.scrollLeft") > 0
    assert _in_view(last.bounding_box(), PHONE["width"]), "the last column is reachable"
    assert "value 0-29" in tab.locator("[data-samples] tbody tr").first.inner_text()
    shot(tab, "phone-new-campaign-wide", full_page=False)


def _in_view(box: dict[str, float] | None, width: int) -> bool:
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1


def test_the_icon_is_served(site: Site) -> None:
    answer = httpx.get(f"{site.url}/favicon.ico", timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/x-icon"
    assert answer.content[:4] == b"\x00\x00\x01\x00", "an .ico file"
    tab = site.page()
    missing: list[str] = []
    tab.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    tab.goto(f"{site.url}/")
    assert tab.locator("link[rel=icon]").get_attribute("href") == "/favicon.ico"
    assert missing == []
