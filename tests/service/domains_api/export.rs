//! The streamed export: NDJSON and CSV across several keyset pages, every row once, CSV
//! quoting of commas, quotes and line breaks, filters.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use domaind::model::{DomainName, Metadata, Outcome, OutcomeKind};
use reqwest::Method;
use serde_json::Value;

use super::call_text;
use crate::both_backends;
use crate::helpers::{spawn_app, Db};

/// Splits RFC 4180 text into records of fields.
pub(super) fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && record.is_empty(),
        "the last record ends with a line break"
    );
    records
}

async fn export_streams_every_row_as_ndjson_and_csv(db: Db) {
    let app = spawn_app(db).await;
    let title = r#"Widgets, "Best" Ltd"#;
    let store = &app.store;
    store
        .insert_domains("default", &[DomainName::parse("quote.test").unwrap()])
        .await
        .unwrap();
    let claimed = store
        .claim("export-test", 1, Duration::from_secs(60))
        .await
        .unwrap()
        .remove(0);
    let meta = Metadata {
        title: Some(title.into()),
        description: Some("two\nlines".into()),
        final_url: Some("http://quote.test/a,b".into()),
        ..Default::default()
    };
    let outcome = Outcome {
        claimed,
        kind: OutcomeKind::Completed(Box::new(meta)),
        started_at: Utc::now(),
        finished_at: Utc::now(),
        http_status: Some(200),
    };
    assert!(store.write_outcomes("export-test", &[outcome]).await.unwrap().domains[0].applied);
    // More rows than two export pages, so paging is crossed.
    let bulk: Vec<DomainName> = (0..1100)
        .map(|i| DomainName::parse(&format!("bulk-{i}.test")).unwrap())
        .collect();
    store.insert_domains("default", &bulk).await.unwrap();

    let (code, text) = call_text(&app, Method::GET, "/api/v1/domains/export", None).await;
    assert_eq!(code, 200);
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), 1101);
    let ids: BTreeSet<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 1101, "no row twice");
    assert_eq!(rows[0]["metadata"]["title"], title);

    let (code, text) = call_text(&app, Method::GET, "/api/v1/domains/export?format=csv", None).await;
    assert_eq!(code, 200);
    let records = parse_csv(&text);
    assert_eq!(
        records[0].join(","),
        "id,tenant_id,domain,status,attempts,error_kind,title,description,final_url,last_processed"
    );
    assert_eq!(records.len(), 1102, "header + every row");
    assert!(records.iter().all(|r| r.len() == 10));
    let quote = &records[1];
    assert_eq!(&quote[1..7], ["default", "quote.test", "completed", "1", "", title]);
    assert_eq!(
        (quote[7].as_str(), quote[8].as_str()),
        ("two\nlines", "http://quote.test/a,b")
    );
    assert!(quote[9].starts_with(&Utc::now().format("%Y-").to_string()), "{quote:?}");

    let (_, text) = call_text(
        &app,
        Method::GET,
        "/api/v1/domains/export?format=csv&status=completed",
        None,
    )
    .await;
    assert_eq!(parse_csv(&text).len(), 2);
    let (_, text) = call_text(
        &app,
        Method::GET,
        "/api/v1/domains/export?q=bulk-10&status=pending",
        None,
    )
    .await;
    assert_eq!(text.lines().count(), 111, "bulk-10 and bulk-100..=bulk-1099");
    assert_eq!(app.stop().await, 0);
}
both_backends!(export_streams_every_row_as_ndjson_and_csv);

/// Both formats are streamed as they are read: `Transfer-Encoding: chunked` and no
/// `Content-Length` (a buffered body would carry its length), whatever the number of rows.
async fn the_export_is_sent_chunked_in_both_formats(db: Db) {
    let app = spawn_app(db).await;
    let rows: Vec<DomainName> = (0..600)
        .map(|i| DomainName::parse(&format!("chunk-{i}.test")).unwrap())
        .collect();
    app.store.insert_domains("default", &rows).await.unwrap();
    for (format, content_type, lines) in [("ndjson", "application/x-ndjson", 600), ("csv", "text/csv", 601)] {
        let response = app
            .client
            .get(format!("{}/api/v1/domains/export?format={format}", app.address))
            .send()
            .await
            .expect("GET export");
        assert_eq!(response.status().as_u16(), 200, "{format}");
        let headers = response.headers().clone();
        let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            header("transfer-encoding").as_deref(),
            Some("chunked"),
            "{format}: {headers:?}"
        );
        assert_eq!(header("content-length"), None, "{format}: {headers:?}");
        assert!(
            header("content-type").is_some_and(|t| t.starts_with(content_type)),
            "{format}: {headers:?}"
        );
        let text = response.text().await.expect("export body");
        assert_eq!(text.lines().count(), lines, "{format}");
    }
    assert_eq!(app.stop().await, 0);
}
both_backends!(the_export_is_sent_chunked_in_both_formats);
