//! The RFC 5322 From domain: the identifier DMARC protects (RFC 7489 §3.1, §6.6.1).

/// The header section of a message: up to the first empty line, lines unfolded.
fn headers(message: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(message);
    let mut out: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
        } else {
            out.push(line.to_string());
        }
    }
    out
}

/// The domain of the one author address in the From header; `None` when there is no From
/// header, more than one, or more than one address (§6.6.1 leaves those to local policy).
pub fn from_domain(message: &[u8]) -> Option<String> {
    let froms: Vec<String> = headers(message)
        .into_iter()
        .filter_map(|h| {
            let (name, value) = h.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("from")
                .then(|| value.to_string())
        })
        .collect();
    let [value] = froms.as_slice() else {
        return None;
    };
    // Display names may be quoted and hold anything; the address is in <…> when present.
    let address = match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value.trim(),
    };
    if value.matches('@').count() > 1 && !value.contains('<') {
        return None;
    }
    let (_, domain) = address.rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    (!domain.is_empty() && !domain.contains([' ', ','])).then_some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_author_domain() {
        let m = b"Date: x\r\nFrom: \"Taro Yamada\" <taro@MyCompany.test>\r\nTo: a@b\r\n\r\nFrom: no@body.test\r\n";
        assert_eq!(from_domain(m).as_deref(), Some("mycompany.test"));
        assert_eq!(
            from_domain(b"From: taro@portal.mycompany.test\n\nbody").as_deref(),
            Some("portal.mycompany.test")
        );
        assert_eq!(
            from_domain(b"From:\r\n <taro@folded.test>\r\n\r\n").as_deref(),
            Some("folded.test")
        );
    }

    #[test]
    fn no_single_author_no_domain() {
        assert_eq!(from_domain(b"To: a@b\r\n\r\n"), None);
        assert_eq!(
            from_domain(b"From: a@x.test\r\nFrom: b@y.test\r\n\r\n"),
            None
        );
        assert_eq!(from_domain(b"From: a@x.test, b@y.test\r\n\r\n"), None);
        assert_eq!(from_domain(b"From: nobody\r\n\r\n"), None);
    }
}
