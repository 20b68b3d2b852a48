//! The bodies of the hostile web (`hostile_web.rs`), built cheaply: compression bombs that
//! decompress to over a gigabyte from a few megabytes (gzip, streamed as one repeated deflate
//! block) or under a kilobyte (brotli), normal gzip and brotli pages as controls, pathological
//! nesting and attributes, and pages with invalid bytes in every legacy encoding we decode.

/// Bytes one bomb decompresses to at least (1 GiB).
pub const BOMB_BYTES: u64 = 1 << 30;

/// A gzip member whose deflate stream decompresses to over [`BOMB_BYTES`] spaces, as the parts
/// to send in order: the header and first block, `repeat` copies of one middle block (each
/// 13 KB that inflates to 2 MB), and the final block with the trailer.
pub struct GzipBomb {
    /// Gzip header and the first (non-final) deflate block.
    pub first: Vec<u8>,
    /// A non-final, byte-aligned deflate block sent `repeat` times.
    pub middle: Vec<u8>,
    /// How many times `middle` is sent.
    pub repeat: usize,
    /// The final (empty) block, CRC-32 and length.
    pub tail: Vec<u8>,
    /// Decompressed length of the whole member.
    pub plain_len: u64,
}

/// Pairs <length 258, distance 1> per deflate block: 3 header bits + 13 per pair + 7 for the end
/// of block (+ 8 for the first block's literal) is a whole number of bytes when pairs ≡ 6 mod 8,
/// so blocks can be concatenated as bytes.
const PAIRS_PER_BLOCK: usize = 8 * 1000 + 6;

impl GzipBomb {
    /// Builds the bomb (about 7 MB on the wire).
    pub fn new() -> GzipBomb {
        let block_plain = 258 * PAIRS_PER_BLOCK as u64;
        let repeat = usize::try_from(BOMB_BYTES.div_ceil(block_plain)).expect("small");
        let mut first = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        first.extend(deflate_block(true, PAIRS_PER_BLOCK));
        let middle = deflate_block(false, PAIRS_PER_BLOCK);
        let plain_len = 1 + block_plain * (1 + repeat as u64);
        // CRC-32 of `plain_len` spaces, combined from the CRC of one block's output.
        let mut crc = crc32fast::Hasher::new();
        crc.update(&vec![b' '; 1 + block_plain as usize]);
        let mut block_crc = crc32fast::Hasher::new();
        block_crc.update(&vec![b' '; block_plain as usize]);
        for _ in 0..repeat {
            crc.combine(&block_crc);
        }
        let mut bits = BitWriter::default();
        bits.push(1, 1); // BFINAL
        bits.push(1, 2); // fixed Huffman codes
        bits.push_code(0, 7); // end of block
        let mut tail = bits.finish();
        tail.extend(crc.finalize().to_le_bytes());
        tail.extend((plain_len as u32).to_le_bytes()); // ISIZE is the length mod 2^32
        GzipBomb {
            first,
            middle,
            repeat,
            tail,
            plain_len,
        }
    }
}

/// A non-final fixed-Huffman deflate block of `pairs` copies of <258, distance 1>, preceded by a
/// literal space when `first`; asserts it ends on a byte boundary.
fn deflate_block(first: bool, pairs: usize) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.push(0, 1); // not BFINAL
    bits.push(1, 2); // fixed Huffman codes
    if first {
        bits.push_code(0x30 + u32::from(b' '), 8);
    }
    for _ in 0..pairs {
        bits.push_code(0xC5, 8); // length code 285 = 258
        bits.push_code(0, 5); // distance code 0 = 1
    }
    bits.push_code(0, 7); // end of block
    assert_eq!(bits.len, 0, "the block must end on a byte boundary");
    bits.finish()
}

/// A brotli stream of 64 meta-blocks of 16 MiB spaces each (1 GiB) in well under a kilobyte:
/// each meta-block is one insert command whose prefix codes have a single symbol, so every
/// literal costs zero bits (RFC 7932).
pub fn brotli_bomb() -> Vec<u8> {
    const MLEN: u32 = 1 << 24;
    const INSERT_BASE: u32 = 22594; // insert length code 23: base 22594, 24 extra bits
    let meta_blocks = BOMB_BYTES / u64::from(MLEN);
    let mut bits = BitWriter::default();
    bits.push(0, 1); // WBITS = 16
    for _ in 0..meta_blocks {
        bits.push(0, 1); // ISLAST = 0
        bits.push(2, 2); // MNIBBLES = 6
        bits.push(MLEN - 1, 24);
        bits.push(0, 1); // ISUNCOMPRESSED = 0
        bits.push(0, 3); // one block type each for literals, commands, distances
        bits.push(0, 2 + 4); // NPOSTFIX, NDIRECT
        bits.push(0, 2); // context mode of the literal block type
        bits.push(0, 2); // one literal tree, one distance tree
        simple_prefix_code(&mut bits, u32::from(b' '), 8);
        simple_prefix_code(&mut bits, 448 + (7 << 3), 10); // insert code 23, copy code 0
        simple_prefix_code(&mut bits, 0, 6);
        bits.push(MLEN - INSERT_BASE, 24);
    }
    bits.push(1, 1); // ISLAST
    bits.push(1, 1); // ISLASTEMPTY
    bits.finish()
}

fn simple_prefix_code(bits: &mut BitWriter, symbol: u32, alphabet_bits: u32) {
    bits.push(1, 2); // HSKIP = 1: a simple prefix code
    bits.push(0, 2); // NSYM - 1 = 0
    bits.push(symbol, alphabet_bits);
}

/// `plain` as a brotli stream of one uncompressed meta-block (a normal brotli page).
pub fn brotli_stored(plain: &[u8]) -> Vec<u8> {
    assert!(!plain.is_empty() && plain.len() <= 1 << 16);
    let mut bits = BitWriter::default();
    bits.push(0, 1); // WBITS = 16
    bits.push(0, 1); // ISLAST = 0
    bits.push(0, 2); // MNIBBLES = 4
    bits.push(u32::try_from(plain.len() - 1).expect("small"), 16);
    bits.push(1, 1); // ISUNCOMPRESSED
    let mut out = bits.finish(); // the raw bytes start on a byte boundary
    out.extend_from_slice(plain);
    out.push(0b11); // ISLAST, ISLASTEMPTY
    out
}

/// `plain` as a gzip member (a normal gzip page).
pub fn gzip(plain: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(miniz_oxide::deflate::compress_to_vec(plain, 6));
    out.extend(crc32fast::hash(plain).to_le_bytes());
    out.extend((plain.len() as u32).to_le_bytes());
    out
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    len: u32,
}

impl BitWriter {
    fn push(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.len;
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

/// A plain page: the control that must come out with its title.
pub fn control(title: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"description\" content=\"A well-behaved page.\"></head><body><h1>Hi</h1></body></html>"
    )
}

/// 200,000 nested `<div>` in the body, with a 60,000-deep JSON-LD array beside them.
pub fn deep_body() -> Vec<u8> {
    let mut page = String::from("<html><head><title>Deep body</title>");
    page.push_str("<script type=\"application/ld+json\">");
    page.push_str(&"[".repeat(60_000));
    page.push_str("</script></head><body>");
    page.push_str(&"<div>".repeat(200_000));
    page.push_str("deep");
    page.push_str(&"</div>".repeat(200_000));
    page.push_str("</body></html>");
    page.into_bytes()
}

/// 200,000 nested `<div>` inside `<head>`, after the title and before a description.
pub fn deep_head() -> Vec<u8> {
    let mut page = String::from("<html><head><title>Deep head</title>");
    page.push_str(&"<div>".repeat(200_000));
    page.push_str("<meta name=\"description\" content=\"below the abyss\"></head><body></body></html>");
    page.into_bytes()
}

/// A head `<meta>` whose `content` is one 1 MiB attribute value.
pub fn huge_attribute() -> Vec<u8> {
    let mut page = String::from("<html><head><title>Attribute</title><meta name=\"description\" content=\"");
    page.push_str(&"hostile ".repeat(1 << 17));
    page.push_str("\"></head><body></body></html>");
    page.into_bytes()
}

/// `<meta charset="x-klingon">`: an unknown label; the bytes are windows-1252 ("Café").
pub fn unknown_charset() -> Vec<u8> {
    let mut page = b"<html><head><meta charset=\"x-klingon\"><title>Caf".to_vec();
    page.extend_from_slice(b"\xE9 Klingon</title></head><body></body></html>");
    page
}

/// Under the body cap: twenty 30 KB JSON-LD blocks (only 16 are read, 64 KiB stored) and then
/// one 3 MB block that runs past the extractor's input cap.
pub fn jsonld_under_cap() -> Vec<u8> {
    let mut page = String::from("<html><head><title>JSON-LD flood</title>");
    for i in 0..20 {
        let text = "lorem ipsum ".repeat(2_500);
        page.push_str(&format!(
            "<script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\
             \"@type\":\"Organization\",\"name\":\"Org {i}\",\"description\":\"{text}\"}}</script>"
        ));
    }
    page.push_str("<script type=\"application/ld+json\">[");
    page.push_str(&"{\"@type\":\"Thing\",\"name\":\"x\"},".repeat(100_000));
    page.push_str("{}]</script></head><body></body></html>");
    page.into_bytes()
}

/// One page per legacy encoding with invalid byte sequences in its title.
pub struct BadBytes {
    /// Host label after `badbytes-`.
    pub slug: &'static str,
    /// The declared label.
    pub label: &'static str,
    /// Declared in the Content-Type header (else in `<meta charset>`).
    pub in_header: bool,
    /// The bytes put into the title after `Bad <slug> `.
    pub bytes: &'static [u8],
    /// Whether those bytes hold a sequence the encoding cannot decode (checked against
    /// encoding_rs when the page is built, so the fixture is as hostile as it claims).
    pub invalid: bool,
    /// The charset `metadata.charset` must report.
    pub expect_charset: &'static str,
}

/// Every encoding the extractor decodes by declaration, each with bytes it rejects where it
/// has any (the single-byte windows-1252 and koi8-r map every byte).
pub const BAD_BYTES: [BadBytes; 15] = [
    bad(
        "utf8",
        "utf-8",
        true,
        b"caf\xC3\xA9 \xC3\xBC\xC3\xB6 \xE2\x82\xAC \xFF\xC3(",
        true,
        "utf-8",
    ),
    bad(
        "win1252",
        "windows-1252",
        false,
        b"\x81\x8D\x8F\x90\x9D caf\xE9",
        false,
        "windows-1252",
    ),
    bad("latin1", "iso-8859-1", true, b"\x80\xFF caf\xE9", false, "windows-1252"),
    bad("latin3", "iso-8859-3", false, b"\xA5\xAE caf\xE9", true, "iso-8859-3"),
    bad(
        "greek",
        "iso-8859-7",
        true,
        b"\xAE\xD2\xFF \xE1\xE2",
        true,
        "iso-8859-7",
    ),
    bad(
        "hebrew",
        "iso-8859-8",
        false,
        b"\xA1\xC0\xFB \xE0\xE1",
        true,
        "iso-8859-8",
    ),
    bad(
        "win1253",
        "windows-1253",
        true,
        b"\xAA\xD2\xFF \xE1",
        true,
        "windows-1253",
    ),
    bad("koi8r", "koi8-r", false, b"\xC1\xC2\xFF", false, "koi8-r"),
    bad(
        "sjis",
        "shift_jis",
        true,
        b"\x82\xA0\x81\x20\xFF\xA0",
        true,
        "shift_jis",
    ),
    bad("eucjp", "euc-jp", false, b"\xA4\xA2\xA1\x20\xFF", true, "euc-jp"),
    bad(
        "iso2022jp",
        "iso-2022-jp",
        true,
        b"\x1B$B$\"\x1B(B \x1B(Z\xFF",
        true,
        "iso-2022-jp",
    ),
    bad("gbk", "gbk", false, b"\xC4\xE3\x81\x20\xFF", true, "gbk"),
    bad(
        "gb18030",
        "gb18030",
        true,
        b"\xC4\xE3\x81\x30\x81\x20\xFF",
        true,
        "gb18030",
    ),
    bad("big5", "big5", false, b"\xA4\x40\x81\x20\xFF", true, "big5"),
    bad("euckr", "euc-kr", true, b"\xB0\xA1\x81\x20\xFF", true, "euc-kr"),
];

const fn bad(
    slug: &'static str,
    label: &'static str,
    in_header: bool,
    bytes: &'static [u8],
    invalid: bool,
    expect_charset: &'static str,
) -> BadBytes {
    BadBytes {
        slug,
        label,
        in_header,
        bytes,
        invalid,
        expect_charset,
    }
}

impl BadBytes {
    /// The page body and its Content-Type.
    pub fn page(&self) -> (Vec<u8>, String) {
        let encoding = encoding_rs::Encoding::for_label(self.label.as_bytes()).expect("a known label");
        let (_, had_errors) = encoding.decode_without_bom_handling(self.bytes);
        assert_eq!(had_errors, self.invalid, "{}: invalid bytes as declared", self.slug);
        let meta = if self.in_header {
            String::new()
        } else {
            format!("<meta charset=\"{}\">", self.label)
        };
        let mut page = format!("<html><head>{meta}<title>Bad {} ", self.slug).into_bytes();
        page.extend_from_slice(self.bytes);
        page.extend_from_slice(b" end</title></head><body><p>x</p></body></html>");
        let content_type = if self.in_header {
            format!("text/html; charset={}", self.label)
        } else {
            "text/html".to_string()
        };
        (page, content_type)
    }
}

/// A UTF-16LE page (declared in the header) with a lone surrogate in its title.
pub fn utf16_lone_surrogate() -> Vec<u8> {
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let mut page = utf16("<html><head><title>Bad utf16le ");
    page.extend_from_slice(&[0x00, 0xD8]); // U+D800 with no low surrogate after it
    page.extend(utf16(" end</title></head><body></body></html>"));
    page
}
