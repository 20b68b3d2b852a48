//! How an `Outcome` becomes column values, shared by both backends. Text is sanitized here:
//! PostgreSQL rejects NUL in `text` and `\u0000` in `jsonb`, and one hostile page must never
//! make a whole batch unwritable.

use crate::model::{Outcome, OutcomeKind};

/// `(status, metadata JSON, error_kind, error_message)` for the result write.
pub(super) fn result_columns(o: &Outcome) -> (&'static str, Option<String>, Option<&'static str>, Option<String>) {
    match &o.kind {
        OutcomeKind::Completed(meta) => {
            let mut value = serde_json::to_value(meta.as_ref()).unwrap_or(serde_json::Value::Null);
            strip_nul(&mut value);
            ("completed", Some(value.to_string()), None, None)
        }
        OutcomeKind::Failed { kind, message } => ("error", None, Some(kind.as_str()), Some(message.replace('\0', ""))),
    }
}

/// The `domain_attempts.outcome` text: `completed`, `failed`, or `lost` when fencing refused it.
pub(super) fn attempt_outcome(o: &Outcome, applied: bool) -> &'static str {
    match (&o.kind, applied) {
        (_, false) => "lost",
        (OutcomeKind::Completed(_), true) => "completed",
        (OutcomeKind::Failed { .. }, true) => "failed",
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
        let (_, json, _, _) = result_columns(&outcome(OutcomeKind::Completed(Box::new(meta))));
        assert_eq!(json.unwrap(), r#"{"title":"ab"}"#);
        let (status, json, kind, msg) = result_columns(&outcome(OutcomeKind::Failed {
            kind: ErrorKind::Decode,
            message: "x\0y".into(),
        }));
        assert_eq!(
            (status, json, kind, msg.as_deref()),
            ("error", None, Some("decode"), Some("xy"))
        );
    }
}
