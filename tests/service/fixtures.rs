//! The fixture web: a real actix-web HTTP server on 127.0.0.1 that answers by Host header, so
//! every `*.test` name maps (through `fetch.resolve_override`) to one behaviour:
//! `alpha-*`, `bravo-*`, `charlie-*` serve the three pages below; `notfound-*` 404;
//! `big-*` a 300 kB page; `trickle-*` a 300 kB page sent over 3 s; `toip-*` redirect to a loopback IP literal; `slow-*` answer after
//! 1.8 s; `pdf-*` a PDF; `flaky-*` 503 + `Retry-After: 1` once per host, then the Alpha page;
//! `etag-*` answers 304 to `If-None-Match: "v1"`; `fading-*` serves Alpha once, then 404.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// A UTF-8 page with Open Graph, Twitter, canonical, icon and generator tags.
pub const ALPHA: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Alpha Home</title>
<meta name="description" content="Alpha makes widgets.">
<meta property="og:title" content="Alpha &amp; Sons — Widgets">
<meta property="og:site_name" content="Alpha">
<meta property="og:image" content="/img/og.png">
<meta name="twitter:card" content="summary">
<link rel="canonical" href="https://alpha.example/">
<link rel="icon" href="/favicon-32.png" sizes="32x32">
<meta name="generator" content="Hugo 0.120">
</head><body><h1>Alpha</h1></body></html>"#;

/// A windows-1252 page whose charset only the HTTP header declares ("Café Bravo").
pub fn bravo_bytes() -> Vec<u8> {
    let mut page = b"<html><head><title>Caf".to_vec();
    page.push(0xE9);
    page.extend_from_slice(b" Bravo</title></head><body><p>x</p></body></html>");
    page
}

/// A page without Open Graph: twitter:title beats `<title>`, no icon link.
pub const CHARLIE: &str = r#"<html lang="de"><head><title>Charlie Seite</title>
<meta name="twitter:title" content="Charlie auf Twitter">
<meta name="description" content="  Viele
   Leerzeichen  ">
</head><body></body></html>"#;

static FLAKY_SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

static FADING_SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Where `ssrf<k>-*` hosts redirect (`{trap}` = the trap listener's port): loopback and
/// metadata addresses in every spelling a URL parser accepts.
pub const SSRF_TARGETS: [&str; 8] = [
    "http://127.0.0.1:{trap}/",
    "http://2130706433:{trap}/",
    "http://0x7f000001:{trap}/",
    "http://0177.0.0.1:{trap}/",
    "http://[::1]:{trap}/",
    "http://[::ffff:127.0.0.1]:{trap}/",
    "http://localhost:{trap}/",
    "http://169.254.169.254/latest/meta-data/",
];

/// A running fixture server.
pub struct Fixture {
    /// Port of the fixture server.
    pub port: u16,
    /// A loopback listener that only counts connections: nothing may ever reach it.
    pub trap_port: u16,
    /// Connections the trap accepted.
    pub trap_hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// A port nothing listens on (connection refused).
    pub closed_port: u16,
    handle: actix_web::dev::ServerHandle,
}

impl Fixture {
    /// Stops the server.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

async fn respond(req: HttpRequest) -> HttpResponse {
    let host = req.connection_info().host().split(':').next().unwrap_or("").to_string();
    let port = req.app_data::<web::Data<u16>>().map(|p| *p.get_ref()).unwrap_or(0);
    let trap = req.app_data::<web::Data<Trap>>().map(|t| t.0).unwrap_or(0);
    if let Some(k) = host
        .strip_prefix("ssrf")
        .and_then(|r| r.split('-').next())
        .and_then(|k| k.parse::<usize>().ok())
    {
        let target = SSRF_TARGETS
            .get(k)
            .copied()
            .unwrap_or("http://127.0.0.1/")
            .replace("{trap}", &trap.to_string());
        return HttpResponse::Found().insert_header(("Location", target)).finish();
    }
    if req.path() == "/robots.txt" {
        return HttpResponse::NotFound().finish();
    }
    let html = |body: Vec<u8>| HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body);
    match host.split(['-', '.']).next().unwrap_or("") {
        "alpha" => html(ALPHA.as_bytes().to_vec()),
        "bravo" => HttpResponse::Ok()
            .content_type("text/html; charset=windows-1252")
            .body(bravo_bytes()),
        "charlie" => html(CHARLIE.as_bytes().to_vec()),
        "notfound" => HttpResponse::NotFound().content_type("text/html").body("<h1>nope</h1>"),
        "big" => html(
            format!(
                "<html><head><title>big</title></head><body>{}</body></html>",
                "x".repeat(300_000)
            )
            .into_bytes(),
        ),
        "toip" => HttpResponse::Found()
            .insert_header(("Location", format!("http://127.0.0.1:{port}/")))
            .finish(),
        "slow" => {
            tokio::time::sleep(Duration::from_millis(1800)).await;
            html(ALPHA.as_bytes().to_vec())
        }
        "pdf" => HttpResponse::Ok().content_type("application/pdf").body("%PDF-1.4"),
        // 300 kB (Content-Length declared) in 30 chunks of 10 kB, one every 100 ms: 3 s in all.
        "trickle" => {
            let chunks = futures_util::stream::unfold(0u32, |i| async move {
                if i == 30 {
                    return None;
                }
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let mut chunk = if i == 0 {
                    b"<html><head><title>trickle</title></head><body>".to_vec()
                } else {
                    Vec::new()
                };
                chunk.resize(10_000, b'x');
                Some((Ok::<_, std::convert::Infallible>(web::Bytes::from(chunk)), i + 1))
            });
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .no_chunking(300_000)
                .streaming(chunks)
        }
        // ETag "v1": a conditional request presenting it gets 304.
        "etag" => {
            if req.headers().get("if-none-match").and_then(|v| v.to_str().ok()) == Some("\"v1\"") {
                HttpResponse::NotModified().insert_header(("ETag", "\"v1\"")).finish()
            } else {
                HttpResponse::Ok()
                    .content_type("text/html; charset=utf-8")
                    .insert_header(("ETag", "\"v1\""))
                    .insert_header(("Last-Modified", "Mon, 02 Nov 2026 10:00:00 GMT"))
                    .body(ALPHA)
            }
        }
        // The Alpha page on the first request for a host, 404 afterwards.
        "fading" => {
            let first = FADING_SEEN
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(host.clone());
            if first {
                html(ALPHA.as_bytes().to_vec())
            } else {
                HttpResponse::NotFound().body("gone")
            }
        }
        // 503 with Retry-After: 1 on the first request for a host, the Alpha page afterwards.
        "flaky" => {
            let first = FLAKY_SEEN
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(host.clone());
            if first {
                HttpResponse::ServiceUnavailable()
                    .insert_header(("Retry-After", "1"))
                    .body("busy")
            } else {
                html(ALPHA.as_bytes().to_vec())
            }
        }
        _ => HttpResponse::NotFound().body("unknown fixture host"),
    }
}

/// The trap listener's port, for the request handler.
#[derive(Clone, Copy)]
struct Trap(u16);

/// Starts the fixture server on a free loopback port.
pub fn start() -> Fixture {
    start_on(0)
}

/// Starts the fixture server on `port` (0: a free one); a stopped fixture's port can be
/// reused, which brings "the same site" back.
pub fn start_on(port: u16) -> Fixture {
    let trap = std::net::TcpListener::bind("127.0.0.1:0").expect("bind trap");
    let trap_port = trap.local_addr().expect("trap addr").port();
    let trap_hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let hits = trap_hits.clone();
    std::thread::spawn(move || {
        for conn in trap.incoming() {
            hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(conn);
        }
    });
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind fixture");
    let port = listener.local_addr().expect("fixture addr").port();
    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind closed");
        l.local_addr().expect("closed addr").port()
    };
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(port))
            .app_data(web::Data::new(Trap(trap_port)))
            .default_service(web::to(respond))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("listen fixture")
    .run();
    let handle = server.handle();
    actix_rt::spawn(server);
    Fixture {
        port,
        trap_port,
        trap_hits,
        closed_port,
        handle,
    }
}
