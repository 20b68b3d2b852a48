-- The persistent job store (APScheduler's job store, plus scope and pause state).
CREATE TABLE jobs (
    id                 TEXT    PRIMARY KEY,
    trigger            TEXT    NOT NULL CHECK (trigger IN ('interval', 'cron', 'date')),
    spec               TEXT    NOT NULL,
    args               TEXT    NOT NULL DEFAULT '{}',
    timezone           TEXT    NOT NULL DEFAULT 'UTC',
    scope              TEXT    NOT NULL DEFAULT 'instance' CHECK (scope IN ('instance', 'cluster')),
    "coalesce"         INTEGER NOT NULL DEFAULT 0,
    max_instances      INTEGER NOT NULL DEFAULT 1,
    misfire_grace_time INTEGER,
    paused             INTEGER NOT NULL DEFAULT 0,
    next_run_at        TEXT,
    last_run_at        TEXT,
    definition         TEXT    NOT NULL DEFAULT '',
    created_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- One row per execution, inserted before the job body runs.
CREATE TABLE job_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id        TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    instance      TEXT    NOT NULL,
    scheduled_for TEXT    NOT NULL,
    started_at    TEXT    NOT NULL,
    finished_at   TEXT,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped', 'missed')),
    trigger       TEXT    NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    summary       TEXT,
    error         TEXT
);
-- A scheduled time of a cluster job fires at most once across all instances.
CREATE UNIQUE INDEX job_runs_cluster_once ON job_runs (job_id, scheduled_for)
    WHERE scope = 'cluster' AND trigger = 'schedule';
CREATE INDEX job_runs_by_job ON job_runs (job_id, id);
CREATE INDEX job_runs_started ON job_runs (started_at);
CREATE INDEX domain_attempts_started ON domain_attempts (started_at);

-- Leader lease for cluster jobs: one row per lease name.
CREATE TABLE leader_leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- recrawl_stale looks at completed rows by age.
CREATE INDEX domains_completed_age ON domains (last_processed) WHERE status = 'completed';
