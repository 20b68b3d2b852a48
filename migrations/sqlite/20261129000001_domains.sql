-- domains: the work table (column names compatible with the Python pattern).
-- Times are TEXT in one fixed, sortable format bound from Rust: YYYY-MM-DDTHH:MM:SS.ffffffZ.
CREATE TABLE domains (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id               TEXT    NOT NULL DEFAULT 'default',
    domain                  TEXT    NOT NULL,
    status                  TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'processing', 'completed', 'error')),
    attempts                INTEGER NOT NULL DEFAULT 0,
    next_attempt_at         TEXT    NOT NULL DEFAULT '1970-01-01T00:00:00.000000Z',
    lease_owner             TEXT,
    lease_expires_at        TEXT,
    claim_token             INTEGER,
    processing_started_at   TEXT,
    processing_completed_at TEXT,
    last_processed          TEXT,
    metadata                TEXT,
    error_kind              TEXT,
    error_message           TEXT,
    created_at              TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at              TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tenant_id, domain)
);

-- The claim scans only claimable rows, in due order.
CREATE INDEX domains_claimable ON domains (next_attempt_at, id) WHERE status = 'pending';
-- The reaper and lease renewal look only at rows in flight.
CREATE INDEX domains_in_flight ON domains (lease_owner, lease_expires_at) WHERE status = 'processing';
CREATE INDEX domains_status ON domains (status);

-- One row per attempt: "what happened to example.com?".
CREATE TABLE domain_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    domain_id     INTEGER NOT NULL,
    instance      TEXT    NOT NULL,
    started_at    TEXT    NOT NULL,
    finished_at   TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,
    error_kind    TEXT,
    error_message TEXT,
    http_status   INTEGER,
    elapsed_ms    INTEGER NOT NULL
);
CREATE INDEX domain_attempts_domain ON domain_attempts (domain_id, id);
