"""The job engine: how provider work is asked for, run, recovered and reported.

- `triggers`: asking for work (staff, commands, schedules, webhooks), with coalescing.
- `dispatch`: handing a job's task to the broker.
- `states`: the only code that changes a SyncJob's status (an explicit transition table).
- `lease`: the Redis lease that lets one task at a time run a job, and its keeper.
- `execute`: a task's run of a job: the page loop, time slices and the error policy.
- `fanout`: splitting a deep job into chunk jobs and adding their progress up.
- `outcome`: finishing a job (and a deep job once its chunks are done).
- `events`: what the page is told about a job, throttled.
- `recovery`: jobs whose worker died or whose message was lost are sent again.
- `control`: stopping jobs (staff, disconnects, account switches).
- `schedules`: data that arrives without a click.

Modules import downwards in that order's reverse (states, lease, events and dispatch import no
other module of the engine), so there is no cycle to hide.
"""
