"""fraudwatch retraining as an Apache Airflow DAG.

Each task is `fraudwatch retrain --task <task> --run-id <the DAG run's id>`: the same task
subcommands `fraudwatch retrain --once` runs in one process. Task state lives in fraudwatch's
own store, so a task Airflow retries after it finished is a no-op, and a task killed half-way
starts over; only `promote` moves the champion, and only when `compare` passed.

Settings come from the environment of the worker (FRAUDWATCH_BUS_URL, FRAUDWATCH_STORE_URL,
FRAUDWATCH_REGISTRY_URL, or FRAUDWATCH_CONFIG naming a file); FRAUDWATCH_BIN names the binary.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

FRAUDWATCH = os.environ.get("FRAUDWATCH_BIN", "fraudwatch")
RUNS_DIR = os.environ.get("FRAUDWATCH_RETRAIN_DIR", "/var/lib/fraudwatch/retrain-runs")
TASKS = ["extract", "validate", "train", "evaluate", "compare", "register", "promote"]

with DAG(
    dag_id="fraudwatch_retrain",
    description="labelled data -> challenger -> compared with the champion -> promoted if better",
    schedule="0 3 * * 1",  # Mondays 03:00 UTC, as `fraudwatch retrain --schedule "0 3 * * 1"`
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["fraudwatch"],
) as dag:
    previous = None
    for task in TASKS:
        # Run ids name a directory: keep letters, digits, '-', '_' and '.'.
        step = BashOperator(
            task_id=task,
            bash_command=(
                f"{FRAUDWATCH} retrain --task {task} --dir {RUNS_DIR} "
                "--run-id \"$(echo '{{ run_id }}' | tr -c 'A-Za-z0-9_.\\n-' '_' | cut -c1-64)\""
            ),
        )
        if previous is not None:
            previous >> step
        previous = step
