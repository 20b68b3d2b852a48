//! Property tests (proptest) on what outsiders control: every endpoint's path segments, query
//! strings and bodies (no 5xx, every error a JSON `{error, message}` body), the extractor on
//! arbitrary bytes and on HTML-shaped noise (no panic), and `DomainName::parse` (no panic; a
//! parsed name is canonical and parses to itself). Case counts are sized for CI; set
//! `PROPTEST_CASES` for a longer run.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use crate::helpers::{spawn_app_with_tokens, Db, ADMIN_TOKEN};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Text an attacker or a careless client sends: unicode, huge and negative numbers, escapes.
fn nasty_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9._-]{0,20}",
        Just("99999999999999999999999999".to_string()),
        Just("-1".to_string()),
        Just("".to_string()),
        Just("%".to_string()),
        Just("%ZZ".to_string()),
        Just("0x10".to_string()),
        Just("1e400".to_string()),
        Just("NaN".to_string()),
        Just("💥.test".to_string()),
        Just("a".repeat(5000)),
        Just("null".to_string()),
        Just("../../etc/passwd".to_string()),
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        nasty_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("domains".to_string()),
                    Just("tenant_id".to_string()),
                    Just("limit".to_string()),
                    "[a-z_]{1,8}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A request body: JSON of any shape, a plausible add request, raw bytes, or nothing.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        (prop::collection::vec(nasty_text(), 0..5), nasty_text())
            .prop_map(|(d, t)| serde_json::to_vec(&serde_json::json!({"domains": d, "tenant_id": t})).unwrap()),
        prop::collection::vec(any::<u8>(), 0..64),
        Just(Vec::new()),
    ]
}

const QUERY_KEYS: &[&str] = &[
    "limit",
    "cursor",
    "status",
    "tenant_id",
    "q",
    "error_kind",
    "format",
    "minutes",
    "id",
];

/// Every route, with `{}` where a path segment goes.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/api/v3/dev/process-pending-domains"),
    ("POST", "/api/v1/domains"),
    ("GET", "/api/v1/domains"),
    ("GET", "/api/v1/domains/export"),
    ("POST", "/api/v1/domains/retry"),
    ("GET", "/api/v1/domains/by-name/{}"),
    ("GET", "/api/v1/domains/{}"),
    ("POST", "/api/v1/domains/{}/retry"),
    ("DELETE", "/api/v1/domains/{}"),
    ("GET", "/api/v1/status"),
    ("GET", "/api/v1/stats"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/{}/runs"),
    ("POST", "/api/v1/jobs/{}/run"),
    ("POST", "/api/v1/jobs/{}/pause"),
    ("POST", "/api/v1/jobs/{}/resume"),
    ("GET", "/openapi.json"),
    ("GET", "/docs/{}"),
    ("GET", "/{}"),
];

#[derive(Debug, Clone)]
struct Case {
    route: usize,
    segment: String,
    query: Vec<(String, String)>,
    body: Vec<u8>,
    token: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..ROUTES.len(),
        prop_oneof![
            nasty_text(),
            Just("process_pending_domains".to_string()),
            Just("1".to_string())
        ],
        prop::collection::vec(
            (
                prop_oneof![prop::sample::select(QUERY_KEYS).prop_map(str::to_string), nasty_text()],
                nasty_text(),
            ),
            0..4,
        ),
        body(),
        prop::bool::weighted(0.9),
    )
        .prop_map(|(route, segment, query, body, token)| Case {
            route,
            segment,
            query,
            body,
            token,
        })
}

#[actix_web::test]
async fn no_input_to_any_endpoint_gets_a_5xx_or_a_non_json_error() {
    let app = spawn_app_with_tokens(Db::Sqlite).await;
    app.add_domains(&["alpha-fuzz.test".to_string(), "notfound-fuzz.test".to_string()])
        .await;
    let mut runner = TestRunner::new(Config {
        cases: cases(400),
        ..Config::default()
    });
    let strategy = case();
    for _ in 0..runner.config().cases {
        let case = strategy.new_tree(&mut runner).expect("case").current();
        let (method, template) = ROUTES[case.route];
        let mut url = url::Url::parse(&app.address).unwrap();
        {
            let mut segments = url.path_segments_mut().unwrap();
            segments.clear();
            for part in template.trim_start_matches('/').split('/') {
                segments.push(if part == "{}" { &case.segment } else { part });
            }
        }
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &case.query {
                pairs.append_pair(k, v);
            }
        }
        let mut request = app
            .client
            .request(method.parse().unwrap(), url.clone())
            .header("content-type", "application/json")
            .body(case.body.clone());
        if case.token {
            request = request.bearer_auth(ADMIN_TOKEN);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert!(status < 500, "{method} {url} ({case:?}) -> {status}: {text}");
        if status >= 400 {
            let error: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {url} ({case:?}) -> {status}, not JSON: {text:?}"));
            assert!(
                error["error"].is_string() && error["message"].is_string(),
                "{method} {url} -> {status}: {error}"
            );
        }
    }
    let (code, _) = app.get("/health/ready").await;
    assert_eq!(code, 200, "the service is still healthy after the fuzzing");
    assert_eq!(app.stop().await, 0);
}

/// Pieces of HTML that exercise the extractor's branches when shuffled together.
const FRAGMENTS: &[&str] = &[
    "<html",
    "<head>",
    "</head>",
    "<body>",
    "<title>",
    "</title>",
    "<meta charset=\"",
    "gbk",
    "utf-8",
    "x-unknown",
    "\">",
    "<meta property=\"og:title\" content=\"",
    "<meta name=\"description\" content=\"",
    "<link rel=\"icon\" href=\"",
    "<base href=\"",
    "<script type=\"application/ld+json\">",
    "</script>",
    "{\"@graph\":[",
    "{\"@type\":\"Article\",\"datePublished\":\"",
    "]}",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "&amp;amp;",
    "&#x1F4A5;",
    "&#99999999;",
    "<svg><title>",
    "</svg>",
    "<time datetime=\"",
    "2026-13-45",
    "\u{feff}",
    "\u{0}",
    "\u{fffd}",
    "<",
    ">",
    "\"",
    "'",
    "=",
    "/",
    "<<<<",
    "<div>",
    "<noscript>",
];

fn html_noise() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(FRAGMENTS).prop_map(|f| f.as_bytes().to_vec()),
            any::<String>().prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..8),
        ],
        0..120,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(Config { cases: cases(300), ..Config::default() })]

    #[test]
    fn the_extractor_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096),
                                           content_type in prop::option::of(nasty_text())) {
        let url = url::Url::parse("http://fuzz.test/a/b").unwrap();
        let ctx = domaind::extract::PageContext { url: &url, content_type: content_type.as_deref() };
        let meta = domaind::extract::extract(&bytes, &ctx);
        if let Some(title) = &meta.title {
            prop_assert!(!title.is_empty(), "an empty title is reported as missing");
        }
    }

    #[test]
    fn the_extractor_never_panics_on_html_noise(page in html_noise()) {
        let url = url::Url::parse("https://fuzz.test/").unwrap();
        let ctx = domaind::extract::PageContext { url: &url, content_type: Some("text/html") };
        let meta = domaind::extract::extract(&page, &ctx);
        for icon in &meta.icons {
            prop_assert!(url::Url::parse(&icon.href).is_ok(), "icon URL not absolute: {:?}", icon.href);
        }
    }

    #[test]
    fn domain_names_parse_to_a_canonical_fixed_point(input in prop_oneof![
        nasty_text(),
        "[A-Za-z0-9.-]{1,70}",
        "(https?://)?[a-zA-Z0-9-]{1,20}(\\.[a-zA-Z0-9-]{1,20}){0,3}\\.?(:[0-9]{1,5})?(/[a-z]{0,5})?",
    ]) {
        if let Ok(name) = domaind::model::DomainName::parse(&input) {
            let text = name.as_str();
            prop_assert!(!text.is_empty() && text.len() <= 253, "{text:?}");
            prop_assert!(text.is_ascii() && text == text.to_ascii_lowercase(), "{text:?}");
            prop_assert!(!text.ends_with('.') && !text.contains(".."), "{text:?}");
            let again = domaind::model::DomainName::parse(text).expect("a parsed name parses again");
            prop_assert_eq!(again.as_str(), text);
        }
    }
}
