"""The processes: Celery workers, the scheduler, and the doors (`dialer` and `dialer serve`).

celery_app.py    the Celery app (`celery -A workers.celery_app`); tasks.py: thin tasks
queues.py        the queue and task names every process agrees on
resources.py     what each worker process builds once (store, client, `Dispatcher`)
ticker.py        the tick in every worker; supervise.py: restarts a worker that gave up
scheduler.py     scheduled jobs: the scheduler loop (`dialer beat`) and a job's start
stack.py         the one module that opens the store and starts the embedded Redis and
                 worker (their processes: processes.py)
logs.py          one line per event, text or JSON, never the API key
cli/             the `dialer` command line (entry.py: its console script, which imports only
                 the command asked for)
server/          `dialer serve`: the REST API, the webhook receiver, the web pages
"""

from __future__ import annotations

CLI_ONLY: str | None = None  # the one command module `workers.cli` registers (workers.entry)
