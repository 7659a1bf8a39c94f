-- Cases: one per alerted transaction. Notes and the audit trail are append-only child tables.
CREATE TABLE cases (
    transaction_id TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'investigating', 'closed')),
    outcome        TEXT CHECK (outcome IN ('fraud_confirmed', 'false_positive', 'inconclusive')),
    assignee       TEXT,
    risk           DOUBLE PRECISION NOT NULL CHECK (risk >= 0 AND risk <= 1),
    decision       TEXT NOT NULL CHECK (decision IN ('allow', 'review', 'block')),
    model_version  TEXT NOT NULL,
    reasons        JSONB NOT NULL,
    event_time     TIMESTAMPTZ NOT NULL,
    "transaction"  JSONB,
    features       JSONB, -- [[name, value], ...] in model order
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    version        BIGINT NOT NULL,
    CHECK ((status = 'closed') = (outcome IS NOT NULL))
);
CREATE INDEX cases_queue ON cases (status, risk DESC, transaction_id);
CREATE INDEX cases_customer ON cases (customer_id, event_time);
CREATE INDEX cases_assignee ON cases (assignee) WHERE assignee IS NOT NULL;

CREATE TABLE case_notes (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id TEXT NOT NULL REFERENCES cases (transaction_id),
    at             TIMESTAMPTZ NOT NULL,
    author         TEXT NOT NULL,
    text           TEXT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (transaction_id, id);

CREATE TABLE case_audit (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id TEXT NOT NULL REFERENCES cases (transaction_id),
    at             TIMESTAMPTZ NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    detail         TEXT NOT NULL
);
CREATE INDEX case_audit_case ON case_audit (transaction_id, id);

-- Labels: the latest word on each transaction, from a case outcome or a chargeback.
CREATE TABLE labels (
    transaction_id TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL,
    is_fraud       BOOLEAN NOT NULL,
    source         TEXT NOT NULL CHECK (source IN ('case_outcome', 'chargeback')),
    labelled_at    TIMESTAMPTZ NOT NULL,
    fraud_scenario TEXT
);
CREATE INDEX labels_time ON labels (labelled_at);
