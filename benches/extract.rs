//! Extraction speed on the shared bench pages: `domaind::extract::extract` against a naive
//! baseline that builds a full DOM of every page (`scraper::Html::parse_document`) and reads
//! the same fields with static selectors. Both run on one thread, so the reported
//! elements/s are pages/s per core. Before timing, both must give the same title on every page.
//! Group `extract` times the 8 pages together; `extract_page` times each page alone.
//!
//! Run: `cargo bench --bench extract` (one page: `cargo bench --bench extract -- page-4`). Pages come from `$DOMAIND_SHARED_DIR/bench/pages`
//! (default `<crate>/../shared`); a missing directory is an error, not an empty bench.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::LazyLock;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use domaind::extract::{extract, PageContext};
use scraper::{Html, Selector};
use url::Url;

/// One bench page: its bytes and the URL it is served from.
struct Page {
    name: String,
    html: Vec<u8>,
    url: Url,
}

fn shared_dir() -> PathBuf {
    std::env::var_os("DOMAIND_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

fn load_pages() -> Vec<Page> {
    let dir = shared_dir().join("bench").join("pages");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {} ({e}); set DOMAIND_SHARED_DIR", dir.display()));
    let mut pages: Vec<Page> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .map(|path| {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let html = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let url = Url::parse(&format!("https://{name}.test/")).expect("valid bench URL");
            Page { name, html, url }
        })
        .collect();
    pages.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(!pages.is_empty(), "no pages in {}", dir.display());
    pages
}

fn ours(page: &Page) -> domaind::model::Metadata {
    extract(
        &page.html,
        &PageContext {
            url: &page.url,
            content_type: Some("text/html"),
        },
    )
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("valid selector")
}

static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("head title"));
static H1: LazyLock<Selector> = LazyLock::new(|| selector("h1"));
static OG: LazyLock<Selector> = LazyLock::new(|| selector("meta[property^='og:'], meta[name^='og:']"));
static TWITTER: LazyLock<Selector> = LazyLock::new(|| selector("meta[name^='twitter:'], meta[property^='twitter:']"));
static DESCRIPTION: LazyLock<Selector> = LazyLock::new(|| selector("meta[name='description' i]"));
static CANONICAL: LazyLock<Selector> = LazyLock::new(|| selector("link[rel='canonical' i]"));
static ICONS: LazyLock<Selector> = LazyLock::new(|| selector("link[rel~='icon' i], link[rel^='apple-touch-icon' i]"));
static LANG: LazyLock<Selector> = LazyLock::new(|| selector("html[lang]"));
static LD_JSON: LazyLock<Selector> = LazyLock::new(|| selector("script[type='application/ld+json' i]"));

/// What the baseline reads; every field is kept so the work cannot be optimized away.
#[derive(Debug, Default)]
struct Baseline {
    title: Option<String>,
    description: Option<String>,
    canonical: Option<String>,
    lang: Option<String>,
    icons: Vec<String>,
    meta: Vec<(String, String)>,
    json_ld: Vec<serde_json::Value>,
}

fn collapse(s: &str) -> Option<String> {
    let out = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!out.is_empty()).then_some(out)
}

/// The first `charset=` label in the page, found by a plain byte search.
fn declared_charset(html: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let lower = html.to_ascii_lowercase();
    let at = lower.windows(8).position(|w| w == b"charset=")? + 8;
    let label: Vec<u8> = lower[at..]
        .iter()
        .copied()
        .skip_while(|b| *b == b'"' || *b == b'\'')
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        .collect();
    encoding_rs::Encoding::for_label(&label)
}

/// The naive extractor: decode (UTF-8, else the declared legacy charset), full DOM, selectors.
fn baseline(page: &Page) -> Baseline {
    let text = match std::str::from_utf8(&page.html) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            let declared = declared_charset(&page.html).unwrap_or(encoding_rs::WINDOWS_1252);
            declared.decode(&page.html).0
        }
    };
    let doc = Html::parse_document(&text);
    let mut out = Baseline::default();
    for el in doc.select(&OG).chain(doc.select(&TWITTER)) {
        let key = el.attr("property").or_else(|| el.attr("name")).unwrap_or_default();
        if let Some(v) = el.attr("content").and_then(collapse) {
            out.meta.push((key.to_ascii_lowercase(), v));
        }
    }
    let meta = |k: &str| out.meta.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    out.json_ld = doc
        .select(&LD_JSON)
        .filter_map(|s| serde_json::from_str(&s.text().collect::<String>()).ok())
        .collect();
    let ld_title = out.json_ld.iter().find_map(|v| {
        let obj = v.as_object()?;
        obj.get("headline")
            .or_else(|| obj.get("name"))?
            .as_str()
            .and_then(collapse)
    });
    out.title = meta("og:title")
        .or_else(|| meta("twitter:title"))
        .or(ld_title)
        .or_else(|| doc.select(&TITLE).find_map(|t| collapse(&t.text().collect::<String>())))
        .or_else(|| doc.select(&H1).find_map(|t| collapse(&t.text().collect::<String>())));
    out.description = meta("og:description")
        .or_else(|| meta("twitter:description"))
        .or_else(|| {
            doc.select(&DESCRIPTION)
                .find_map(|m| m.attr("content").and_then(collapse))
        });
    out.canonical = doc
        .select(&CANONICAL)
        .find_map(|l| l.attr("href"))
        .and_then(|h| page.url.join(h).ok())
        .map(String::from);
    out.lang = doc.select(&LANG).find_map(|h| h.attr("lang").and_then(collapse));
    out.icons = doc
        .select(&ICONS)
        .filter_map(|l| page.url.join(l.attr("href")?).ok())
        .map(String::from)
        .collect();
    out
}

/// Fails the bench (before timing) unless both extractors agree on every page's title.
fn check_same_titles(pages: &[Page]) {
    let mut differ = Vec::new();
    for page in pages {
        let (a, b) = (ours(page).title, baseline(page).title);
        if a.is_none() || a != b {
            differ.push(format!("{}: domaind {a:?} vs baseline {b:?}", page.name));
        }
    }
    assert!(differ.is_empty(), "titles differ:\n{}", differ.join("\n"));
}

fn bench(c: &mut Criterion) {
    let pages = load_pages();
    check_same_titles(&pages);
    let mut group = c.benchmark_group("extract");
    group.throughput(Throughput::Elements(pages.len() as u64));
    group.bench_function("domaind", |b| {
        b.iter(|| {
            for page in &pages {
                black_box(ours(black_box(page)));
            }
        })
    });
    group.bench_function("scraper_full_dom", |b| {
        b.iter(|| {
            for page in &pages {
                black_box(baseline(black_box(page)));
            }
        })
    });
    group.finish();
    // Per page (one page type each, see `shared/bench/README.md`): the aggregate above hides
    // which kind of page a change helps.
    let mut group = c.benchmark_group("extract_page");
    group.throughput(Throughput::Elements(1));
    for page in &pages {
        group.bench_function(format!("domaind/{}", page.name), |b| b.iter(|| ours(black_box(page))));
        group.bench_function(format!("scraper_full_dom/{}", page.name), |b| {
            b.iter(|| baseline(black_box(page)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
