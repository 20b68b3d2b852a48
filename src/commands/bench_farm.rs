//! `domaind bench-farm` (hidden): the benchmark's latency-injecting site farm, and `FarmChild`,
//! which runs it as a child process so its CPU and memory are not counted as domaind's.
//!
//! Like the shared nginx farm, any Host `site-<n>-<k>.test` gets `page-<k>.html` at `/` with
//! `Content-Type: text/html` (no charset: the client must sniff), everything else is a 404 —
//! except `/robots.txt`, a permissive one. Every response waits `--latency-ms` first.

use std::io::BufRead as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::Context as _;

/// Arguments of `domaind bench-farm`.
#[derive(Debug, clap::Args)]
pub struct FarmArgs {
    /// Delay before every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Directory with `page-0.html`, `page-1.html`, ...
    #[arg(long, default_value = "../shared/bench/pages")]
    pub pages: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one); the bound address is printed on stdout.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Exit when standard input closes (the parent died or is done with us).
    #[arg(long)]
    pub until_stdin_closes: bool,
}

const ROBOTS: &str = "User-agent: *\nAllow: /\n";

struct Farm {
    latency: Duration,
    pages: Vec<web::Bytes>,
}

/// The page index `k` of a Host `site-<n>-<k>.test` (any port), if it is one.
fn page_of(host: &str) -> Option<usize> {
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let labels = name.strip_prefix("site-")?.strip_suffix(".test")?;
    let (n, k) = labels.split_once('-')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    k.parse().ok()
}

async fn respond(req: HttpRequest, farm: web::Data<Farm>) -> HttpResponse {
    if !farm.latency.is_zero() {
        tokio::time::sleep(farm.latency).await;
    }
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let page = page_of(host).and_then(|k| farm.pages.get(k));
    match (req.path(), page) {
        ("/robots.txt", Some(_)) => HttpResponse::Ok().content_type("text/plain").body(ROBOTS),
        ("/", Some(body)) => HttpResponse::Ok().content_type("text/html").body(body.clone()),
        _ => HttpResponse::NotFound().content_type("text/html").body("<h1>404</h1>"),
    }
}

/// Reads `page-0.html`, `page-1.html`, ... until the first missing number.
fn load_pages(dir: &Path) -> anyhow::Result<Vec<web::Bytes>> {
    let mut pages = Vec::new();
    loop {
        let path = dir.join(format!("page-{}.html", pages.len()));
        if !path.exists() {
            break;
        }
        pages.push(web::Bytes::from(
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?,
        ));
    }
    anyhow::ensure!(!pages.is_empty(), "no page-0.html in {}", dir.display());
    Ok(pages)
}

/// Serves until killed (or until stdin closes with `--until-stdin-closes`).
pub async fn run(args: FarmArgs) -> anyhow::Result<i32> {
    let farm = web::Data::new(Farm {
        latency: Duration::from_millis(args.latency_ms),
        pages: load_pages(&args.pages)?,
    });
    let listener = TcpListener::bind(("127.0.0.1", args.port)).context("cannot bind the farm's port")?;
    let addr = listener.local_addr()?;
    let server = HttpServer::new(move || App::new().app_data(farm.clone()).default_service(web::to(respond)))
        .workers(1)
        // More than the pipeline's concurrency can ever open at once.
        .backlog(4096)
        .disable_signals()
        .listen(listener)?
        .run();
    println!("{addr}");
    if args.until_stdin_closes {
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            // The parent is gone or done: nothing is worth finishing.
            std::process::exit(0);
        });
    }
    server.await?;
    Ok(0)
}

/// The farm running as a child process; `stop` (or dropping it) kills it.
pub struct FarmChild {
    child: Child,
    /// The farm's `127.0.0.1:port`.
    pub addr: std::net::SocketAddr,
}

impl FarmChild {
    /// Starts `domaind bench-farm` from this executable and waits for its address.
    pub async fn start(latency_ms: u64, pages: &Path) -> anyhow::Result<FarmChild> {
        let exe = std::env::current_exe().context("cannot find the domaind executable")?;
        let mut child = Command::new(exe)
            .arg("bench-farm")
            .arg("--latency-ms")
            .arg(latency_ms.to_string())
            .arg("--pages")
            .arg(pages)
            .arg("--until-stdin-closes")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start the bench farm")?;
        let stdout = child.stdout.take().context("the farm's stdout")?;
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .context("reading the farm's address")?
        .context("reading the farm's address")?;
        let addr = match line.trim().parse() {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("the bench farm did not start (it printed {line:?}; see its error above)");
            }
        };
        Ok(FarmChild { child, addr })
    }

    /// Kills the farm and reaps it.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FarmChild {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_map_to_pages() {
        assert_eq!(page_of("site-12-4.test"), Some(4));
        assert_eq!(page_of("site-12-4.test:18080"), Some(4));
        assert_eq!(page_of("site-x-4.test"), None);
        assert_eq!(page_of("site-1-4.example"), None);
        assert_eq!(page_of("site--4.test"), None);
        assert_eq!(page_of("example.test"), None);
    }
}
