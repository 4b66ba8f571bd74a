//! A scenario file's bytes to text: bounded in size, UTF-8 only, with the place of the first
//! byte that is not UTF-8 and the name of the encoding when the file is UTF-16.

use std::io::Read;
use std::path::Path;

use crate::error::{LoadError, line_col};

/// The largest scenario file read, in bytes (the catalog's largest is under 20 KiB).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads at most [`MAX_FILE_BYTES`] (plus one, to tell a longer file) from `path`.
pub fn read(path: &Path, label: &str) -> Result<String, LoadError> {
    let file = std::fs::File::open(path)
        .map_err(|e| LoadError::whole_file(label, format!("cannot read: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LoadError::whole_file(label, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::whole_file(
            label,
            format!(
                "larger than {} MiB: a scenario file is a short text",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    decode(label, bytes)
}

/// UTF-8 text, or an error that says where it stops being UTF-8.
pub fn decode(label: &str, bytes: Vec<u8>) -> Result<String, LoadError> {
    if let Some(encoding) = utf16(&bytes) {
        return Err(LoadError::new(
            label,
            1,
            1,
            format!("the file is {encoding}; scenario files are UTF-8: save it as UTF-8"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let offset = e.utf8_error().valid_up_to();
        let before = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
        let (line, col) = line_col(before, offset);
        LoadError::new(
            label,
            line,
            col,
            format!(
                "byte 0x{:02X} at offset {offset} is not UTF-8; scenario files are UTF-8 text",
                bytes.get(offset).copied().unwrap_or_default()
            ),
        )
    })
}

/// UTF-16 by its byte-order mark, or by the zero bytes ASCII leaves in every other place.
fn utf16(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xFE, ..] => return Some("UTF-16 (little-endian, with a byte-order mark)"),
        [0xFE, 0xFF, ..] => return Some("UTF-16 (big-endian, with a byte-order mark)"),
        _ => {}
    }
    let head = &bytes[..bytes.len().min(64) & !1];
    if head.len() < 4 {
        return None;
    }
    let zeros_at = |parity: usize| {
        head.iter()
            .enumerate()
            .filter(|(i, b)| i % 2 == parity && **b == 0)
            .count()
    };
    let pairs = head.len() / 2;
    if zeros_at(1) == pairs && zeros_at(0) == 0 {
        Some("UTF-16 (little-endian)")
    } else if zeros_at(0) == pairs && zeros_at(1) == 0 {
        Some("UTF-16 (big-endian)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn utf16_is_named() {
        let mut with_bom = vec![0xFF, 0xFE];
        with_bom.extend(utf16le("mxlab = 1\n"));
        let e = decode("f", with_bom).unwrap_err();
        assert!(e.message.contains("UTF-16 (little-endian, with"), "{e}");
        let e = decode("f", utf16le("mxlab = 1\ntitle = \"x\"\n")).unwrap_err();
        assert!(e.message.contains("UTF-16 (little-endian)"), "{e}");
        assert_eq!((e.line, e.col), (1, 1));
    }

    #[test]
    fn the_first_bad_byte_has_a_place() {
        let e = decode("f", b"a = 1\ntitle = \"caf\xE9\"\n".to_vec()).unwrap_err();
        assert_eq!((e.line, e.col), (2, 13), "{e}");
        assert!(e.message.contains("byte 0xE9 at offset 18"), "{e}");
        assert_eq!(decode("f", b"a = 1\n".to_vec()).unwrap(), "a = 1\n");
    }
}
