//! Reads one file out of an in-memory zip archive (stored or deflated entries, no zip64): just
//! enough to take Swagger UI's files out of the archive `utoipa-swagger-ui-vendored` ships, so
//! no zip crate and no build script is needed. The entry's size and CRC-32 are checked.

use std::fmt;

/// Why a file could not be read from the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipError(String);

impl fmt::Display for ZipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zip archive: {}", self.0)
    }
}

impl std::error::Error for ZipError {}

const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
const CENTRAL_DIRECTORY_ENTRY: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;
/// Largest file this reader inflates (Swagger UI's largest is under 2 MB).
const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

fn u16_at(bytes: &[u8], at: usize) -> Result<usize, ZipError> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
        .ok_or_else(|| ZipError(format!("truncated at byte {at}")))
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, ZipError> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| ZipError(format!("truncated at byte {at}")))
}

/// The contents of the first file whose path ends with `suffix`, or `Ok(None)` when no entry
/// matches.
pub fn read_file(archive: &[u8], suffix: &str) -> Result<Option<Vec<u8>>, ZipError> {
    // The end record is the last 22 bytes plus a comment of at most 64 KiB.
    let search_from = archive.len().saturating_sub(22 + u16::MAX as usize);
    let end = (search_from..archive.len().saturating_sub(21))
        .rev()
        .find(|&at| u32_at(archive, at) == Ok(END_OF_CENTRAL_DIRECTORY))
        .ok_or_else(|| ZipError("no end of central directory record".into()))?;
    let entries = u16_at(archive, end + 10)?;
    let mut at = u32_at(archive, end + 16)? as usize;
    for _ in 0..entries {
        if u32_at(archive, at)? != CENTRAL_DIRECTORY_ENTRY {
            return Err(ZipError(format!("no central directory entry at byte {at}")));
        }
        let method = u16_at(archive, at + 10)?;
        let crc = u32_at(archive, at + 16)?;
        let compressed = u32_at(archive, at + 20)? as usize;
        let size = u32_at(archive, at + 24)? as usize;
        let name_len = u16_at(archive, at + 28)?;
        let extra_len = u16_at(archive, at + 30)?;
        let comment_len = u16_at(archive, at + 32)?;
        let local = u32_at(archive, at + 42)? as usize;
        let name = archive
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| ZipError("truncated file name".into()))?;
        at += 46 + name_len + extra_len + comment_len;
        if !name.ends_with(suffix.as_bytes()) {
            continue;
        }
        if u32_at(archive, local)? != LOCAL_HEADER {
            return Err(ZipError(format!("no local header at byte {local}")));
        }
        let start = local + 30 + u16_at(archive, local + 26)? + u16_at(archive, local + 28)?;
        let data = archive
            .get(start..start + compressed)
            .ok_or_else(|| ZipError("truncated file data".into()))?;
        let contents = match method {
            0 => data.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(data, MAX_FILE_BYTES)
                .map_err(|e| ZipError(format!("cannot inflate {suffix}: {e}")))?,
            other => return Err(ZipError(format!("{suffix}: unsupported compression method {other}"))),
        };
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&contents);
        if contents.len() != size || hasher.finalize() != crc {
            return Err(ZipError(format!("{suffix}: size or CRC-32 does not match")));
        }
        return Ok(Some(contents));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive with `a.txt` stored and `dir/b.txt` deflated, as `zip` would write them.
    fn archive() -> Vec<u8> {
        let files: [(&str, &[u8], bool); 2] = [
            ("a.txt", b"stored text", false),
            ("dir/b.txt", b"deflated deflated deflated text", true),
        ];
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, contents, deflate) in files {
            let data = if deflate {
                miniz_oxide::deflate::compress_to_vec(contents, 6)
            } else {
                contents.to_vec()
            };
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(contents);
            let crc = hasher.finalize();
            let method: u16 = if deflate { 8 } else { 0 };
            let offset = out.len() as u32;
            out.extend(LOCAL_HEADER.to_le_bytes());
            out.extend([20, 0, 0, 0]);
            out.extend(method.to_le_bytes());
            out.extend([0; 4]);
            out.extend(crc.to_le_bytes());
            out.extend((data.len() as u32).to_le_bytes());
            out.extend((contents.len() as u32).to_le_bytes());
            out.extend((name.len() as u16).to_le_bytes());
            out.extend([0, 0]);
            out.extend(name.as_bytes());
            out.extend(&data);
            central.extend(CENTRAL_DIRECTORY_ENTRY.to_le_bytes());
            central.extend([20, 0, 20, 0, 0, 0]);
            central.extend(method.to_le_bytes());
            central.extend([0; 4]);
            central.extend(crc.to_le_bytes());
            central.extend((data.len() as u32).to_le_bytes());
            central.extend((contents.len() as u32).to_le_bytes());
            central.extend((name.len() as u16).to_le_bytes());
            central.extend([0; 12]);
            central.extend(offset.to_le_bytes());
            central.extend(name.as_bytes());
        }
        let central_at = out.len() as u32;
        let central_len = central.len() as u32;
        out.extend(central);
        out.extend(END_OF_CENTRAL_DIRECTORY.to_le_bytes());
        out.extend([0; 4]);
        out.extend(2u16.to_le_bytes());
        out.extend(2u16.to_le_bytes());
        out.extend(central_len.to_le_bytes());
        out.extend(central_at.to_le_bytes());
        out.extend([0, 0]);
        out
    }

    #[test]
    fn reads_stored_and_deflated_entries_by_suffix() {
        let zip = archive();
        assert_eq!(
            read_file(&zip, "/b.txt").unwrap().unwrap(),
            b"deflated deflated deflated text"
        );
        assert_eq!(read_file(&zip, "a.txt").unwrap().unwrap(), b"stored text");
        assert_eq!(read_file(&zip, "c.txt").unwrap(), None);
    }

    #[test]
    fn damaged_archives_are_errors_not_panics() {
        let zip = archive();
        assert!(read_file(&zip[..zip.len() - 30], "a.txt").is_err());
        assert!(read_file(b"not a zip", "a.txt").is_err());
        let mut flipped = zip.clone();
        flipped[35] ^= 0xff; // a byte of the stored file's contents
        assert!(read_file(&flipped, "a.txt").unwrap_err().to_string().contains("CRC"));
    }

    #[test]
    fn the_vendored_swagger_ui_has_the_files_docs_serves() {
        for file in ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"] {
            let bytes = read_file(
                utoipa_swagger_ui_vendored::SWAGGER_UI_VENDORED,
                &format!("/dist/{file}"),
            )
            .unwrap()
            .unwrap_or_else(|| panic!("{file} missing"));
            assert!(bytes.len() > 100, "{file}");
        }
    }
}
