//! `domaind extract`: prints the Metadata JSON of a saved page or a live URL, or extracts a
//! whole corpus manifest into the layout `shared/corpus/grade.py` reads.
//!
//! - `domaind extract FILE [--url BASE] [--pretty]`: relative URLs resolve against `--url`
//!   when given, else against the file's own `file://` URL (as a browser opening the saved
//!   file would); since only http(s) URLs are kept, relative URLs then drop out, so pass
//!   `--url` with the page's original address. No Content-Type is known, so the charset comes
//!   from the bytes and `<meta>`.
//! - `domaind extract http(s)://HOST[/] [--pretty]`: only homepages are accepted (no path,
//!   query, fragment, port or credentials); the host goes to `HttpClient::fetch_homepage`, so
//!   the schemes tried, the SSRF guard, the redirect cap and the body cap are `[fetch]`'s.
//! - `domaind extract --manifest MANIFEST.json --out DIR`: one grader JSON per case.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::extract::{extract, PageContext};
use crate::fetch::HttpClient;
use crate::model::Metadata;
use crate::settings::Settings;

/// Arguments of `domaind extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// A saved HTML file, or an http(s) URL fetched through the SSRF guard.
    pub input: Option<String>,
    /// Base URL for a saved file (relative URLs resolve against it).
    #[arg(long, value_name = "BASE")]
    pub url: Option<String>,
    /// Pretty-print the JSON.
    #[arg(long)]
    pub pretty: bool,
    /// A corpus MANIFEST.json: extract every case (needs --out).
    #[arg(long, value_name = "PATH", conflicts_with = "input")]
    pub manifest: Option<PathBuf>,
    /// Output directory for --manifest.
    #[arg(long, value_name = "DIR", requires = "manifest")]
    pub out: Option<PathBuf>,
}

/// Runs the command; returns the process exit code.
pub async fn run(args: ExtractArgs, settings: Settings) -> anyhow::Result<i32> {
    if let Some(manifest) = &args.manifest {
        let out = args.out.as_deref().context("--manifest needs --out DIR")?;
        let written = extract_manifest(manifest, out)?;
        eprintln!("wrote {written} case(s) under {}", out.display());
        return Ok(0);
    }
    let input = args
        .input
        .as_deref()
        .context("give a FILE, an http(s) homepage URL, or --manifest PATH --out DIR")?;
    let meta = if is_http_url(input) {
        if args.url.is_some() {
            anyhow::bail!("--url only applies to a saved FILE, not to a fetched URL");
        }
        fetch_and_extract(input, &settings).await?
    } else {
        extract_file(Path::new(input), args.url.as_deref())?
    };
    let json = if args.pretty {
        serde_json::to_string_pretty(&meta)?
    } else {
        serde_json::to_string(&meta)?
    };
    println!("{json}");
    Ok(0)
}

/// Extracts a saved page; relative URLs resolve against `base`, else the file's `file://` URL.
pub fn extract_file(path: &Path, base: Option<&str>) -> anyhow::Result<Metadata> {
    let html = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let url = match base {
        Some(b) => Url::parse(b).with_context(|| format!("--url `{b}` is not an absolute URL"))?,
        None => file_url(path)?,
    };
    let ctx = PageContext {
        url: &url,
        content_type: None,
    };
    Ok(extract(&html, &ctx))
}

/// The `file://` URL of `path` (made absolute against the current directory).
fn file_url(path: &Path) -> anyhow::Result<Url> {
    let abs = std::path::absolute(path).with_context(|| format!("cannot make {} absolute", path.display()))?;
    Url::from_file_path(&abs).map_err(|()| anyhow::anyhow!("cannot turn {} into a file:// URL", abs.display()))
}

fn is_http_url(input: &str) -> bool {
    let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The host of an `http(s)://HOST[/]` homepage URL, or an error saying what is accepted.
pub fn homepage_host(input: &str) -> anyhow::Result<String> {
    let url = Url::parse(input).with_context(|| format!("`{input}` is not a valid URL"))?;
    let host = url.host_str().filter(|h| !h.is_empty());
    let homepage = url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none();
    match host {
        Some(h) if homepage => Ok(h.to_owned()),
        _ => anyhow::bail!(
            "only homepage URLs are fetched (http(s)://HOST or http(s)://HOST/, no port, path, query or \
             credentials); save other pages and run `domaind extract FILE --url URL`"
        ),
    }
}

/// Fetches a homepage through the guarded client, extracts it and fills the request facts.
async fn fetch_and_extract(input: &str, settings: &Settings) -> anyhow::Result<Metadata> {
    let host = homepage_host(input)?;
    let client = HttpClient::new(&settings.fetch).context("cannot build the HTTP client")?;
    let page = client
        .fetch_homepage(&host)
        .await
        .map_err(|e| anyhow::anyhow!("fetch failed ({}): {}", e.kind, e.message))?;
    let ctx = PageContext {
        url: &page.final_url,
        content_type: page.content_type.as_deref(),
    };
    let mut meta = extract(&page.body, &ctx);
    let bytes = page.body.len() as u64;
    page.fill_request_facts(&mut meta, bytes);
    Ok(meta)
}

/// A corpus manifest (`shared/corpus/MANIFEST.json`).
#[derive(Debug, Deserialize)]
struct Manifest {
    cases: Vec<Case>,
}

/// One manifest case: where its page is, the URL it came from, where its output goes.
#[derive(Debug, Deserialize)]
struct Case {
    html: PathBuf,
    input_url: String,
    output: PathBuf,
}

/// The fields `grade.py` reads, under its key names (`null` when missing).
#[derive(Debug, Serialize)]
pub struct Graded {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Site name.
    pub site_name: Option<String>,
    /// Language.
    pub lang: Option<String>,
    /// Preview image.
    pub image: Option<String>,
    /// Canonical URL.
    pub url: Option<String>,
    /// Author.
    pub author: Option<String>,
    /// Publication date.
    pub date: Option<String>,
    /// Favicon.
    pub favicon: Option<String>,
    /// Logo.
    pub logo: Option<String>,
    /// Charset the page was decoded with.
    pub charset: Option<String>,
}

impl From<Metadata> for Graded {
    fn from(m: Metadata) -> Graded {
        Graded {
            title: m.title,
            description: m.description,
            site_name: m.site_name,
            lang: m.lang,
            image: m.image,
            url: m.canonical_url,
            author: m.author,
            date: m.published_at,
            favicon: m.favicon,
            logo: m.logo,
            charset: m.charset,
        }
    }
}

/// Extracts every case of `manifest` into `out` (paths as the manifest says); returns the count.
pub fn extract_manifest(manifest: &Path, out: &Path) -> anyhow::Result<usize> {
    let text = fs::read_to_string(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let parsed: Manifest =
        serde_json::from_str(&text).with_context(|| format!("{} is not a corpus manifest", manifest.display()))?;
    let root = manifest.parent().unwrap_or(Path::new("."));
    for case in &parsed.cases {
        let html_path = root.join(&case.html);
        let html = fs::read(&html_path).with_context(|| format!("cannot read {}", html_path.display()))?;
        let url = Url::parse(&case.input_url)
            .with_context(|| format!("bad input_url `{}` in {}", case.input_url, manifest.display()))?;
        let meta = extract(
            &html,
            &PageContext {
                url: &url,
                content_type: None,
            },
        );
        let target = out.join(&case.output);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let json = serde_json::to_string_pretty(&Graded::from(meta))?;
        fs::write(&target, json).with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(parsed.cases.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homepage_urls_give_their_host() {
        assert_eq!(homepage_host("https://Example.com").unwrap(), "example.com");
        assert_eq!(homepage_host("http://example.com/").unwrap(), "example.com");
    }

    #[test]
    fn non_homepage_urls_are_refused_with_what_is_accepted() {
        for bad in [
            "https://example.com/a",
            "https://example.com/?q=1",
            "https://example.com:8080/",
            "https://u:p@example.com/",
        ] {
            let err = homepage_host(bad).unwrap_err().to_string();
            assert!(err.contains("only homepage URLs"), "{bad}: {err}");
        }
    }

    #[test]
    fn http_inputs_are_told_from_files() {
        assert!(is_http_url("HTTPS://example.com"));
        assert!(is_http_url("http://x"));
        assert!(!is_http_url("page.html"));
        assert!(!is_http_url("ftp://x"));
    }

    #[test]
    fn a_saved_file_resolves_against_its_file_url_or_the_given_base() {
        let dir = std::env::temp_dir().join(format!("domaind-extract-cmd-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("page.html");
        fs::write(
            &path,
            "<html><head><link rel=canonical href=/x><title>T</title></head></html>",
        )
        .unwrap();
        let own = extract_file(&path, None).unwrap();
        assert_eq!(own.canonical_url, None, "file:// URLs are not kept");
        assert_eq!(own.title.as_deref(), Some("T"));
        let based = extract_file(&path, Some("https://example.com/a/b")).unwrap();
        assert_eq!(based.canonical_url.as_deref(), Some("https://example.com/x"));
        assert_eq!(based.title.as_deref(), Some("T"));
        assert!(extract_file(&path, Some("not a url")).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
