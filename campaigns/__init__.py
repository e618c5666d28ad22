"""A campaign and every operation on it, with no process and no UI (`workers/` runs these).

lifecycle.py     the one API every door calls: which campaign a list is, load it (one
                 streamed pass), start, pause, resume, cancel, a retry's selection
preflight.py     the one preflight (`begin`, `refuse` and `stored` in the loading pass,
                 `finish`; `run` on its own): counts, never a contact; checks.py: its
                 checks, as plain functions
planning.py      a run decided before it starts (`RunPlan`, `plan_run`)
resuming.py      a list run again: its campaign, and the options that change it
progress.py      a campaign's progress (`Progress`); watch.py: following it, exporting it
contacts.py      contacts in (`ContactFile`); with sources.py, decoding.py, workbooks.py,
                 table.py, rows.py, columns.py, numbers.py, batch.py, dnc.py, model.py;
                 arrow_csv.py, arrow_rows.py, phone_column.py, arrow_numpy.py: a plain CSV
                 read a column at a time by pyarrow; seen.py: the numbers taken (duplicates)
rejects.py       the rejects file; results.py: the results file
reselect.py      the rows of a results file to dial again
report.py        a results file as figures; report_html.py: as one HTML page
windows.py       calling windows; state_rules.py: state rules; when.py: a contact's due
                 time; retry.py: automatic retries; estimate.py: how long it should take
schedules.py     scheduled jobs as data (cron in a time zone)
"""
