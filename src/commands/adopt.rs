//! `domaind migrate --adopt`: takes over the Python pattern's PostgreSQL table (the SQL is in
//! `store/adopt.rs`), prints what was done as JSON, and says which rows and tenants need an
//! operator's attention.

use crate::http::validate_tenant;
use crate::settings::Settings;
use crate::store::Store;

/// Adopts the table named by `settings.database.url`, reading naive timestamps in `time_zone`.
/// Returns the exit code: 0 when adopted (even with rows needing attention; they are listed).
pub async fn run(settings: &Settings, time_zone: &str) -> anyhow::Result<i32> {
    let store = Store::connect(&settings.database).await?;
    let result = store.adopt_python_table(time_zone).await;
    store.close().await;
    let report = result?;
    // Tenant ids the API cannot address (tenant-bound tokens, filters) still adopt: renaming
    // a tenant is the operator's call, so they are only reported.
    let unaddressable: Vec<&String> = report.tenants.keys().filter(|t| validate_tenant(t).is_err()).collect();
    let mut value = serde_json::to_value(&report)?;
    value["tenants_not_addressable"] = serde_json::to_value(&unaddressable)?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    eprintln!(
        "adopted {} rows (pending {}, completed {}, error {}); {} need attention{}",
        report.rows,
        report.by_status.get("pending").copied().unwrap_or(0),
        report.by_status.get("completed").copied().unwrap_or(0),
        report.by_status.get("error").copied().unwrap_or(0),
        report.needs_attention,
        if report.needs_attention > 0 {
            ": GET /api/v1/domains?error_kind=adoption lists them"
        } else {
            ""
        }
    );
    Ok(0)
}
