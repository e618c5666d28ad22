"""`dialer serve`: the REST API, the OneInbox webhook receiver and the web pages, in one process.
A route parses its request, calls the lifecycle (through actions.py), and renders the result.

app.py             builds the FastAPI app from a `Server` (no work at import)
context.py         what every route needs: settings, store, token, folders, limits
auth.py            the bearer token
errors.py          every error as JSON a person can act on (status and field from the error)
access_log.py      the access log, with webhook secrets hidden
actions.py         what the campaign routes do: create, steer, retry, delete
checks.py          the preflight's checks as the API shows them (`CheckView`, the 422)
forms.py           the run options as a form model (`RunOptionsForm`), from `RunOptions`
inspection.py      a list read as `dialer run` reads it, nobody dialled
testcall.py        one test call before a campaign starts
uploads.py         uploaded lists, streamed to the state folder under a size limit
views.py           a campaign as the API shows it, from counters only
files.py           a campaign's results and report files
receiver.py        the OneInbox webhook receiver
api/campaigns.py   /api/contacts/inspect and /api/campaigns
api/schedules.py   /api/schedules
api/events.py      server-sent progress of a campaign
web/pages.py       the pages: campaigns, a campaign; web/details.py: its figures in words
web/new_campaign.py  the new-campaign page: upload, check, test call, start
web/schedules.py   the schedules page
web/login.py       the login and its session (`Session`, a CSRF token per session)
web/common.py      what every page shares: templates, errors shown on the page
web/templates/, web/static/  the pages' HTML and assets
"""
