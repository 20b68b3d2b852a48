//! The dashboard page in a real headless Chromium driven over WebDriver: it shows what the API
//! says (counts, the actor tree with uptimes, jobs with their next run, errors by kind), runs,
//! pauses and resumes a job on a click, retries errors (one kind or all), says when the service
//! is gone, and asks for the token when one is configured. Screenshots are kept as artifacts.

use std::collections::BTreeMap;
use std::time::Duration;

use domaind::faults::{panic_on, Stage};
use serde_json::Value;

use crate::helpers::{eventually, spawn_app_with, spawn_app_with_tokens, Db, TestApp, ADMIN_TOKEN};
use crate::webdriver::{find_browser, Browser};

const WAIT: Duration = Duration::from_secs(15);

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

/// Seconds in a duration as the page writes it ("42 s", "1 min 5 s"); None for anything else.
fn shown_secs(text: &str) -> Option<u64> {
    match text.split(' ').collect::<Vec<_>>()[..] {
        [s, "s"] => s.parse().ok(),
        [m, "min", s, "s"] => Some(m.parse::<u64>().ok()? * 60 + s.parse::<u64>().ok()?),
        _ => None,
    }
}

/// Waits until the page shows `process_pending_domains` as `state` and the API says `paused`;
/// returns the row as shown (`state`, `next`, `secs_to_next` from its `<time datetime>`).
async fn wait_for_job_state(browser: &Browser, app: &TestApp, state: &str, paused: bool) -> Value {
    let script = "const r = document.querySelector('[data-testid=job][data-job=process_pending_domains]');
        const next = r.querySelector('[data-col=next-run]');
        const time = next ? next.querySelector('time') : null;
        return { state: r.querySelector('[data-col=state] .badge').textContent,
                 next: next ? next.textContent : null,
                 secs_to_next: time ? (Date.parse(time.getAttribute('datetime')) - Date.now()) / 1000 : null };";
    eventually(
        WAIT,
        &format!("the job shown {state} and paused = {paused} in the API"),
        || async {
            let shown = browser.eval(script).await;
            let (_, jobs) = app.get("/api/v1/jobs").await;
            let job = jobs["jobs"]
                .as_array()?
                .iter()
                .find(|j| j["id"] == "process_pending_domains")?
                .clone();
            (shown["state"] == state && job["paused"] == paused).then_some(shown)
        },
    )
    .await
}

async fn wait_for_retry_message(browser: &Browser, want: &str) {
    eventually(WAIT, &format!("the retry reported as {want:?}"), || async {
        let text = browser
            .eval("return document.getElementById('retry-message').textContent")
            .await;
        (text == want).then_some(())
    })
    .await
}

#[actix_web::test]
async fn the_dashboard_shows_the_service_and_runs_a_job_in_a_real_browser() {
    let Some(bins) = find_browser("the_dashboard_shows_the_service_and_runs_a_job_in_a_real_browser") else {
        return;
    };
    // One attempt per domain, so the crashed domain ends in `error` and the counts stay put.
    let started = std::time::Instant::now();
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
                   uptime: r.querySelector('[data-col=uptime]').textContent,
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
    // Uptimes read like "42 s" or "1 min 5 s", and none is longer than the service has run.
    for row in &rows {
        let uptime = row["uptime"].as_str().unwrap();
        let secs = shown_secs(uptime).unwrap_or_else(|| panic!("uptime {uptime:?} of {}", row["name"]));
        assert!(
            secs <= started.elapsed().as_secs() + 1,
            "{} up {uptime} after {:?}",
            row["name"],
            started.elapsed()
        );
    }

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

    // Pause, then Resume: the job's state and next-run cells and the API's `paused` flag follow.
    let active = wait_for_job_state(&browser, &app, "active", false).await;
    let until_next = active["secs_to_next"].as_f64().unwrap();
    assert!(
        (-5.0..=3605.0).contains(&until_next),
        "the next run of an hourly job is within the hour: {active}"
    );
    assert!(
        active["next"].as_str().unwrap().starts_with("in ") || active["next"] == "now",
        "{active}"
    );
    browser
        .click("[data-testid=job][data-job=process_pending_domains] [data-testid=pause]")
        .await;
    let paused = wait_for_job_state(&browser, &app, "paused", true).await;
    assert_eq!(paused["next"], "paused", "{paused}");
    browser
        .click("[data-testid=job][data-job=process_pending_domains] [data-testid=resume]")
        .await;
    let resumed = wait_for_job_state(&browser, &app, "active", false).await;
    assert!(
        resumed["secs_to_next"].as_f64().is_some(),
        "a next run again: {resumed}"
    );

    // "Retry" on one kind asks first, then requeues only that kind's rows.
    browser
        .click("[data-testid=error-group][data-kind=not_html] [data-testid=retry-kind]")
        .await;
    browser.accept_dialog().await;
    wait_for_retry_message(&browser, "Requeued 1 domain.").await;
    assert_eq!(app.row("pdf-1.test").await.status, "pending");
    assert_eq!(app.row("notfound-1.test").await.status, "error", "other kinds stay put");
    want.insert("pending".into(), "1".into());
    want.insert("error".into(), "3".into());
    wait_for_counts(&browser, &want, "the requeued kind counts as pending").await;

    // "Retry all error rows" asks first, then requeues the three other error rows.
    browser.click("#retry-all").await;
    browser.accept_dialog().await;
    wait_for_retry_message(&browser, "Requeued 3 domains.").await;
    want.insert("pending".into(), "4".into());
    want.insert("error".into(), "0".into());
    wait_for_counts(&browser, &want, "the requeued rows count as pending").await;
    assert_eq!(api_counts(&app.status().await), want);
    browser.screenshot("dashboard-after-retry.png").await;

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
