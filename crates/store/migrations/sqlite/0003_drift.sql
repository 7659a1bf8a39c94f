-- Drift events: one row per event, updated as it grows and when it ends.
CREATE TABLE drift_events (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('data', 'prediction', 'performance')),
    severity    TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
    start_at    TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    end_at      TEXT,
    share       REAL NOT NULL,
    columns     TEXT NOT NULL,
    window_rows INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX drift_events_start ON drift_events (start_at DESC);

-- The monitor's latest report (JSON), one row per monitor name.
CREATE TABLE drift_reports (
    name         TEXT PRIMARY KEY,
    generated_at TEXT NOT NULL,
    body         TEXT NOT NULL
);
