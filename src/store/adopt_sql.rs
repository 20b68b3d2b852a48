//! The SQL text of `domaind migrate --adopt`'s copy: one `INSERT ... SELECT` whose expressions
//! depend on the legacy column types (naive or aware timestamps, JSON/JSONB/TEXT metadata, a
//! tenant column or none).

use super::adopt_check::{Legacy, SCRATCH};
use crate::model::ErrorKind;

/// A legacy status as the spelling lists in `adopt_plan` have it: trimmed, lowercase, with
/// spaces and `-` as `_` (`In-Progress` → `in_progress`).
pub(super) const STATUS_EXPR: &str = "lower(translate(btrim(l.status::text), ' -', '__'))";

/// The tenant a legacy row gets: its `tenant_id` as text, `default` when NULL or blank.
pub(super) fn tenant_expr(legacy: &Legacy) -> &'static str {
    match legacy.ty("tenant_id") {
        Some(_) => "COALESCE(NULLIF(btrim(l.tenant_id::text), ''), 'default')",
        None => "'default'",
    }
}

/// A legacy timestamp as `timestamptz`: naive values are read in the time zone bound as `$1`.
fn timestamp_expr(legacy: &Legacy, column: &str) -> String {
    match legacy.ty(column) {
        Some("timestamp with time zone") => format!("l.{column}"),
        Some("timestamp without time zone") => format!("(l.{column} AT TIME ZONE $1)"),
        Some("date") => format!("(l.{column}::timestamp AT TIME ZONE $1)"),
        _ => "NULL::timestamptz".to_string(),
    }
}

/// The legacy `metadata` as JSONB: objects as they are, JSON null as SQL NULL, any other JSON
/// value (or text that is not JSON) under `legacy_metadata`.
fn metadata_expr(legacy: &Legacy) -> String {
    let (value, unparsed) = match legacy.ty("metadata") {
        None => return "NULL::jsonb".to_string(),
        Some("jsonb") => ("l.metadata", "NULL::jsonb"),
        Some("json") => ("l.metadata::jsonb", "NULL::jsonb"),
        Some(_) => (
            "pg_temp.domaind_adopt_jsonb(l.metadata::text)",
            "CASE WHEN btrim(l.metadata::text) <> '' THEN jsonb_build_object('legacy_metadata', l.metadata::text) END",
        ),
    };
    format!(
        "CASE WHEN {value} IS NULL THEN {unparsed}
              WHEN jsonb_typeof({value}) = 'null' THEN NULL
              WHEN jsonb_typeof({value}) = 'object' THEN {value}
              ELSE jsonb_build_object('legacy_metadata', {value}) END"
    )
}

/// The one `INSERT ... SELECT` that copies every legacy row. Binds: `$1` time zone, `$2`..`$5`
/// the pending / processing / completed / error spellings.
pub(super) fn copy_statement(legacy: &Legacy) -> String {
    let legacy_error = match legacy.ty("error_message") {
        Some(_) => "NULLIF(l.error_message::text, '')",
        None => "NULL::text",
    };
    let known = "COALESCE(l.s = ANY($2::text[] || $3::text[] || $4::text[] || $5::text[]), false)";
    let adoption = ErrorKind::Adoption.as_str();
    format!(
        "INSERT INTO domains (id, tenant_id, domain, status, attempts, next_attempt_at, processing_started_at,
                              processing_completed_at, last_processed, metadata, error_kind, error_message,
                              created_at, updated_at)
         SELECT l.id::bigint, {tenant}, COALESCE(f.domain, l.domain::text),
                CASE WHEN f.problem IS NOT NULL THEN 'error'
                     WHEN l.s = ANY($2::text[] || $3::text[]) THEN 'pending'
                     WHEN l.s = ANY($4::text[]) THEN 'completed'
                     ELSE 'error' END,
                0, now(), {started}, {finished}, {last}, {metadata},
                CASE WHEN f.problem IS NOT NULL OR NOT {known} THEN '{adoption}' END,
                CASE WHEN f.problem IS NOT NULL
                        THEN concat_ws('; ', f.problem || ' (status in the Python pattern: '
                                       || COALESCE(l.status::text, 'NULL') || ')', 'its error: ' || {legacy_error})
                     WHEN NOT {known}
                        THEN concat_ws('; ', 'the Python pattern''s status '
                                       || COALESCE(quote_literal(l.status::text), 'NULL')
                                       || ' is not one domaind knows: retry the row to queue it, or delete it',
                                       'its error: ' || {legacy_error})
                     ELSE {legacy_error} END,
                COALESCE({created}, now()), COALESCE({updated}, now())
         FROM (SELECT l.*, {STATUS_EXPR} AS s FROM {SCRATCH}.domains l) l
         LEFT JOIN adopt_fixes f ON f.id = l.id::bigint",
        tenant = tenant_expr(legacy),
        started = timestamp_expr(legacy, "processing_started_at"),
        finished = timestamp_expr(legacy, "processing_completed_at"),
        last = timestamp_expr(legacy, "last_processed"),
        created = timestamp_expr(legacy, "created_at"),
        updated = timestamp_expr(legacy, "updated_at"),
        metadata = metadata_expr(legacy),
    )
}
