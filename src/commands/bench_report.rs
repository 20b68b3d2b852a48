//! What `domaind bench` measures and checks: the process's CPU time and peak RSS (from
//! `/proc/self`), and, from the rows themselves, that every domain completed with the expected
//! title, the span from the first claim to the last write, and per-domain claim → write times.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use crate::store::listing::{Columns, DomainFilter};
use crate::store::{DomainRow, Store};

/// Examples of wrong rows shown when verification fails.
const EXAMPLES: usize = 5;
/// Rows read per page while verifying (metadata included, so memory stays small).
const PAGE: i64 = 500;
/// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, 100 per second on Linux.
const USER_HZ: f64 = 100.0;

/// CPU seconds (user + system) this process has used, from `/proc/self/stat`.
pub fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("cannot read /proc/self/stat")?;
    // The command name (field 2) may contain spaces; fields 14 and 15 count from after its `)`.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("unexpected /proc/self/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> anyhow::Result<f64> {
        let v: u64 = fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .context("unexpected /proc/self/stat")?;
        Ok(v as f64 / USER_HZ)
    };
    // After `)`, field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
    Ok(tick(11)? + tick(12)?)
}

/// Peak resident set size of this process in MiB (`VmHWM` in `/proc/self/status`).
pub fn peak_rss_mb() -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status").context("cannot read /proc/self/status")?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/self/status")?;
    Ok(kb as f64 / 1024.0)
}

/// Expected titles by page index, from the shared workload's `expected.json`.
pub fn expected_titles(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let pages: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&text).with_context(|| format!("{} is not a JSON object", path.display()))?;
    let mut titles = Vec::new();
    while let Some(page) = pages.get(&format!("page-{}.html", titles.len())) {
        let title = page["title"]
            .as_str()
            .with_context(|| format!("{}: page-{}.html has no title", path.display(), titles.len()))?;
        titles.push(title.to_string());
    }
    anyhow::ensure!(!titles.is_empty(), "{} has no page-0.html", path.display());
    Ok(titles)
}

/// What the rows say about a finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct RowTimings {
    /// Rows completed with the expected title.
    pub completed: usize,
    /// First claim → last write, seconds.
    pub wall_s: f64,
    /// Per-domain claim → write, milliseconds, sorted ascending.
    pub latencies_ms: Vec<f64>,
}

/// Why a row does not count as done right.
fn wrong(row: &DomainRow, titles: &[String]) -> Option<String> {
    let page = row
        .domain
        .strip_suffix(".test")
        .and_then(|d| d.rsplit_once('-'))
        .and_then(|(_, k)| k.parse::<usize>().ok());
    let expected = page.and_then(|k| titles.get(k));
    let title = row.metadata.as_ref().and_then(|m| m["title"].as_str());
    if row.status != "completed" {
        return Some(format!(
            "{}: status {} ({}: {})",
            row.domain,
            row.status,
            row.error_kind.as_deref().unwrap_or("-"),
            row.error_message.as_deref().unwrap_or("-")
        ));
    }
    match expected {
        None => Some(format!("{}: not a workload domain", row.domain)),
        Some(want) if title != Some(want.as_str()) => {
            Some(format!("{}: title {title:?}, expected {want:?}", row.domain))
        }
        Some(_) if row.processing_started_at.is_none() || row.processing_completed_at.is_none() => {
            Some(format!("{}: no claim or write time", row.domain))
        }
        Some(_) => None,
    }
}

/// Reads every row (in pages), checks it is `completed` with the title of its page, and
/// measures the run from the claim and write times. Fails with a count and examples.
pub async fn verify(store: &Store, titles: &[String], expected_rows: usize) -> anyhow::Result<RowTimings> {
    let (mut after, mut rows_seen, mut bad) = (0i64, 0usize, 0usize);
    let mut examples = Vec::new();
    let mut first_claim: Option<DateTime<Utc>> = None;
    let mut last_write: Option<DateTime<Utc>> = None;
    let mut latencies_ms = Vec::with_capacity(expected_rows);
    loop {
        let rows = store
            .list_domains(&DomainFilter::default(), after, PAGE, Columns::Full)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in &rows {
            rows_seen += 1;
            if let Some(why) = wrong(row, titles) {
                bad += 1;
                if examples.len() < EXAMPLES {
                    examples.push(why);
                }
                continue;
            }
            if let (Some(claimed), Some(written)) = (row.processing_started_at, row.processing_completed_at) {
                first_claim = Some(first_claim.map_or(claimed, |t| t.min(claimed)));
                last_write = Some(last_write.map_or(written, |t| t.max(written)));
                latencies_ms.push((written - claimed).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0);
            }
        }
    }
    if bad > 0 || rows_seen != expected_rows {
        anyhow::bail!(
            "verification failed: {bad} of {rows_seen} rows are not completed with the expected title \
             ({expected_rows} expected); e.g.\n  {}",
            examples.join("\n  ")
        );
    }
    latencies_ms.sort_by(f64::total_cmp);
    let wall_s = match (first_claim, last_write) {
        (Some(a), Some(b)) => (b - a).num_microseconds().unwrap_or(0) as f64 / 1e6,
        _ => 0.0,
    };
    Ok(RowTimings {
        completed: latencies_ms.len(),
        wall_s,
        latencies_ms,
    })
}

/// The `q`-quantile (0..=1) of sorted values, nearest rank; 0 when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&[7.0], 0.5), 7.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn this_process_has_cpu_time_and_rss() {
        assert!(cpu_seconds().unwrap() >= 0.0);
        assert!(peak_rss_mb().unwrap() > 0.0);
    }

    #[test]
    fn a_row_is_right_only_when_completed_with_its_page_title() {
        let titles = vec!["Zero".to_string(), "One".to_string()];
        let t = chrono::Utc::now();
        let row = |domain: &str, status: &str, title: Option<&str>| DomainRow {
            id: 1,
            tenant_id: "t".into(),
            domain: domain.into(),
            status: status.into(),
            attempts: 1,
            next_attempt_at: None,
            lease_owner: None,
            lease_expires_at: None,
            claim_token: None,
            processing_started_at: Some(t),
            processing_completed_at: Some(t),
            last_processed: None,
            metadata: title.map(|t| serde_json::json!({ "title": t })),
            error_kind: None,
            error_message: None,
            created_at: None,
            updated_at: None,
        };
        assert_eq!(wrong(&row("site-3-1.test", "completed", Some("One")), &titles), None);
        assert!(wrong(&row("site-3-1.test", "completed", Some("Zero")), &titles).is_some());
        assert!(wrong(&row("site-3-1.test", "error", Some("One")), &titles).is_some());
        assert!(wrong(&row("site-3-9.test", "completed", Some("One")), &titles).is_some());
    }
}
