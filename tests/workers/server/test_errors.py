"""Errors as the API and the pages word them: no command-line option, no server path."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workers.server.errors import body
from workers.server.wording import for_http


@pytest.mark.parametrize(
    ("cli", "http"),
    [
        (
            "leads.csv: no phone column among ['Téléphone']: name it with --phone-column NAME",
            "leads.csv: no phone column among ['Téléphone']: name it with phone_column",
        ),
        ("--min-gap: '2d' is longer than 24h", "min_gap: '2d' is longer than 24h"),
        (
            "no agent: give --agent-id, or set DIALER_AGENT_ID",
            "no agent: give agent_id, or set DIALER_AGENT_ID",
        ),
        ("skip it with --no-preflight", "skip it with preflight=false"),
        (
            "/srv/dialer/uploads/leads-1a2b3c4d/.0badcafe.leads.xlsx: not an Excel workbook",
            "leads.xlsx: not an Excel workbook",
        ),
        (
            "/tmp/x/uploads/.leads.csv.0badcafe.part: the file is empty",
            "leads.csv: the file is empty",
        ),
        ("/var/lib/dialer/files/c-1/results.csv is a folder", "results.csv is a folder"),
    ],
)
def test_a_message_names_fields_and_files_not_options_and_paths(cli: str, http: str) -> None:
    assert for_http(cli) == http


@pytest.mark.parametrize(
    "kept",
    [
        "https://example.com/webhooks/oneinbox is not https",
        "rate 30/50 at 1/s, window 08:00-21:00, retry 10m,1h, region US",
        "row 3, column 'Work-Phone': not a number",
    ],
)
def test_urls_rates_and_plain_words_are_kept(kept: str) -> None:
    assert for_http(kept) == kept


WORDS = ["--phone-column", "--sheet", "--no-bom", "x:", "'Leads'", "/srv/up/", "/srv/up/y.csv"]


@given(st.lists(st.sampled_from(WORDS)))
def test_no_option_nor_folder_survives(words: list[str]) -> None:
    said = body(" ".join(words))["error"]
    assert "--" not in said and "/srv" not in said
