"""The new-campaign page: upload a list, see it as `dialer run` reads it, check it, make a test
call, start it.

Every request of the page sends the whole form again, the file included (the browser keeps
it), so the server keeps nothing between the steps: the check reads the file with the loader
of `dialer run` (`inspect_list`), the preflight is `campaigns.preflight.run`, and "Start
campaign" is `actions.create`, as POST /api/campaigns does it (the list read once, as it loads).
"""

# Annotations stay evaluated (no __future__ import): FastAPI reads them, and they name
# dependencies local to the router functions.

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from campaigns import preflight as checking
from campaigns.checks import Check, Level
from campaigns.estimate import describe
from campaigns.excel import CsvStyle
from campaigns.planning import load_options, open_path, plan_run
from campaigns.rejects import write_rejects
from dialer.errors import InputError
from dialer.run_options import RUN_DEFAULTS, RunOptions
from workers.server import actions, forms, testcall, uploads
from workers.server.context import Server
from workers.server.inspection import Column, Inspection, columns_of, header_of, inspect_list
from workers.server.web.common import PAGE_ERRORS, message, page, sender, viewer
from workers.server.web.login import Session


@dataclass
class Draft:
    """The form as sent: the run options given, which variables are kept and the name each is
    sent as (`rename`, from the page's "sent as" boxes), and the campaign's name if given."""

    values: dict[str, Any]
    keep: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    sent_as: dict[str, str] = field(default_factory=dict)
    campaign: str | None = None

    @classmethod
    def of(cls, values: dict[str, Any], columns: list[str], names: list[str]) -> dict[str, Any]:
        """The run options with the page's renames (a box changed from its column's name)."""
        renames = [f"{c}={n.strip()}" for c, n in zip(columns, names, strict=False) if n != c]
        return {**values, "rename": renames} if renames else values

    def sent_names(self, names: list[str]) -> list[str]:
        """The names the agent receives for these columns."""
        return [self.sent_as.get(name, name) for name in names]

    @property
    def sheet(self) -> str | None:
        """The workbook's sheet chosen, if one was."""
        return self.values.get("sheet") or None

    def options(self, *, renamed: bool = True) -> RunOptions:
        """The run options without the choice of variables (to read every column)."""
        kept = {} if renamed else {"rename": None}
        return RunOptions.model_validate({**self.values, "variables": None, **kept})

    def variables(self, columns: list[Column]) -> list[str]:
        """The variables sent: those ticked, and any column not offered before."""
        names = [c.name for c in columns if c.used_as == "variable"]
        return [n for n in names if n in self.keep or n not in self.listed]

    def with_variables(self, columns: list[Column]) -> dict[str, Any]:
        """The run options to start with: `variables` set when some were left out."""
        chosen = self.variables(columns)
        everything = [c.name for c in columns if c.used_as == "variable"]
        return {**self.values, "variables": None if chosen == everything else ",".join(chosen)}


def router(server: Server) -> APIRouter:
    """The new-campaign page and its steps."""
    pages = APIRouter(include_in_schema=False)
    seeing, sending = Depends(viewer(server)), Depends(sender(server))

    async def draft(
        options: Annotated[dict[str, Any], Depends(forms.run_options_given)],
        keep: Annotated[list[str] | None, Form()] = None,
        listed: Annotated[list[str] | None, Form()] = None,
        sent_as: Annotated[list[str] | None, Form()] = None,
        campaign: Annotated[str | None, Form()] = None,
    ) -> Draft:
        listed, names = listed or [], sent_as or []
        values = Draft.of(options, listed, names)
        renames = dict(zip(listed, (n.strip() for n in names), strict=False))
        return Draft(values, keep or [], listed, renames, (campaign or "").strip() or None)

    drafted = Annotated[Draft, Depends(draft)]

    @pages.get("/campaigns/new")
    def new(request: Request, session: Annotated[Session, seeing]) -> Response:
        return page(request, "new.html", defaults=defaults(server), session=session)

    @pages.post("/campaigns/new/check")
    async def check(
        request: Request, file: UploadFile, form: drafted, session: Annotated[Session, sending]
    ) -> Response:
        part = await uploads.receive(file, server.uploads, server.max_upload_bytes)
        with uploads.discarded(part):
            shown = await run_in_threadpool(review, server, part, file.filename, form)
        return page(request, "_check.html", **shown, session=session)

    @pages.post("/campaigns/new/rejects.csv")
    async def rejects(
        file: UploadFile, form: drafted, session: Annotated[Session, sending]
    ) -> Response:
        part = await uploads.receive(file, server.uploads, server.max_upload_bytes)
        name = uploads.list_name(file.filename)
        with uploads.discarded(part):
            text = await run_in_threadpool(rejects_csv, part, form)
        disposition = f'attachment; filename="{Path(name).stem}.rejects.csv"'
        return Response(text, media_type="text/csv", headers={"Content-Disposition": disposition})

    @pages.post("/campaigns/new/test-call")
    async def test_call(
        request: Request,
        file: UploadFile,
        form: drafted,
        session: Annotated[Session, sending],
        test_number: Annotated[str, Form()] = "",
    ) -> Response:
        part = await uploads.receive(file, server.uploads, server.max_upload_bytes)
        with uploads.discarded(part):
            said = await run_in_threadpool(
                call_once, server, part, file.filename, form, test_number
            )
        return page(request, "_said.html", said=said, session=session)

    @pages.get("/campaigns/new/test-call/{call_id}")
    async def test_call_state(
        request: Request, call_id: str, session: Annotated[Session, seeing]
    ) -> Response:
        said = await run_in_threadpool(test_call_now, server, call_id)
        return page(request, "_said.html", said=said, session=session)

    @pages.post("/campaigns/new/start")
    async def start(
        request: Request, file: UploadFile, form: drafted, session: Annotated[Session, sending]
    ) -> Response:
        part = await uploads.receive(file, server.uploads, server.max_upload_bytes)
        with uploads.discarded(part):
            try:
                cid = await run_in_threadpool(submit, server, part, file.filename, form)
            except PAGE_ERRORS as exc:
                return page(request, "_said.html", said=Said(False, message(exc)), session=session)
        return Response(status_code=204, headers={"HX-Redirect": f"/campaigns/{cid}"})

    return pages


def defaults(server: Server) -> dict[str, Any]:
    """The settings' starting values: the environment's agent and number, the run defaults."""
    settings = server.settings
    return {
        **RUN_DEFAULTS.model_dump(),
        "agent_id": settings.agent_id or "",
        "from_number": settings.from_number or "",
    }


@dataclass(frozen=True)
class Said:
    """The answer to a step: it went well or not, and what happened."""

    ok: bool
    text: str
    follow: str = ""  # a URL the page asks again (every FOLLOW_EVERY_S) until the call ends


def review(server: Server, part: Path, filename: str | None, form: Draft) -> dict[str, Any]:
    """The list as `dialer run` reads it, and the preflight of the campaign it would start."""
    name = uploads.list_name(filename)
    try:
        found, problem = read_renamed(part, name, form)
    except PAGE_ERRORS as exc:
        return {"problem": on_page(message(exc)), "header": header_of(part, name, form.sheet)}
    chosen = form.variables(found.columns)
    shown = form.sent_names(chosen) if not problem else chosen
    return {
        "found": found,
        "problem": problem,
        "chosen": chosen,
        "shown": shown,
        "sent_as": form.sent_as,
        "samples": [
            {k: v for k, v in s.variables.items() if k in shown} | {"phone": s.phone_e164}
            for s in found.samples
        ],
        "checks": [] if problem else preflight(
            server, part, form.with_variables(found.columns), found.contacts),
    }  # fmt: skip


def read_renamed(part: Path, name: str, form: Draft) -> tuple[Inspection, str]:
    """The list as the form reads it; when only its renames are refused, the list read without
    them and why (the page keeps the variables on show, to fix the name)."""
    try:
        return inspect_list(part, name, load_options(form.options())), ""
    except InputError as exc:
        if exc.field != "rename":
            raise
        return inspect_list(part, name, load_options(form.options(renamed=False))), message(exc)


# The loader's advice names an option (by its field, once worded for HTTP); the page has a
# control for each.
_ON_PAGE = (
    (re.compile(r"\bphone_column\b"), "the Phone column menu"),
    (re.compile(r"\bwith sheet ('[^']*'|[^\s,;]+)"), "with the Sheet menu"),
    (re.compile(r"\bcountry_column\b"), "the Country column menu"),
    (re.compile(r"\bfallback_columns\b"), "Fallback number columns"),
    (re.compile(r"\bdefault_region\b"), "Default region"),
)


def on_page(text: str) -> str:
    """A loader's message with the page's controls named instead of the CLI's options."""
    for option, control in _ON_PAGE:
        text = option.sub(control, text)
    return text


def preflight(server: Server, part: Path, values: dict[str, Any], contacts: int) -> list[Check]:
    """The preflight of the campaign it would start, then its limits and an estimate of its
    length."""
    try:
        chosen = plan_run(server.settings, part, forms.build(values, webhook_url=None),
                          campaign="preview")  # fmt: skip
    except PAGE_ERRORS as exc:
        return [Check("settings", Level.FAIL, message(exc))]
    result = checking.run(server.settings, chosen, local=False)
    found, config = result.checks, chosen.config
    found.append(Check("limits", Level.OK, limits(config.rate_per_s, values)))
    calls = contacts * config.max_attempts
    said = f"{contacts} contacts, up to {calls} calls"
    if result.estimate is not None:  # walked through each contact's calling window
        said += ". " + describe(result.estimate, deadline=bool(config.deadline))
    found.append(Check("estimate", Level.OK, said))
    return found


def limits(rate_per_s: float, values: dict[str, Any]) -> str:
    """The pace and calling times in words."""
    opts = RunOptions.model_validate(values)
    rules = f", {opts.rules} rules" if opts.rules else ""
    return (
        f"{opts.rate} ({rate_per_s:g} calls/s), at most {opts.max_concurrent} at once; "
        f"window {opts.window} on {opts.days} in each recipient's time{rules}; "
        f"{opts.max_attempts} attempt(s) per contact"
    )


def rejects_csv(part: Path, form: Draft) -> str:
    """The rows that will not be dialled, as the rejects file of `dialer run`."""
    rejected = []
    with open_path(part, load_options(form.options())) as contact_file:
        for _, bad in contact_file.batches():
            rejected.extend(bad)
        delimiter = contact_file.delimiter
    out = io.StringIO(newline="")
    write_rejects(rejected, out, CsvStyle(delimiter))
    return out.getvalue()


def call_once(server: Server, part: Path, filename: str | None, form: Draft, to: str) -> Said:
    """One test call to `to` with the first contact's variables."""
    try:
        found = inspect_list(part, uploads.list_name(filename), load_options(form.options()))
        values = form.with_variables(found.columns)
        first = found.samples[0].variables if found.samples else {}
        names = form.sent_names(form.variables(found.columns))
        sent = {k: v for k, v in first.items() if k in names}
        call = testcall.place(server.settings, server.store, part, values, to, sent)
    except PAGE_ERRORS as exc:
        return Said(False, f"Test call not placed: {message(exc)}")
    return Said(True, testcall.in_words(call), follow=f"/campaigns/new/test-call/{call.id}")


def test_call_now(server: Server, call_id: str) -> Said:
    """Where the test call is, asked again until it has ended."""
    try:
        call = testcall.fetch(server.settings, call_id)
    except PAGE_ERRORS as exc:
        return Said(False, f"Test call {call_id}: {message(exc)}")
    follow = "" if call.is_final else f"/campaigns/new/test-call/{call.id}"
    return Said(True, testcall.in_words(call), follow=follow)


def submit(server: Server, part: Path, filename: str | None, form: Draft) -> str:
    """Start the campaign as POST /api/campaigns does (the list read once, as it loads); its
    id."""
    columns = columns_of(part, uploads.list_name(filename), load_options(form.options()))
    asked = actions.Request(part, filename, form.with_variables(columns), form.campaign)
    return actions.create(server, asked).cid
