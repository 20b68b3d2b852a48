//! Tests of what a response may cost: the body cap on plain, gzip and brotli bodies (bombs
//! built here, bit by bit), non-HTML refused before the body, read and total timeouts, 429.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::test_server::{fetch, fetch_err, header, http_only, response, Reply, TestServer};
use crate::model::ErrorKind;

#[tokio::test]
async fn a_gzip_body_over_the_cap_after_decompression_is_too_large() {
    let (small, small_len) = gzip_of_repeats(b'<', 10);
    let (bomb, bomb_len) = gzip_of_repeats(b'<', 1000);
    assert!(
        bomb.len() < 10_000 && bomb_len > 10_000,
        "{} compressed, {bomb_len} plain",
        bomb.len()
    );
    let server = TestServer::start(move |head| {
        let body = if header(head, "host") == Some("small.test") {
            small.clone()
        } else {
            bomb.clone()
        };
        response(
            "200 OK",
            &[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
            &body,
        )
    })
    .await;
    let page = fetch(&http_only(server.addr), "small.test")
        .await
        .expect("small gzip page");
    assert_eq!(page.body, vec![b'<'; small_len]);
    let err = fetch_err(&http_only(server.addr), "bomb.test").await;
    assert_eq!(err.kind, ErrorKind::TooLarge);
    assert_eq!(err.message, "the body exceeds the 10000-byte cap (http://bomb.test/)");
    assert!(header(&server.heads()[0], "accept-encoding").is_some_and(|v| v.contains("gzip")));
}

#[tokio::test]
async fn a_brotli_body_over_the_cap_after_decompression_is_too_large() {
    let small = brotli_of_repeats(b'<', 5_000);
    let bomb = brotli_of_repeats(b'<', 1_000_000);
    assert!(bomb.len() < 64, "{} compressed bytes", bomb.len());
    let server = TestServer::start(move |head| {
        let body = if header(head, "host") == Some("small.test") {
            small.clone()
        } else {
            bomb.clone()
        };
        response(
            "200 OK",
            &[("Content-Type", "text/html"), ("Content-Encoding", "br")],
            &body,
        )
    })
    .await;
    let page = fetch(&http_only(server.addr), "small.test")
        .await
        .expect("small brotli page");
    assert_eq!(page.body, vec![b'<'; 5_000]);
    let err = fetch_err(&http_only(server.addr), "bomb.test").await;
    assert_eq!(err.kind, ErrorKind::TooLarge, "{err}");
    assert_eq!(err.message, "the body exceeds the 10000-byte cap (http://bomb.test/)");
    assert!(header(&server.heads()[0], "accept-encoding").is_some_and(|v| v.contains("br")));
}

#[tokio::test]
async fn a_10_mb_body_stops_at_the_cap() {
    let chunk = vec![b'<'; 1 << 20];
    let server = TestServer::start(move |head| {
        let declared = header(head, "host") == Some("declared.test");
        let mut raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n".to_vec();
        if declared {
            raw.extend_from_slice(format!("Content-Length: {}\r\n\r\n", 10 << 20).as_bytes());
        } else {
            raw.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        }
        for _ in 0..10 {
            if !declared {
                raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            }
            raw.extend_from_slice(&chunk);
            if !declared {
                raw.extend_from_slice(b"\r\n");
            }
        }
        raw.extend_from_slice(if declared { b"" } else { b"0\r\n\r\n" });
        Reply::Raw(raw)
    })
    .await;
    let err = fetch_err(&http_only(server.addr), "declared.test").await;
    assert_eq!(err.kind, ErrorKind::TooLarge);
    assert_eq!(
        err.message,
        "Content-Length 10485760 exceeds the 10000-byte cap (http://declared.test/)"
    );
    let err = fetch_err(&http_only(server.addr), "chunked.test").await;
    assert_eq!(err.kind, ErrorKind::TooLarge);
    assert_eq!(
        err.message,
        "the body exceeds the 10000-byte cap (http://chunked.test/)"
    );
}

#[tokio::test]
async fn a_body_arriving_in_small_pieces_never_reserves_past_the_cap() {
    // 400 chunks of 1000 bytes; the cap (300,000) sits just over a power of two (262,144),
    // where doubling would reserve 524,288 bytes.
    let mut raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..400 {
        raw.extend_from_slice(b"3e8\r\n");
        raw.extend_from_slice(&[b'<'; 1000]);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let server = TestServer::start(move |_| Reply::Raw(raw.clone())).await;
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let response = client
        .get(format!("http://{}/", server.addr))
        .send()
        .await
        .expect("response");
    let (body, complete, _) = super::body::read_capped(response, 300_000, Duration::from_secs(5), None)
        .await
        .expect("body");
    assert!(!complete);
    assert_eq!(body.len(), 300_000);
    assert!(body.capacity() <= 300_000, "{} bytes reserved", body.capacity());
}

#[tokio::test]
async fn a_pdf_is_not_html_and_its_body_is_never_downloaded() {
    let closed = Arc::new(AtomicBool::new(false));
    let flag = closed.clone();
    let server = TestServer::start(move |_| Reply::HeadOnly {
        head: b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 5000\r\n\r\n".to_vec(),
        body: vec![b'%'; 5000],
        closed: flag.clone(),
    })
    .await;
    let started = std::time::Instant::now();
    let err = fetch_err(&http_only(server.addr), "pdf.test").await;
    assert_eq!(err.kind, ErrorKind::NotHtml);
    assert_eq!(
        err.message,
        "content type `application/pdf` is not HTML (http://pdf.test/)"
    );
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    // The server waits up to a second for the client to hang up before it sends the body.
    for _ in 0..50 {
        if closed.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closed.load(Ordering::SeqCst), "the client kept listening for the body");
}

fn slow_body(pause: Duration, pieces: usize) -> Reply {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {pieces}\r\n\r\n");
    let mut parts = vec![(Duration::ZERO, head.into_bytes())];
    parts.extend((0..pieces).map(|_| (pause, b"<".to_vec())));
    Reply::Paced(parts)
}

#[tokio::test]
async fn a_stalled_body_hits_the_read_timeout() {
    let server = TestServer::start(|_| slow_body(Duration::from_millis(1500), 2)).await;
    let mut s = http_only(server.addr);
    s.read_timeout_ms = 300;
    let started = std::time::Instant::now();
    let err = fetch_err(&s, "stall.test").await;
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert_eq!(
        err.message,
        "no body data for 300 ms (read timeout) (http://stall.test/)"
    );
    assert!(err.is_transient());
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_trickling_body_hits_the_total_timeout() {
    // Every gap is under the read timeout; the whole body is not.
    let server = TestServer::start(|_| slow_body(Duration::from_millis(100), 30)).await;
    let mut s = http_only(server.addr);
    (s.read_timeout_ms, s.timeout_ms) = (1000, 600);
    let started = std::time::Instant::now();
    let err = fetch_err(&s, "trickle.test").await;
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    // reqwest's per-request deadline (the remaining budget) and ours race; both are the total.
    let total = [
        "timed out (http://trickle.test/)",
        "no complete answer within 600 ms (trickle.test)",
    ];
    assert!(total.contains(&err.message.as_str()), "{}", err.message);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_429_carries_retry_after_and_is_transient() {
    let server = TestServer::start(|_| response("429 Too Many Requests", &[("Retry-After", "120")], b"")).await;
    let err = fetch_err(&http_only(server.addr), "limited.test").await;
    assert_eq!((err.kind, err.http_status), (ErrorKind::HttpStatus, Some(429)));
    assert_eq!(err.retry_after, Some(Duration::from_secs(120)));
    assert!(err.is_transient());
    assert!(!err.allows_scheme_fallback());
}

/// A brotli stream (RFC 7932) of one meta-block whose single command inserts `len` copies of
/// `byte`: every prefix code has one symbol, so each literal costs zero bits.
fn brotli_of_repeats(byte: u8, len: usize) -> Vec<u8> {
    // Insert length codes 16..=23: (extra bits, base).
    let codes = [
        (6, 130),
        (7, 194),
        (8, 322),
        (9, 578),
        (10, 1090),
        (12, 2114),
        (14, 6210),
        (24, 22594),
    ];
    let (offset, &(extra, base)) = codes
        .iter()
        .enumerate()
        .find(|(_, (extra, base))| len >= *base && len < base + (1 << extra))
        .expect("length between 130 and 16 MiB");
    let nibbles = (4..=6).find(|n| len - 1 < 1 << (4 * n)).expect("under 16 MiB");
    let mut bits = BitWriter::default();
    bits.push(0, 1); // WBITS = 16
    bits.push(1, 1); // ISLAST
    bits.push(0, 1); // ISLASTEMPTY
    bits.push(nibbles - 4, 2); // MNIBBLES
    bits.push(u32::try_from(len - 1).expect("small"), 4 * nibbles); // MLEN - 1
    bits.push(0, 3); // one block type each for literals, commands, distances
    bits.push(0, 2 + 4); // NPOSTFIX, NDIRECT
    bits.push(0, 2); // context mode of the literal block type
    bits.push(0, 2); // one literal tree, one distance tree
    let simple = |bits: &mut BitWriter, symbol: u32, alphabet_bits: u32| {
        bits.push(1, 2); // HSKIP = 1: a simple prefix code
        bits.push(0, 2); // NSYM - 1 = 0
        bits.push(symbol, alphabet_bits);
    };
    simple(&mut bits, u32::from(byte), 8);
    let command = 448 + (u32::try_from(offset).expect("small") << 3); // insert code 16+offset, copy code 0
    simple(&mut bits, command, 10);
    simple(&mut bits, 0, 6);
    bits.push(u32::try_from(len - base).expect("small"), extra); // insert extra bits; no copy
    bits.finish()
}

/// A gzip member whose deflate stream (fixed Huffman codes) is `byte` followed by `pairs`
/// copies of <length 258, distance 1>; returns it and the decompressed length.
fn gzip_of_repeats(byte: u8, pairs: usize) -> (Vec<u8>, usize) {
    assert!(byte <= 143, "literal needs an 8-bit fixed code");
    let mut bits = BitWriter::default();
    bits.push(1, 1); // BFINAL
    bits.push(1, 2); // BTYPE = fixed Huffman
    bits.push_code(0x30 + u32::from(byte), 8);
    for _ in 0..pairs {
        bits.push_code(0xC5, 8); // length code 285 = 258
        bits.push_code(0, 5); // distance code 0 = 1
    }
    bits.push_code(0, 7); // end of block
    let plain_len = 1 + 258 * pairs;
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(bits.finish());
    out.extend(crc32(&vec![byte; plain_len]).to_le_bytes());
    out.extend(u32::try_from(plain_len).expect("small").to_le_bytes());
    (out, plain_len)
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u32,
    len: u32,
}

impl BitWriter {
    fn push(&mut self, value: u32, bits: u32) {
        self.acc |= value << self.len;
        self.len += bits;
        while self.len >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.len -= 8;
        }
    }

    /// Huffman codes go most-significant bit first.
    fn push_code(&mut self, code: u32, bits: u32) {
        self.push(code.reverse_bits() >> (32 - bits), bits);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.len > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
