-- Drift events: one row per event, updated as it grows and when it ends.
CREATE TABLE drift_events (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('data', 'prediction', 'performance')),
    severity    TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
    start_at    TIMESTAMPTZ NOT NULL,
    detected_at TIMESTAMPTZ NOT NULL,
    end_at      TIMESTAMPTZ,
    share       DOUBLE PRECISION NOT NULL,
    columns     JSONB NOT NULL,
    window_rows BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX drift_events_start ON drift_events (start_at DESC);

-- The monitor's latest report (JSON), one row per monitor name.
CREATE TABLE drift_reports (
    name         TEXT PRIMARY KEY,
    generated_at TIMESTAMPTZ NOT NULL,
    body         TEXT NOT NULL
);
