//! A tiny W3C WebDriver client for the dashboard tests: finds Debian's `chromium` and
//! `chromedriver`, starts the driver on a free loopback port, opens a headless Chromium session
//! and offers the few commands the tests use (JSON over HTTP with the suite's reqwest client).
//! Dropping the `Browser` ends the session (Chromium exits) and kills the driver, also when a
//! test fails half-way. Without the binaries the tests skip loudly, unless
//! `DOMAIND_TEST_REQUIRE_BROWSER=1` makes that a failure.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::eventually;

/// The W3C key of an element reference in a response.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where `chromium` and `chromedriver` live.
pub struct BrowserBinaries {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn from_env_or(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    names.iter().find_map(|n| on_path(n))
}

/// The browser binaries, or `None` (with a loud message) to skip; a failure when
/// `DOMAIND_TEST_REQUIRE_BROWSER=1`.
pub fn find_browser(test: &str) -> Option<BrowserBinaries> {
    let chromium = from_env_or("DOMAIND_TEST_CHROMIUM", &["chromium", "chromium-browser"]);
    let chromedriver = from_env_or("DOMAIND_TEST_CHROMEDRIVER", &["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Some(BrowserBinaries { chromium, chromedriver }),
        (chromium, driver) => {
            let missing = match (chromium, driver) {
                (None, None) => "chromium and chromedriver",
                (None, _) => "chromium",
                _ => "chromedriver",
            };
            if std::env::var("DOMAIND_TEST_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!(
                    "DOMAIND_TEST_REQUIRE_BROWSER=1 but {missing} not found (apt-get install chromium chromium-driver)"
                );
            }
            eprintln!(
                "\n########## SKIPPING {test}: {missing} not found on PATH ##########\n\
                 ########## install with `apt-get install chromium chromium-driver`; \
                 DOMAIND_TEST_REQUIRE_BROWSER=1 turns this skip into a failure ##########\n"
            );
            None
        }
    }
}

/// Where tests leave screenshots: `$CARGO_TARGET_DIR/test-artifacts` (else `target/`).
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("test-artifacts")
}

/// A running chromedriver and one headless Chromium session.
pub struct Browser {
    client: reqwest::Client,
    port: u16,
    session: String,
    driver: Child,
    profile: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Drop cannot await: a blocking DELETE ends the session, so chromedriver closes
        // Chromium before the driver itself is killed (killing only the driver would orphan it).
        if let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session, self.port
            );
            if conn.write_all(request.as_bytes()).is_ok() {
                let _ = conn.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free loopback port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (`--headless --no-sandbox --disable-gpu`).
    pub async fn start(bins: &BrowserBinaries) -> Browser {
        let port = free_port();
        let driver = Command::new(&bins.chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bins.chromedriver.display()));
        let profile = std::env::temp_dir().join(format!("domaind-chromium-{}-{port}", std::process::id()));
        let mut browser = Browser {
            client: reqwest::Client::builder().no_proxy().build().expect("client"),
            port,
            session: String::new(),
            driver,
            profile,
        };
        let status_url = format!("http://127.0.0.1:{port}/status");
        eventually(Duration::from_secs(20), "chromedriver answers", || async {
            let r = browser.client.get(&status_url).send().await.ok()?;
            let body: Value = serde_json::from_str(&r.text().await.ok()?).ok()?;
            (body["value"]["ready"] == true).then_some(())
        })
        .await;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,2000",
            "--no-proxy-server",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-sync",
            &format!("--user-data-dir={}", browser.profile.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": bins.chromium.display().to_string(), "args": args},
        }}});
        let value = browser.call("POST", "/session", Some(caps)).await;
        browser.session = value["sessionId"].as_str().expect("session id").to_string();
        browser
    }

    /// One WebDriver command; panics with the driver's error message on failure.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body).await {
            Ok(value) => value,
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        }
    }

    async fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let request = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self
                .client
                .post(url)
                .header("content-type", "application/json")
                .body(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        let ok = response.status().is_success();
        let text = response.text().await.map_err(|e| e.to_string())?;
        let value: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
        if ok {
            Ok(value["value"].clone())
        } else {
            Err(format!("{}: {}", value["value"]["error"], value["value"]["message"]))
        }
    }

    fn at(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Navigates to `url` and waits for the load event.
    pub async fn goto(&self, url: &str) {
        self.call("POST", &self.at("/url"), Some(json!({ "url": url }))).await;
    }

    /// The first element matching `css`, if any.
    pub async fn find(&self, css: &str) -> Option<String> {
        let body = json!({"using": "css selector", "value": css});
        match self.try_call("POST", &self.at("/element"), Some(body)).await {
            Ok(value) => Some(
                value[ELEMENT]
                    .as_str()
                    .unwrap_or_else(|| panic!("WebDriver find {css}: no element reference in {value}"))
                    .to_string(),
            ),
            Err(e) if e.contains("no such element") => None,
            Err(e) => panic!("WebDriver find {css}: {e}"),
        }
    }

    /// Clicks the element matching `css` the way a user does (it must be visible and enabled).
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await.unwrap_or_else(|| panic!("no element {css}"));
        self.call("POST", &self.at(&format!("/element/{element}/click")), None)
            .await;
    }

    /// Types `text` into the element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await.unwrap_or_else(|| panic!("no element {css}"));
        self.call("POST", &self.at(&format!("/element/{element}/clear")), None)
            .await;
        let path = self.at(&format!("/element/{element}/value"));
        self.call("POST", &path, Some(json!({ "text": text }))).await;
    }

    /// Runs `script` (a function body; `return` gives the result) in the page.
    pub async fn eval(&self, script: &str) -> Value {
        let body = json!({"script": script, "args": []});
        self.call("POST", &self.at("/execute/sync"), Some(body)).await
    }

    /// Accepts the open `confirm()` dialog.
    pub async fn accept_dialog(&self) {
        self.call("POST", &self.at("/alert/accept"), None).await;
    }

    /// Saves a PNG of the viewport to the artifacts directory and prints where.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let value = self.call("GET", &self.at("/screenshot"), None).await;
        let png = base64_decode(value.as_str().expect("base64 screenshot"));
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).expect("artifacts dir");
        let path = dir.join(name);
        std::fs::write(&path, png).expect("write screenshot");
        println!("dashboard screenshot: {}", path.display());
        eprintln!("dashboard screenshot: {}", path.display());
        path
    }
}

/// Standard base64 (what WebDriver sends screenshots in); whitespace ignored.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {:?}", c as char),
        }
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, c)| acc | value(*c) << (18 - 6 * i));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

#[test]
fn base64_decodes_padded_and_unpadded_input() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGVsbG8h"), b"hello!");
    assert_eq!(base64_decode("aGk=\n"), b"hi");
}
