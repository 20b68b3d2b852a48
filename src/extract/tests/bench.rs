//! The shared benchmark pages: the extracted `title` and `lang` must equal `expected.json`.
//! (Its `description` is the plain `<meta name=description>`, while ours prefers og:description,
//! so descriptions are not compared.)
//!
//! The shared directory is `$DOMAIND_SHARED_DIR`, else `<CARGO_MANIFEST_DIR>/../shared`; the
//! test fails (never passes silently) when it is missing.

use std::path::PathBuf;

fn shared_dir() -> PathBuf {
    std::env::var_os("DOMAIND_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

#[test]
fn bench_page_titles_and_langs_match_expected_json() {
    let bench = shared_dir().join("bench");
    let expected_path = bench.join("expected.json");
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); set DOMAIND_SHARED_DIR to the shared directory",
            expected_path.display()
        )
    });
    let expected: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&expected).expect("expected.json is a JSON object");
    assert!(!expected.is_empty(), "expected.json lists no pages");
    let mut mismatches = Vec::new();
    for (file, facts) in &expected {
        let html =
            std::fs::read(bench.join("pages").join(file)).unwrap_or_else(|e| panic!("cannot read page {file}: {e}"));
        let url = url::Url::parse(&format!("https://{}.test/", file.trim_end_matches(".html"))).expect("valid URL");
        // The bench server sends `text/html` without a charset.
        let meta = crate::extract::extract(
            &html,
            &crate::extract::PageContext {
                url: &url,
                content_type: Some("text/html"),
            },
        );
        for (field, got) in [("title", &meta.title), ("lang", &meta.lang)] {
            let want = facts.get(field).and_then(|t| t.as_str());
            if got.as_deref() != want {
                mismatches.push(format!("{file} {field}: got {got:?}, want {want:?}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "mismatches:\n{}", mismatches.join("\n"));
}
