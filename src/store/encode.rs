//! How an `Outcome` becomes column values, shared by both backends. Text is sanitized here:
//! PostgreSQL rejects NUL in `text` and `\u0000` in `jsonb`, and one hostile page must never
//! make a whole batch unwritable.

use crate::model::{Outcome, OutcomeKind};

/// Column values of one result write.
pub(super) struct ResultColumns {
    /// New `status`.
    pub status: &'static str,
    /// New metadata JSON; `None` keeps the stored metadata (failures, 304).
    pub metadata: Option<String>,
    /// New `error_kind` (`None` clears it).
    pub error_kind: Option<&'static str>,
    /// New `error_message` (`None` clears it).
    pub error_message: Option<String>,
    /// For a retry: milliseconds until the row is claimable again.
    pub retry_ms: Option<i64>,
}

/// What the result write stores for an outcome.
pub(super) fn result_columns(o: &Outcome) -> ResultColumns {
    match &o.kind {
        OutcomeKind::Completed(meta) => ResultColumns {
            status: "completed",
            metadata: Some(metadata_json(meta)),
            error_kind: None,
            error_message: None,
            retry_ms: None,
        },
        OutcomeKind::NotModified => ResultColumns {
            status: "completed",
            metadata: None,
            error_kind: None,
            error_message: None,
            retry_ms: None,
        },
        OutcomeKind::Failed {
            kind,
            message,
            retry_in,
        } => ResultColumns {
            status: if retry_in.is_some() { "pending" } else { "error" },
            metadata: None,
            error_kind: Some(kind.as_str()),
            error_message: Some(message.replace('\0', "")),
            retry_ms: retry_in.map(|d| d.as_millis().min(i64::MAX as u128) as i64),
        },
    }
}

/// The `domain_attempts.outcome` text: `completed`, `not_modified`, `retry`, `failed`, or
/// `lost` when fencing refused the write.
pub(super) fn attempt_outcome(o: &Outcome, applied: bool) -> &'static str {
    match (&o.kind, applied) {
        (_, false) => "lost",
        (OutcomeKind::Completed(_), true) => "completed",
        (OutcomeKind::NotModified, true) => "not_modified",
        (OutcomeKind::Failed { retry_in: Some(_), .. }, true) => "retry",
        (OutcomeKind::Failed { retry_in: None, .. }, true) => "failed",
    }
}

/// The metadata as JSON text without NUL anywhere. Serialized straight to text; only when
/// that text holds an escaped NUL (`\u0000`, the one way serde_json writes it) is it rebuilt
/// through a `Value` with the NULs removed from keys and strings.
fn metadata_json(meta: &crate::model::Metadata) -> String {
    match serde_json::to_string(meta) {
        Ok(text) if !text.contains("\\u0000") => text,
        _ => {
            let mut value = serde_json::to_value(meta).unwrap_or(serde_json::Value::Null);
            strip_nul(&mut value);
            value.to_string()
        }
    }
}

fn strip_nul(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => *s = s.replace('\0', ""),
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nul),
        serde_json::Value::Object(map) => {
            let bad: Vec<String> = map.keys().filter(|k| k.contains('\0')).cloned().collect();
            for k in bad {
                if let Some(v) = map.remove(&k) {
                    map.insert(k.replace('\0', ""), v);
                }
            }
            map.values_mut().for_each(strip_nul);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClaimedDomain, ErrorKind, Metadata};
    use chrono::Utc;

    fn outcome(kind: OutcomeKind) -> Outcome {
        let now = Utc::now();
        Outcome {
            claimed: ClaimedDomain {
                id: 1,
                tenant_id: "t".into(),
                domain: "a.test".into(),
                attempts: 1,
                claim_token: 9,
                etag: None,
                last_modified: None,
            },
            kind,
            started_at: now,
            finished_at: now,
            http_status: None,
        }
    }

    #[test]
    fn nul_characters_never_reach_the_database() {
        let meta = Metadata {
            title: Some("a\0b".into()),
            ..Default::default()
        };
        let cols = result_columns(&outcome(OutcomeKind::Completed(Box::new(meta))));
        assert_eq!(cols.metadata.unwrap(), r#"{"title":"ab"}"#);
        // A literal backslash-u0000 in the text is not a NUL and is kept.
        let meta = Metadata {
            title: Some(r"a\u0000b".into()),
            description: Some("plain".into()),
            ..Default::default()
        };
        let cols = result_columns(&outcome(OutcomeKind::Completed(Box::new(meta.clone()))));
        let stored: Metadata = serde_json::from_str(&cols.metadata.unwrap()).unwrap();
        assert_eq!(stored, meta);
        let failed = OutcomeKind::Failed {
            kind: ErrorKind::Decode,
            message: "x\0y".into(),
            retry_in: None,
        };
        let cols = result_columns(&outcome(failed));
        assert_eq!(
            (
                cols.status,
                cols.metadata,
                cols.error_kind,
                cols.error_message.as_deref()
            ),
            ("error", None, Some("decode"), Some("xy"))
        );
    }

    #[test]
    fn a_retry_goes_back_to_pending_with_its_delay() {
        let failed = OutcomeKind::Failed {
            kind: ErrorKind::Connect,
            message: "refused".into(),
            retry_in: Some(std::time::Duration::from_secs(30)),
        };
        let o = outcome(failed);
        let cols = result_columns(&o);
        assert_eq!(
            (cols.status, cols.retry_ms, cols.metadata),
            ("pending", Some(30_000), None)
        );
        assert_eq!(attempt_outcome(&o, true), "retry");
        assert_eq!(attempt_outcome(&o, false), "lost");
    }

    #[test]
    fn a_304_completes_without_touching_the_metadata() {
        let o = outcome(OutcomeKind::NotModified);
        let cols = result_columns(&o);
        assert_eq!((cols.status, cols.metadata, cols.error_kind), ("completed", None, None));
        assert_eq!(attempt_outcome(&o, true), "not_modified");
    }
}
