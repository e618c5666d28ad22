"""OneInbox and the state: everything a call needs, with no Celery and no pandas.

settings.py      the one settings object (environment > `.env` > default)
errors.py        the error tree; each error carries its HTTP status and field
run_options.py   a campaign run's options, declared once (CLI, API, stored jobs)
campaign.py      a campaign's settings (`CampaignConfig`) and states
account.py       the account a campaign dials on, and its shared limits
phone.py         phone numbers to E.164; phone_types.py: the special number types
endpoint.py      where the API key may be sent; URLs handed out for callbacks
http.py          the httpx client, and httpx outcomes as our errors
client.py        `OneInboxClient`, one method per endpoint; models.py: its models
simulator/       a OneInbox stand-in served over HTTP, for tests, demos and benchmarks
store/           the Redis store (`Store`): key names, campaigns, contacts, claims, leases;
                 its Lua scripts in store/lua/
calls.py         placing one call (`Dispatcher`); following.py: following it to its end
pace.py          the pace of creates; policy.py: pure decisions on provider answers
tick.py          turning what is due in Redis into work
private.py       files and processes kept private to the user
"""
