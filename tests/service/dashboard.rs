//! The dashboard at `GET /`: its assets and `GET /api/v1/stats` over HTTP (both backends), and
//! the page itself in a real headless Chromium driven over WebDriver — it shows what the API
//! says, runs a job on a click, retries errors, and asks for the token when one is configured.

use std::collections::BTreeMap;
use std::time::Duration;

use domaind::faults::{panic_on, Stage};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{eventually, spawn_app_with, spawn_app_with_tokens, Db, TestApp, ADMIN_TOKEN, T1_TOKEN};
use crate::webdriver::{find_browser, Browser};

const WAIT: Duration = Duration::from_secs(15);

/// GET with a bearer token: (status, JSON body).
async fn get_as(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    let code = r.status().as_u16();
    let text = r.text().await.expect("body");
    (
        code,
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: {text}")),
    )
}

fn sum(stats: &Value, field: &str) -> i64 {
    stats["throughput"]
        .as_array()
        .expect("throughput")
        .iter()
        .map(|b| b[field].as_i64().expect("count"))
        .sum()
}

async fn stats_count_attempts_per_minute_and_group_errors(db: Db) {
    let app = spawn_app_with_tokens(db).await;
    let names = |list: &[&str]| -> Vec<domaind::model::DomainName> {
        list.iter()
            .map(|n| domaind::model::DomainName::parse(n).unwrap())
            .collect()
    };
    let default = ["alpha-1.test", "alpha-2.test", "notfound-1.test", "notfound-2.test"];
    let more = ["notfound-3.test", "notfound-4.test", "pdf-1.test"];
    app.store.insert_domains("default", &names(&default)).await.unwrap();
    app.store.insert_domains("default", &names(&more)).await.unwrap();
    app.store
        .insert_domains("t1", &names(&["notfound-1.test"]))
        .await
        .unwrap();
    let (code, body) = get_as(&app, ADMIN_TOKEN, "/api/v3/dev/process-pending-domains?limit=100").await;
    assert_eq!((code, body["results"]["processed"].as_u64()), (200, Some(8)), "{body}");

    let (code, stats) = get_as(&app, ADMIN_TOKEN, "/api/v1/stats?minutes=5").await;
    assert_eq!(code, 200, "{stats}");
    // Five whole minutes and the current one, oldest first, every attempt counted once.
    let minutes = stats["throughput"].as_array().unwrap();
    assert_eq!(minutes.len(), 6, "{stats}");
    assert!(minutes
        .windows(2)
        .all(|w| w[0]["minute"].as_str() < w[1]["minute"].as_str()));
    assert_eq!(
        (sum(&stats, "total"), sum(&stats, "completed"), sum(&stats, "failed")),
        (8, 2, 6)
    );
    let errors = stats["errors"].as_array().unwrap();
    let kinds: Vec<(&str, i64)> = errors
        .iter()
        .map(|g| (g["error_kind"].as_str().unwrap(), g["attempts"].as_i64().unwrap()))
        .collect();
    assert_eq!(kinds, [("http_status", 5), ("not_html", 1)], "{stats}");
    let examples = errors[0]["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 3, "at most three examples: {stats}");
    assert!(examples
        .iter()
        .all(|e| e["domain"].as_str().unwrap().starts_with("notfound-")));
    assert!(
        examples[0]["error_message"].as_str().unwrap().contains("404"),
        "{stats}"
    );

    // A tenant-bound token counts its own tenant's attempts only.
    let (code, own) = get_as(&app, T1_TOKEN, "/api/v1/stats").await;
    assert_eq!(code, 200, "{own}");
    assert_eq!(
        own["throughput"].as_array().unwrap().len(),
        16,
        "default window: 15 minutes + now"
    );
    assert_eq!(sum(&own, "total"), 1, "{own}");
    assert_eq!(own["errors"][0]["examples"][0]["domain"], "notfound-1.test", "{own}");
    assert_eq!(own["errors"][0]["attempts"], 1, "{own}");

    for bad in ["minutes=0", "minutes=121", "minutes=x"] {
        let (code, body) = get_as(&app, ADMIN_TOKEN, &format!("/api/v1/stats?{bad}")).await;
        assert_eq!(
            (code, body["error"].as_str()),
            (400, Some("bad_request")),
            "{bad}: {body}"
        );
    }
    assert_eq!(
        app.get("/api/v1/stats").await.0,
        401,
        "stats need the token like all of /api/"
    );
    assert_eq!(app.stop().await, 0);
}
both_backends!(stats_count_attempts_per_minute_and_group_errors);

#[actix_web::test]
async fn the_page_and_its_assets_are_served_embedded_and_open() {
    // A token is configured: the page still loads (it holds no data), the API does not.
    let app = spawn_app_with_tokens(Db::Sqlite).await;
    let get = |path: &'static str, etag: Option<String>| {
        let mut req = app.client.get(format!("{}{path}", app.address));
        if let Some(tag) = etag {
            req = req.header("if-none-match", tag);
        }
        async move { req.send().await.expect("GET") }
    };
    let page = get("/", None).await;
    assert_eq!(page.status(), 200);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert!(header(&page, "content-security-policy").contains("script-src 'self'"));
    assert_eq!(header(&page, "cache-control"), "no-cache");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<script src="/dashboard/dashboard.js" defer></script>"#),
        "{html}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no third-party origin"
    );

    for (path, content_type) in [
        ("/dashboard/dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard/dashboard.css", "text/css; charset=utf-8"),
    ] {
        let first = get(path, None).await;
        assert_eq!(first.status(), 200, "{path}");
        assert_eq!(header(&first, "content-type"), content_type);
        let etag = header(&first, "etag");
        assert!(etag.starts_with('"'), "{path}: {etag:?}");
        assert!(first.text().await.unwrap().len() > 1000, "{path} is the real asset");
        // Revalidation with the same bytes answers 304 without a body.
        let again = get(path, Some(etag)).await;
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.text().await.unwrap().is_empty());
    }
    assert_eq!(app.get("/api/v1/status").await.0, 401);
    assert_eq!(app.stop().await, 0);
}

/// The four status counts as the page shows them.
async fn shown_counts(browser: &Browser) -> BTreeMap<String, String> {
    let value = browser
        .eval(
            "return Object.fromEntries(['pending','processing','completed','error']
               .map(s => [s, document.getElementById('count-' + s).textContent]));",
        )
        .await;
    serde_json::from_value(value).expect("counts")
}

fn api_counts(status: &Value) -> BTreeMap<String, String> {
    let counts = status["domains"].as_object().expect("domains");
    counts.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
}

async fn wait_for_counts(browser: &Browser, want: &BTreeMap<String, String>, what: &str) {
    eventually(WAIT, what, || async {
        let shown = shown_counts(browser).await;
        (shown == *want).then_some(())
    })
    .await;
}

#[actix_web::test]
async fn the_dashboard_shows_the_service_and_runs_a_job_in_a_real_browser() {
    let Some(bins) = find_browser("the_dashboard_shows_the_service_and_runs_a_job_in_a_real_browser") else {
        return;
    };
    // One attempt per domain, so the crashed domain ends in `error` and the counts stay put.
    let app = spawn_app_with(Db::Sqlite, |s| s.retry.max_attempts = 1).await;
    let boom = "alpha-boom-dashboard.test";
    panic_on(boom, Stage::Async);
    let names: Vec<String> = [
        "alpha-1.test",
        "alpha-2.test",
        "bravo-1.test",
        "charlie-1.test",
        "notfound-1.test",
        "notfound-2.test",
        "pdf-1.test",
        boom,
    ]
    .map(String::from)
    .to_vec();
    app.add_domains(&names).await;
    let (code, body) = app.process(100).await;
    assert_eq!((code, body["results"]["processed"].as_u64()), (200, Some(8)), "{body}");
    app.wait_until_settled(WAIT).await;
    let status = app.status().await;
    assert_eq!(
        (
            status["domains"]["completed"].as_i64(),
            status["domains"]["error"].as_i64()
        ),
        (Some(4), Some(4))
    );

    let browser = Browser::start(&bins).await;
    browser.goto(&format!("{}/", app.address)).await;
    assert_eq!(browser.eval("return document.title").await, "domaind dashboard");

    // Counts by status: exactly what the API says.
    wait_for_counts(&browser, &api_counts(&status), "the page shows the API's counts").await;
    assert_eq!(
        browser
            .eval("return document.getElementById('count-total').textContent")
            .await,
        "8"
    );

    // The actor tree: every actor the API lists, with its state and restarts; the crashed
    // extractor shows its restart and why.
    let rows = eventually(WAIT, "the actor tree shows every actor running", || async {
        let rows = browser
            .eval(
                "return [...document.querySelectorAll('[data-testid=actor]')].map(r => ({
                   name: r.dataset.actor,
                   state: r.querySelector('[data-col=state]').textContent,
                   restarts: r.querySelector('[data-col=restarts]').textContent,
                   failure: r.querySelector('[data-col=last-failure]').textContent }));",
            )
            .await;
        let rows = rows.as_array().cloned().unwrap_or_default();
        let all_running = rows.len() > 5 && rows.iter().all(|r| r["state"] == "running");
        let restart_shown = rows.iter().any(|r| r["name"] != "supervisor" && r["restarts"] == "1");
        (all_running && restart_shown).then_some(rows)
    })
    .await;
    let status = app.status().await;
    let by_name: BTreeMap<&str, &Value> = rows.iter().map(|r| (r["name"].as_str().unwrap(), r)).collect();
    for actor in status["actors"].as_array().unwrap() {
        let name = actor["name"].as_str().unwrap();
        let row = by_name
            .get(name)
            .unwrap_or_else(|| panic!("actor {name} missing from the page: {rows:?}"));
        if name != "supervisor" {
            assert_eq!(row["restarts"], actor["restarts"].to_string(), "{name}");
        }
    }
    for name in [
        "supervisor",
        "db_writer",
        "fetcher",
        "scheduler",
        "extractor-0",
        "parser-0",
    ] {
        assert!(by_name.contains_key(name), "{name} missing: {rows:?}");
    }
    let crashed: Vec<&&Value> = by_name
        .iter()
        .filter(|(name, r)| **name != "supervisor" && r["restarts"] == "1")
        .map(|(_, r)| r)
        .collect();
    assert_eq!(crashed.len(), 1, "one extractor restarted: {rows:?}");
    assert!(crashed[0]["name"].as_str().unwrap().starts_with("extractor-"));
    assert!(crashed[0]["failure"].as_str().unwrap().contains(boom), "{rows:?}");
    assert_eq!(
        by_name["supervisor"]["restarts"], "1",
        "the root sums its children's restarts"
    );

    // Recent errors, grouped by kind with example domains.
    let groups = eventually(WAIT, "errors grouped by kind", || async {
        let groups = browser
            .eval(
                "return Object.fromEntries([...document.querySelectorAll('[data-testid=error-group]')]
                   .map(r => [r.dataset.kind, r.querySelector('[data-col=attempts]').textContent + ' '
                              + r.querySelector('[data-col=examples]').textContent]));",
            )
            .await;
        (groups.as_object().is_some_and(|g| g.len() == 3)).then_some(groups)
    })
    .await;
    assert!(groups["http_status"].as_str().unwrap().starts_with("2 "), "{groups}");
    assert!(
        groups["http_status"].as_str().unwrap().contains("notfound-1.test"),
        "{groups}"
    );
    assert!(groups["not_html"].as_str().unwrap().contains("pdf-1.test"), "{groups}");
    assert!(groups["internal"].as_str().unwrap().contains(boom), "{groups}");
    let summary = browser
        .eval("return document.getElementById('throughput-summary').textContent")
        .await;
    assert!(summary.as_str().unwrap().contains("8 attempts"), "{summary}");

    // Domain search.
    browser.type_into("#search-q", "notfound").await;
    browser.click("[data-testid=search-submit]").await;
    let found = eventually(WAIT, "search results", || async {
        let found = browser
            .eval("return [...document.querySelectorAll('[data-testid=search-row]')].map(r => r.dataset.domain);")
            .await;
        (found.as_array().is_some_and(|f| !f.is_empty())).then_some(found)
    })
    .await;
    assert_eq!(found, serde_json::json!(["notfound-1.test", "notfound-2.test"]));

    // Jobs: "Run now" on process_pending_domains processes a new domain, and the new manual
    // run appears in the runs list while the counts follow by themselves (live refresh).
    app.add_domains(&["charlie-2.test".to_string()]).await;
    let runs_script = "return [...document.querySelectorAll('[data-testid=run]')].map(r => ({
         id: Number(r.dataset.runId), trigger: r.dataset.trigger, outcome: r.dataset.outcome,
         text: r.textContent }));";
    let before = eventually(WAIT, "the runs list of process_pending_domains", || async {
        let job = browser
            .eval("return document.getElementById('runs-job').textContent")
            .await;
        let runs = browser.eval(runs_script).await;
        (job == "process_pending_domains" && runs.as_array().is_some_and(|r| !r.is_empty())).then_some(runs)
    })
    .await;
    let last_id = before
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .max()
        .unwrap();
    let mut want = api_counts(&app.status().await);
    assert_eq!(want["pending"], "1");
    wait_for_counts(&browser, &want, "the new pending row shows up").await;
    browser
        .click("[data-testid=job][data-job=process_pending_domains] [data-testid=run-now]")
        .await;
    let run = eventually(WAIT, "the manual run appears in the runs list", || async {
        let runs = browser.eval(runs_script).await;
        runs.as_array()?
            .iter()
            .find(|r| r["id"].as_i64() > Some(last_id) && r["trigger"] == "manual" && r["outcome"] == "succeeded")
            .cloned()
    })
    .await;
    assert!(run["text"].as_str().unwrap().contains("processed 1"), "{run}");
    let message = browser
        .eval("return document.getElementById('job-message').textContent")
        .await;
    assert!(message.as_str().unwrap().contains("succeeded"), "{message}");
    want.insert("pending".into(), "0".into());
    want.insert("completed".into(), "5".into());
    wait_for_counts(&browser, &want, "the counts follow the run").await;
    let last_run = browser
        .eval("return document.querySelector('[data-job=process_pending_domains] [data-col=last-run]').textContent")
        .await;
    assert!(last_run.as_str().unwrap().contains("succeeded"), "{last_run}");

    let shot = browser.screenshot("dashboard.png").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "a real screenshot");

    // "Retry all error rows" asks first, then requeues the four error rows.
    browser.click("#retry-all").await;
    browser.accept_dialog().await;
    eventually(WAIT, "the retry is reported", || async {
        let text = browser
            .eval("return document.getElementById('retry-message').textContent")
            .await;
        (text == "Requeued 4 domains.").then_some(())
    })
    .await;
    want.insert("pending".into(), "4".into());
    want.insert("error".into(), "0".into());
    wait_for_counts(&browser, &want, "the requeued rows count as pending").await;
    assert_eq!(api_counts(&app.status().await), want);

    // The service goes away: the page says so instead of showing stale numbers silently.
    assert_eq!(app.stop().await, 0);
    eventually(WAIT, "the offline banner", || async {
        let banner = browser
            .eval("const b = document.getElementById('banner'); return b.hidden ? '' : b.textContent;")
            .await;
        banner.as_str()?.contains("Cannot reach domaind").then_some(())
    })
    .await;
}

#[actix_web::test]
async fn the_dashboard_asks_for_the_token_and_keeps_it_for_the_tab() {
    let Some(bins) = find_browser("the_dashboard_asks_for_the_token_and_keeps_it_for_the_tab") else {
        return;
    };
    let app = spawn_app_with_tokens(Db::Sqlite).await;
    let names: Vec<_> = ["alpha-1.test", "alpha-2.test"]
        .iter()
        .map(|n| domaind::model::DomainName::parse(n).unwrap())
        .collect();
    app.store.insert_domains("default", &names).await.unwrap();
    let browser = Browser::start(&bins).await;
    let page = format!("{}/", app.address);
    browser.goto(&page).await;
    let visible = |id: &'static str| {
        let browser = &browser;
        async move {
            browser
                .eval(&format!("return !document.getElementById('{id}').hidden"))
                .await
                == true
        }
    };
    eventually(WAIT, "the token prompt", || async {
        visible("token-panel").await.then_some(())
    })
    .await;
    assert!(!visible("main").await, "no data is shown before the token");

    // A wrong token is refused visibly; the right one unlocks the data.
    browser.type_into("#token-input", "not-the-token-0000").await;
    browser.click("[data-testid=token-submit]").await;
    eventually(WAIT, "the refusal", || async {
        let text = browser
            .eval("return document.getElementById('token-error').textContent")
            .await;
        (text == "That token was refused.").then_some(())
    })
    .await;
    browser.type_into("#token-input", ADMIN_TOKEN).await;
    browser.click("[data-testid=token-submit]").await;
    let mut want = BTreeMap::new();
    for (status, n) in [
        ("pending", "2"),
        ("processing", "0"),
        ("completed", "0"),
        ("error", "0"),
    ] {
        want.insert(status.to_string(), n.to_string());
    }
    wait_for_counts(&browser, &want, "data after the token").await;
    assert!(!visible("token-panel").await);
    let stored = browser.eval("return sessionStorage.getItem('domaind.token')").await;
    assert_eq!(stored, ADMIN_TOKEN, "kept in session storage");

    // A reload in the same tab needs no prompt; "Forget token" brings the prompt back.
    browser.goto(&page).await;
    wait_for_counts(&browser, &want, "data after a reload").await;
    assert!(!visible("token-panel").await);
    browser.click("#forget-token").await;
    eventually(WAIT, "the prompt again", || async {
        visible("token-panel").await.then_some(())
    })
    .await;
    assert_eq!(
        browser.eval("return sessionStorage.getItem('domaind.token')").await,
        Value::Null
    );
    browser.screenshot("dashboard-token-prompt.png").await;
    drop(browser);
    assert_eq!(app.stop().await, 0);
}
