-- Retraining runs: one row per task of a run. A task that is `done` is never run again for the
-- same run; its output (JSON) is what the next task reads.
CREATE TABLE retrain_tasks (
    run_id      TEXT NOT NULL,
    task        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    output      TEXT,
    error       TEXT,
    PRIMARY KEY (run_id, task)
);
CREATE INDEX retrain_tasks_started ON retrain_tasks (started_at DESC);
