//! Domain-name checks SPF needs before and after macro expansion: what counts as a usable
//! <domain> (§4.3), what can be asked of the DNS at all (§4.8), and the 253-octet truncation of
//! §7.3.

/// Longest domain name in text form, without the trailing dot (RFC 1035 §2.3.4 less the root).
pub const MAX_NAME: usize = 253;
pub const MAX_LABEL: usize = 63;

/// Drops one trailing dot: `example.com.` and `example.com` are the same name to SPF.
pub fn strip_root(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// A name a DNS query can be composed from: every label 1–63 octets, 253 in all.
pub fn is_queryable(name: &str) -> bool {
    let name = strip_root(name);
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .split('.')
            .all(|label| !label.is_empty() && label.len() <= MAX_LABEL)
}

/// The <domain> check_host() is asked about (§4.3): queryable, more than one label, and not a
/// domain literal such as `[192.0.2.1]`. Anything else yields "none" without a lookup.
pub fn is_checkable_domain(domain: &str) -> bool {
    let name = strip_root(domain);
    is_queryable(name)
        && name.contains('.')
        && !name.starts_with('[')
        && name.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// §7.3: an expanded name over 253 characters loses labels from the left until it fits.
pub fn truncate_left(name: &str) -> &str {
    let mut rest = name;
    while rest.len() > MAX_NAME {
        match rest.split_once('.') {
            Some((_, tail)) => rest = tail,
            None => break,
        }
    }
    rest
}

/// `name` is `target` or below it, compared without case and trailing dots.
pub fn is_within(name: &str, target: &str) -> bool {
    let name = strip_root(name).to_ascii_lowercase();
    let target = strip_root(target).to_ascii_lowercase();
    name == target || name.ends_with(&format!(".{target}"))
}

/// RFC 7208's `toplabel`: letters, digits and inner hyphens, not all digits.
pub fn is_toplabel(label: &str) -> bool {
    let bytes = label.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    {
        return false;
    }
    if bytes.contains(&b'-') {
        first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric()
    } else {
        bytes.iter().any(u8::is_ascii_alphabetic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkable_domains() {
        assert!(is_checkable_domain("example.com"));
        assert!(is_checkable_domain("example.com."));
        assert!(!is_checkable_domain("localhost"));
        assert!(!is_checkable_domain("a...example.com"));
        assert!(!is_checkable_domain("[192.0.2.1]"));
        assert!(!is_checkable_domain(&format!(
            "{}.example.com",
            "a".repeat(64)
        )));
        assert!(is_checkable_domain(&format!(
            "{}.example.com",
            "a".repeat(63)
        )));
    }

    #[test]
    fn toplabels() {
        assert!(is_toplabel("com"));
        assert!(is_toplabel("xn--zckzah"));
        assert!(is_toplabel("123-456"));
        assert!(!is_toplabel("123"));
        assert!(!is_toplabel("-com"));
        assert!(!is_toplabel("com-"));
        assert!(!is_toplabel("com:8080"));
        assert!(!is_toplabel(""));
    }

    #[test]
    fn truncation_drops_whole_labels_from_the_left() {
        let long = format!("{}.example.com", ["abcdefghij"; 30].join("."));
        let cut = truncate_left(&long);
        assert!(cut.len() <= MAX_NAME);
        assert!(long.ends_with(cut));
        assert!(cut.starts_with("abcdefghij."));
        assert_eq!(truncate_left("example.com"), "example.com");
    }

    #[test]
    fn within_is_case_insensitive_and_label_aligned() {
        assert!(is_within("mail.Example.com.", "example.COM"));
        assert!(is_within("example.com", "example.com"));
        assert!(!is_within("badexample.com", "example.com"));
    }
}
