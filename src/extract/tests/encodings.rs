//! Legacy encodings end to end: what the title decodes to and which charset is reported.

use super::support::run_with;

#[test]
fn windows_1252_without_any_declaration() {
    let html = b"<html><head><title>Caf\xE9 \x96 cr\xE8me br\xFBl\xE9e</title></head></html>";
    let meta = run_with(html, Some("text/html"));
    assert_eq!(meta.title.as_deref(), Some("Café – crème brûlée"));
    assert_eq!(meta.charset.as_deref(), Some("windows-1252"));
}

#[test]
fn windows_1252_with_a_wrong_utf8_declaration() {
    let html =
        b"<html><head><meta charset=\"utf-8\"><title>Boulangerie Lef\xE8vre \x96 P\xE2tisserie</title></head></html>";
    let meta = run_with(html, Some("text/html; charset=UTF-8"));
    assert_eq!(meta.title.as_deref(), Some("Boulangerie Lefèvre – Pâtisserie"));
    assert_eq!(meta.charset.as_deref(), Some("windows-1252"));
}

#[test]
fn shift_jis_declared_by_meta() {
    let (body, _, _) = encoding_rs::SHIFT_JIS
        .encode("<html><head><meta charset=\"Shift_JIS\"><title>みなと新聞｜ニュース</title></head></html>");
    let meta = run_with(&body, None);
    assert_eq!(meta.title.as_deref(), Some("みなと新聞｜ニュース"));
    assert_eq!(meta.charset.as_deref(), Some("shift_jis"));
}

#[test]
fn utf8_bytes_with_a_wrong_latin1_declaration() {
    let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><title>Ausrüstung für draußen</title></head></html>";
    let meta = run_with(html.as_bytes(), Some("text/html; charset=ISO-8859-1"));
    assert_eq!(meta.title.as_deref(), Some("Ausrüstung für draußen"));
    assert_eq!(meta.charset.as_deref(), Some("utf-8"));
}

#[test]
fn meta_charset_after_the_first_1024_bytes() {
    let filler = format!("<meta name=\"keywords\" content=\"{}\">", "x".repeat(2000));
    let head = format!("<html><head>{filler}<meta charset=\"koi8-r\"><title>");
    let (title, _, _) = encoding_rs::KOI8_R.encode("Привет, мир");
    let mut html = head.into_bytes();
    html.extend_from_slice(&title);
    html.extend_from_slice(b"</title></head></html>");
    let meta = run_with(&html, None);
    assert_eq!(meta.title.as_deref(), Some("Привет, мир"));
    assert_eq!(meta.charset.as_deref(), Some("koi8-r"));
}

#[test]
fn header_charset_beats_meta_and_bom_beats_header() {
    let html = b"<html><head><meta charset=\"koi8-r\"><title>Caf\xE9</title></head></html>";
    assert_eq!(
        run_with(html, Some("text/html; charset=windows-1252")).title.as_deref(),
        Some("Café")
    );
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice("<title>Café</title>".as_bytes());
    let meta = run_with(&bom, Some("text/html; charset=koi8-r"));
    assert_eq!(
        (meta.title.as_deref(), meta.charset.as_deref()),
        (Some("Café"), Some("utf-8"))
    );
}
