//! domaind: keeps a database of domains enriched with metadata about their homepages.
//!
//! ```text
//!                 ┌──────────────────────── one actix System ────────────────────────┐
//!  SIGTERM ──▶    │  Supervisor (starts ↓ in order, stops in reverse)                 │
//!                 │   ├─ DbWriter ◀── Record(Outcome) ── Extractor × N ◀── Extract ─┐ │
//!                 │   │     │ fenced batch writes            │ fetch (async HTTP)   │ │
//!                 │   │     └── BatchWritten ──▶ Fetcher ────┘ parse on parser pool │ │
//!                 │   │                          ▲ claims sized to free capacity    │ │
//!                 │   └─ Scheduler ── Tick{limit} ┘ renews leases every lease/3      │ │
//!   HTTP ─────▶   │  actix-web: health, dev endpoint, domains API, status ──Tick──▶ ┘ │
//!                 └───────────────────────────────────────────────────────────────────┘
//!                                     │ sqlx
//!                              SQLite (WAL) │ PostgreSQL (SKIP LOCKED)
//! ```

pub mod actors;
pub mod alerts;
pub mod commands;
pub mod extract;
pub mod faults;
pub mod fetch;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod model;
pub mod schedule;
pub mod settings;
pub mod startup;
pub mod store;
pub mod telemetry;
