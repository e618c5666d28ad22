"""Mapping a list on the new-campaign page, in a real browser: the phone column the detector
does not know, a workbook's second sheet, country names, an empty phone with a mobile beside it.
The server, browser and helpers are those of `test_web`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import Workbook

from tests.workers.server.test_web import Site, labels_and_buttons, shot, site

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
__all__ = ("site",)  # the module's server and browser, shared with test_web's fixture

DATA = Path(__file__).resolve().parents[2] / "data"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def choose(site: Site, tab: Page, name: str, content: bytes, mime: str = "text/csv") -> None:
    """Choose a file on the new-campaign page and wait for its check (or its problem)."""
    tab.goto(f"{site.url}/campaigns/new")
    tab.get_by_label("Contacts file").set_input_files(
        {"name": name, "mimeType": mime, "buffer": content}
    )
    tab.get_by_label("Phone column").wait_for()


def to_dial(tab: Page, count: int) -> None:
    tab.locator("[data-to-dial]").filter(has_text=str(count)).wait_for()


def test_a_telephone_column_is_mapped_on_the_page(site: Site) -> None:
    tab = site.page()
    liste = "Téléphone;Prénom\n+33 6 12 34 56 78;Amélie\n+33 6 12 34 56 79;Zoë\n"
    choose(site, tab, "liste.csv", liste.encode())
    problem = tab.get_by_role("alert").inner_text()
    assert "no phone column" in problem and "Phone column menu" in problem
    assert "--" not in problem, "the page does not cite command-line options"
    tab.get_by_label("Phone column").select_option("Téléphone")
    to_dial(tab, 2)
    assert "Amélie" in tab.locator("[data-samples]").inner_text()
    assert tab.get_by_role("alert").count() == 0
    assert labels_and_buttons(tab) == []


def test_the_second_sheet_of_a_workbook_is_chosen_on_the_page(site: Site) -> None:
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["Exported by", "Sales ops"])
    leads = book.create_sheet("Leads")
    leads.append(["mobile", "who"])
    leads.append(["(646) 555-0199", "Eli"])
    leads.append(["(646) 555-0198", "Fay"])
    buffer = io.BytesIO()
    book.save(buffer)
    tab = site.page()
    choose(site, tab, "book.xlsx", buffer.getvalue(), XLSX)
    problem = tab.get_by_role("alert").inner_text()
    assert "Sheet menu" in problem and "--sheet" not in problem
    tab.get_by_label("Sheet").select_option("Leads")
    to_dial(tab, 2)
    assert tab.get_by_label("Phone column").input_value() == "mobile"
    assert tab.get_by_label("Sheet").input_value() == "Leads"


def test_a_salesforce_export_with_country_names(site: Site) -> None:
    tab = site.page()
    choose(site, tab, "salesforce.csv", (DATA / "salesforce_countries.csv").read_bytes())
    assert tab.get_by_label("Country column").input_value() == "Mailing Country"
    tab.get_by_label("Default region").fill("FR")
    tab.get_by_label("Default region").dispatch_event("change")
    to_dial(tab, 6)
    samples = tab.locator("[data-samples]").inner_text()
    assert "+4930901820" in samples and "+447911123456" in samples  # Berlin, and a mobile
    rejects = tab.locator("table", has_text="Rejected rows").inner_text()
    assert "'Atlantis' is not a country we know" in rejects
    shot(tab, "mapping")
    # No country column: the Berlin number is read in the default region, and is not French.
    tab.get_by_label("Country column").select_option("none")
    tab.locator("[data-samples]", has_text="+4930901820").wait_for(state="detached")


def test_a_hubspot_export_whose_phone_is_empty_and_mobile_is_not(site: Site) -> None:
    tab = site.page()
    choose(site, tab, "hubspot.csv", (DATA / "hubspot_mobile.csv").read_bytes())
    assert tab.get_by_label("Fallback number columns").input_value() == "Mobile Phone Number"
    to_dial(tab, 3)
    assert "+33612345679" in tab.locator("[data-samples]").inner_text()
    rejects = tab.locator("table", has_text="Rejected rows").inner_text()
    assert "'Phone Number', 'Mobile Phone Number' are all empty" in rejects
    table = tab.locator("table", has_text="Rejected rows")
    assert "missing number" in table.inner_text() and "missing_number" not in table.inner_text()
    tab.get_by_label("Fallback number columns").fill("none")
    tab.get_by_label("Fallback number columns").dispatch_event("change")
    to_dial(tab, 1)


def test_the_rejects_table_says_when_it_shows_only_the_first(site: Site) -> None:
    tab = site.page()
    rows = "".join(f"not a phone {i},person {i}\n" for i in range(7))
    choose(site, tab, "bad.csv", f"phone,name\n+14155550100,Ann\n{rows}".encode())
    to_dial(tab, 1)
    caption = tab.locator("table caption", has_text="Rejected rows").inner_text()
    assert caption == "Rejected rows: the first 5 of 7 (download them all below)"
    assert tab.locator("table", has_text="Rejected rows").locator("tbody tr").count() == 5
