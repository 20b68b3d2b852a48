//! The actor pipeline: Supervisor → DbWriter, Extractors (+ parser threads), Fetcher, Scheduler.
//! Actors stay thin; the logic they drive lives in `store`, `fetch` and `extract`.

mod db_writer;
mod extractor;
mod fetcher;
mod job_runs;
mod parser_pool;
mod scheduler;
mod scheduler_api;
mod state;
mod supervised;
mod supervisor;
mod watchdog;

pub use db_writer::{BatchWritten, DbWriter, Flush, Record, SetFetcher};
pub use extractor::{Crashed, Extract, Extractor};
pub use fetcher::{DrainReport, EndDrains, Fetcher, InFlight, ProcessedDomain, StopClaiming, Tick};
pub use parser_pool::{panic_message as panic_text, ParseFailed, ParserPool};
pub use scheduler::{load_jobs, JobSlot, Scheduler, StopScheduling};
pub use scheduler_api::{JobView, ListJobs, ManualRun, RunJob, RunJobError, SetPaused};
pub use state::{ActorSnapshot, ServiceState, StopReason};
pub use supervised::{restart_backoff, start_child, ChildHandle, KillSwitch, OwnStops, Ping};
pub use supervisor::{start_pipeline, Pipeline, Shutdown, Supervisor};
pub use watchdog::{start_watchdog, EXIT_ESCALATED};
