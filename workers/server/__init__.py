"""`dialer serve`: the REST API, the OneInbox webhook route and (later) the pages, in one process.

app.py            builds the FastAPI app from a `Server` (no work at import)
context.py        what every route needs: settings, store, token, folders, limits
stack.py          the embedded stack the server runs for as long as it serves
auth.py           the bearer token; errors.py: every error as JSON a person can act on
uploads.py        uploaded lists, streamed to the state folder under a size limit
forms.py          the run options as form fields, derived from `RunOptions`
views.py          a campaign as the API shows it, from counters only
api_campaigns.py  /api/contacts/inspect and /api/campaigns; files.py: results and report
api_schedules.py  /api/schedules; events.py: server-sent progress
"""
