//! RFC 2047 encoded words for header text that is not ASCII (a Japanese notice's Subject):
//! `=?UTF-8?B?…?=`, each word at most 75 characters and never splitting a character, joined
//! by folding whitespace. Written here rather than taken from a crate: it is a few lines, and
//! the notices are composed by hand for byte-for-byte control (`dsn.rs`).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The most UTF-8 octets in one word: 45 octets are 60 base64 characters, and with
/// `=?UTF-8?B?` and `?=` the word is 72, under RFC 2047's 75.
const OCTETS_PER_WORD: usize = 45;

/// `text` as it may stand in an unstructured header: itself when it is ASCII, else encoded
/// words separated by CRLF and a space (a folded header line).
pub fn header_text(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > OCTETS_PER_WORD {
            words.push(word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(word(&chunk));
    }
    words.join("\r\n ")
}

fn word(chunk: &str) -> String {
    format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_rfc_4648_gives_it() {
        // RFC 4648 §10's test vectors.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn ascii_stays_and_japanese_is_encoded_in_short_words() {
        assert_eq!(header_text("Delivery delayed: x"), "Delivery delayed: x");
        let h = header_text("配信の遅延: Quarterly report の件、よろしくお願いいたします");
        assert!(h.is_ascii());
        for w in h.split("\r\n ") {
            assert!(
                w.starts_with("=?UTF-8?B?") && w.ends_with("?=") && w.len() <= 75,
                "{w}"
            );
        }
        assert!(h.contains("\r\n "), "long text folds into several words");
        assert_eq!(header_text("配信"), "=?UTF-8?B?6YWN5L+h?=");
    }
}
