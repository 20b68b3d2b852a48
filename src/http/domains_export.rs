//! `GET /api/v1/domains/export?format=ndjson|csv&status=&tenant_id=&q=&error_kind=`: every
//! matching row, streamed. Rows are read in keyset pages of 500 (ascending id) while the body
//! is sent, so memory stays flat whatever the table size; a row is never written twice.
//!
//! `ndjson` (default): one full row, metadata included, per line. `csv` (RFC 4180, CRLF line
//! ends, a header line): `id, tenant_id, domain, status, attempts, error_kind, title,
//! description, final_url, last_processed`. A database error after the first byte cannot
//! become an error status any more: the response is cut short (the chunked body never ends
//! properly) and the error is logged. Tenant rules are those of `domains_read`.

use actix_web::web::Bytes;
use actix_web::{get, web, HttpResponse};
use chrono::SecondsFormat;
use serde::Deserialize;

use super::auth::TenantScope;
use super::domains_read::{build_filter, given, shown};
use super::error::{ApiError, ErrorBody};
use super::routes::AppState;
use crate::store::listing::{Columns, DomainFilter};
use crate::store::{DomainRow, Store, StoreError};

/// Rows read per database round trip while exporting.
pub const EXPORT_PAGE: i64 = 500;

const CSV_HEADER: &str =
    "id,tenant_id,domain,status,attempts,error_kind,title,description,final_url,last_processed\r\n";

/// Query of the export; empty values count as absent.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `ndjson` (default) or `csv`.
    pub format: Option<String>,
    /// Only rows in this status.
    pub status: Option<String>,
    /// Only this tenant's rows.
    pub tenant_id: Option<String>,
    /// Only rows whose name contains this text (case-insensitive).
    pub q: Option<String>,
    /// Only rows with this error kind.
    pub error_kind: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Csv,
}

/// Appends `value` as one CSV field, quoted when it holds a comma, a quote or a line break.
/// A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first — page titles
/// come from hostile pages) is prefixed with `'` so it stays text.
fn csv_field(out: &mut String, value: &str) {
    let defused;
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        defused = format!("'{value}");
        defused.as_str()
    } else {
        value
    };
    if value.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn csv_line(out: &mut String, row: &DomainRow) {
    let meta = |key: &str| {
        row.metadata
            .as_ref()
            .and_then(|m| m.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let fields = [
        row.id.to_string(),
        row.tenant_id.clone(),
        row.domain.clone(),
        row.status.clone(),
        row.attempts.to_string(),
        row.error_kind.clone().unwrap_or_default(),
        meta("title"),
        meta("description"),
        meta("final_url"),
        row.last_processed
            .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            .unwrap_or_default(),
    ];
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, field);
    }
    out.push_str("\r\n");
}

/// Where the export stands between two chunks.
struct Pager {
    store: Store,
    filter: Option<DomainFilter>,
    after_id: i64,
    format: Format,
    header_sent: bool,
    done: bool,
}

impl Pager {
    /// The next chunk of the body (the next page, encoded), or `None` at the end.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, StoreError> {
        let mut out = String::new();
        if self.format == Format::Csv && !self.header_sent {
            self.header_sent = true;
            out.push_str(CSV_HEADER);
        }
        let rows = match (&self.filter, self.done) {
            (Some(filter), false) => {
                self.store
                    .list_domains(filter, self.after_id, EXPORT_PAGE, Columns::Full)
                    .await?
            }
            _ => Vec::new(),
        };
        if (rows.len() as i64) < EXPORT_PAGE {
            self.done = true;
        }
        if let Some(last) = rows.last() {
            self.after_id = last.id;
        }
        for row in &rows {
            match self.format {
                Format::Csv => csv_line(&mut out, row),
                Format::Ndjson => {
                    let line =
                        serde_json::to_string(row).map_err(|e| StoreError::Data(format!("row {}: {e}", row.id)))?;
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
        Ok((!out.is_empty()).then(|| Bytes::from(out)))
    }
}

/// Streams every matching row as NDJSON (full rows) or CSV (summary columns), page by page.
///
/// CSV columns: `id, tenant_id, domain, status, attempts, error_kind, title, description,
/// final_url, last_processed`; cells that look like spreadsheet formulas get a leading `'`.
#[utoipa::path(
    tag = "domains",
    params(ExportQuery),
    responses(
        (status = 200,
            description = "every matching row, streamed (a database error midway cuts the body short)",
            content(
            (DomainRow = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 400, description = "bad `format` or filter", body = ErrorBody),
        (status = 503, description = "the database is unavailable", body = ErrorBody),
    )
)]
#[get("/api/v1/domains/export")]
pub async fn export(
    app: web::Data<AppState>,
    scope: TenantScope,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = match given(&query.format).unwrap_or("ndjson") {
        "ndjson" => Format::Ndjson,
        "csv" => Format::Csv,
        other => {
            return Err(ApiError::BadRequest(format!(
                "format must be ndjson or csv, got {:?}",
                shown(other)
            )))
        }
    };
    let filter = build_filter(&scope, &query.status, &query.tenant_id, &query.q, &query.error_kind)?;
    let pager = Pager {
        store: app.store.clone(),
        filter,
        after_id: 0,
        format,
        header_sent: false,
        done: false,
    };
    let body = futures_util::stream::unfold(pager, |mut pager| async move {
        match pager.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), pager)),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "export stopped by a database error");
                // Ending with an error aborts the response; the next poll must end the stream.
                pager.done = true;
                pager.filter = None;
                Some((Err(e), pager))
            }
        }
    });
    let (content_type, file) = match format {
        Format::Ndjson => ("application/x-ndjson", "domains.ndjson"),
        Format::Csv => ("text/csv; charset=utf-8", "domains.csv"),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{file}\"")))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        let mut out = String::new();
        csv_field(&mut out, "plain");
        out.push(',');
        csv_field(&mut out, "Alpha, \"Sons\"");
        out.push(',');
        csv_field(&mut out, "two\nlines");
        assert_eq!(out, "plain,\"Alpha, \"\"Sons\"\"\",\"two\nlines\"");
    }

    #[test]
    fn formula_looking_fields_stay_text() {
        let mut out = String::new();
        csv_field(&mut out, "=HYPERLINK(\"http://x\")");
        out.push(',');
        csv_field(&mut out, "@SUM(A1)");
        out.push(',');
        csv_field(&mut out, "a=b");
        assert_eq!(out, "\"'=HYPERLINK(\"\"http://x\"\")\",'@SUM(A1),a=b");
    }
}
