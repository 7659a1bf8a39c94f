-- The model scores behind a case's risk, shown to analysts next to the reasons.
ALTER TABLE cases ADD COLUMN iforest_score DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN xgb_probability DOUBLE PRECISION NOT NULL DEFAULT 0;

-- "Next case" claims the highest-risk unassigned open case.
CREATE INDEX cases_unassigned ON cases (risk DESC, transaction_id) WHERE status = 'open' AND assignee IS NULL;
CREATE INDEX cases_event_time ON cases (event_time);

-- API keys: only the SHA-256 of the secret is kept; the name is what the audit trail shows.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
    hash       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
