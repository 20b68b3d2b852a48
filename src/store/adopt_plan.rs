//! The pure decisions of `domaind migrate --adopt`: which status spellings of the Python
//! pattern map to which domaind status, and what becomes of each legacy domain name (kept,
//! normalized, or set aside as invalid or duplicate). No I/O; `adopt.rs` applies the plan.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use crate::model::DomainName;

/// Legacy spellings (lowercased, spaces and `-` turned into `_`) that mean "pending".
pub(super) const PENDING: &[&str] = &["pending", "queued", "new", "waiting", "todo"];
/// Legacy spellings of "in flight": such rows were abandoned mid-work and become `pending`.
pub(super) const PROCESSING: &[&str] = &["processing", "in_progress", "running", "started", "claimed"];
/// Legacy spellings of "done".
pub(super) const COMPLETED: &[&str] = &[
    "completed",
    "complete",
    "done",
    "success",
    "succeeded",
    "successful",
    "processed",
    "ok",
];
/// Legacy spellings of "failed".
pub(super) const ERROR: &[&str] = &["error", "errored", "failed", "failure", "fail"];

/// One legacy row as the plan needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LegacyName {
    /// `domains.id`, kept as is.
    pub id: i64,
    /// The tenant the row will have in domaind.
    pub tenant: String,
    /// The stored name, verbatim (`None` for SQL NULL).
    pub domain: Option<String>,
    /// The legacy status, normalized as the copy does (see `status_rank`).
    pub status: Option<String>,
}

/// How far the Python pattern got with a row: completed beats error beats pending or
/// processing beats an unknown status. Among duplicates the furthest row keeps the name.
fn status_rank(status: Option<&str>) -> u8 {
    match status {
        Some(s) if COMPLETED.contains(&s) => 3,
        Some(s) if ERROR.contains(&s) => 2,
        Some(s) if PENDING.contains(&s) || PROCESSING.contains(&s) => 1,
        _ => 0,
    }
}

/// A row whose stored name changes, or that needs an operator's attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NameFix {
    /// `domains.id`.
    pub id: i64,
    /// The name domaind stores: the normal form, or (for a problem row) the legacy text made
    /// unique within its tenant.
    pub domain: String,
    /// Why the row cannot be processed as is (it becomes `error` / `adoption`); `None` for a
    /// name that was only normalized.
    pub problem: Option<String>,
}

/// Decides every legacy name. A name `DomainName::parse` accepts is stored in normal form; when
/// several rows of a tenant share a normal form, the one the pattern got furthest with keeps it
/// (then the one already spelled that way, then the lowest id), and the others are problems. Rejected and duplicate rows keep their legacy
/// text (suffixed with `#<id>` when that text is taken) so no row is lost or merged.
pub(super) fn plan_names(rows: &[LegacyName]) -> Vec<NameFix> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| rows[i].id);
    let parsed: Vec<Result<String, String>> = rows
        .iter()
        .map(|r| match r.domain.as_deref() {
            None => Err("the row has no domain name".to_string()),
            Some(text) => DomainName::parse(text)
                .map(|n| n.as_str().to_string())
                .map_err(|e| format!("{text:?} is not a domain name domaind accepts: {e}")),
        })
        .collect();

    let mut winners: HashMap<(&str, &str), usize> = HashMap::new();
    for &i in &order {
        let Ok(normal) = &parsed[i] else { continue };
        match winners.entry((rows[i].tenant.as_str(), normal.as_str())) {
            Entry::Vacant(e) => {
                e.insert(i);
            }
            Entry::Occupied(mut e) => {
                let key = |k: usize| {
                    (
                        status_rank(rows[k].status.as_deref()),
                        rows[k].domain.as_deref() == Some(normal.as_str()),
                    )
                };
                // Rows come in id order, so on a tie the earlier (lower id) row stays.
                if key(i) > key(*e.get()) {
                    e.insert(i);
                }
            }
        }
    }
    let mut taken: HashSet<(String, String)> = winners.keys().map(|(t, d)| (t.to_string(), d.to_string())).collect();

    let mut fixes = Vec::new();
    for &i in &order {
        let row = &rows[i];
        let problem = match &parsed[i] {
            Ok(normal) => {
                let winner = winners[&(row.tenant.as_str(), normal.as_str())];
                if winner == i {
                    if row.domain.as_deref() != Some(normal.as_str()) {
                        fixes.push(NameFix {
                            id: row.id,
                            domain: normal.clone(),
                            problem: None,
                        });
                    }
                    continue;
                }
                format!(
                    "{:?} is {normal} once normalized, which row {} of tenant {} already holds",
                    row.domain.as_deref().unwrap_or_default(),
                    rows[winner].id,
                    row.tenant
                )
            }
            Err(reason) => reason.clone(),
        };
        let domain = unique_text(
            &mut taken,
            &row.tenant,
            row.domain.as_deref().unwrap_or_default(),
            row.id,
        );
        fixes.push(NameFix {
            id: row.id,
            domain,
            problem: Some(problem),
        });
    }
    fixes.sort_by_key(|f| f.id);
    fixes
}

/// `text` when the tenant does not hold it yet, else `text#id` (a `#` is never in a valid
/// name, so this cannot take a name a later `domaind add` wants).
fn unique_text(taken: &mut HashSet<(String, String)>, tenant: &str, text: &str, id: i64) -> String {
    let mut candidate = text.to_string();
    let mut round = 0;
    while taken.contains(&(tenant.to_string(), candidate.clone())) {
        round += 1;
        candidate = if round == 1 {
            format!("{text}#{id}")
        } else {
            format!("{text}#{id}.{round}")
        };
    }
    taken.insert((tenant.to_string(), candidate.clone()));
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, tenant: &str, domain: Option<&str>) -> LegacyName {
        LegacyName {
            id,
            tenant: tenant.into(),
            domain: domain.map(str::to_string),
            status: Some("pending".into()),
        }
    }

    #[test]
    fn valid_names_in_normal_form_need_nothing() {
        assert!(plan_names(&[row(1, "default", Some("example.com")), row(2, "t", Some("a.example"))]).is_empty());
    }

    #[test]
    fn names_are_normalized_like_domaind_add_does() {
        let fixes = plan_names(&[
            row(1, "default", Some("Example.COM.")),
            row(2, "default", Some("https://www.example.org/path")),
        ]);
        assert_eq!(
            fixes
                .iter()
                .map(|f| (f.id, f.domain.as_str(), f.problem.is_none()))
                .collect::<Vec<_>>(),
            [(1, "example.com", true), (2, "www.example.org", true)]
        );
    }

    #[test]
    fn rejected_and_missing_names_are_kept_verbatim_as_problems() {
        let fixes = plan_names(&[row(3, "default", Some("not a domain")), row(4, "default", None)]);
        assert_eq!(fixes[0].domain, "not a domain");
        assert!(fixes[0].problem.as_deref().unwrap().contains("not a domain name"));
        assert_eq!(fixes[1].domain, "");
        assert!(fixes[1].problem.as_deref().unwrap().contains("no domain name"));
    }

    #[test]
    fn a_duplicate_after_normalization_is_set_aside_and_the_exact_spelling_wins() {
        let fixes = plan_names(&[
            row(1, "default", Some("EXAMPLE.com")),
            row(2, "default", Some("example.com")),
            row(3, "other", Some("Example.com")),
        ]);
        assert_eq!(fixes.len(), 2, "{fixes:?}");
        assert_eq!(fixes[0].id, 1);
        assert_eq!(fixes[0].domain, "EXAMPLE.com");
        assert!(fixes[0].problem.as_deref().unwrap().contains("row 2"));
        // Another tenant may hold the same name.
        assert_eq!((fixes[1].id, fixes[1].domain.as_str()), (3, "example.com"));
        assert!(fixes[1].problem.is_none());
    }

    #[test]
    fn among_duplicates_the_completed_row_keeps_the_name() {
        let mut done = row(5, "default", Some("Example.com"));
        done.status = Some("completed".into());
        let fixes = plan_names(&[row(2, "default", Some("example.com")), done]);
        assert_eq!(fixes.len(), 2, "{fixes:?}");
        // The loser's own text is the winner's name now, so it is made unique.
        assert_eq!((fixes[0].id, fixes[0].domain.as_str()), (2, "example.com#2"));
        assert!(fixes[0].problem.as_deref().unwrap().contains("row 5"));
        assert_eq!(
            (fixes[1].id, fixes[1].domain.as_str(), fixes[1].problem.is_none()),
            (5, "example.com", true)
        );
    }

    #[test]
    fn without_an_exact_spelling_the_lowest_id_wins_and_exact_copies_get_unique_text() {
        let fixes = plan_names(&[
            row(9, "default", Some("Shop.example")),
            row(7, "default", Some("SHOP.example")),
            row(8, "default", Some("SHOP.example")),
            row(10, "default", Some("bad name")),
            row(11, "default", Some("bad name")),
        ]);
        let shown: Vec<(i64, &str, bool)> = fixes
            .iter()
            .map(|f| (f.id, f.domain.as_str(), f.problem.is_some()))
            .collect();
        assert_eq!(
            shown,
            [
                (7, "shop.example", false),
                (8, "SHOP.example", true),
                (9, "Shop.example", true),
                (10, "bad name", true),
                (11, "bad name#11", true),
            ]
        );
    }
}
