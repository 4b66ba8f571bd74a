//! A multipart notice whose header declares one boundary while its parts are separated by
//! another — a hand-edited or re-wrapped notice, as forwarded notices often are. A MIME
//! parser sees no parts at all; a reader sees them plainly. The boundary the body actually
//! uses is put in the header so the parts can be read. (A multipart that uses no delimiter
//! at all is read as the one text it is: `mime::parts`.)

/// The message with its top-level boundary parameter replaced by the one its body uses,
/// when the declared one never occurs and another delimiter line occurs at least twice.
pub fn repaired(raw: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(raw).ok()?;
    let header_end = text.find("\r\n\r\n").or_else(|| text.find("\n\n"))?;
    let (header, body) = text.split_at(header_end);
    let (at, declared) = declared(header)?;
    if body.contains(&format!("--{declared}")) {
        return None;
    }
    let used = used(body)?;
    let mut out = Vec::with_capacity(raw.len() + used.len());
    out.extend_from_slice(&header.as_bytes()[..at]);
    out.extend_from_slice(used.as_bytes());
    out.extend_from_slice(&header.as_bytes()[at + declared.len()..]);
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

/// The `boundary=` parameter of the header's Content-Type, quoted or not, with where its
/// value starts.
fn declared(header: &str) -> Option<(usize, &str)> {
    let lower = header.to_ascii_lowercase();
    let mut at = lower.find("boundary=")? + "boundary=".len();
    let rest = &header[at..];
    let value = match rest.strip_prefix('"') {
        Some(quoted) => {
            at += 1;
            &quoted[..quoted.find('"')?]
        }
        None => rest
            .split([';', '\r', '\n', ' ', '\t'])
            .next()
            .unwrap_or(""),
    };
    (!value.is_empty()).then_some((at, value))
}

/// The first `--delimiter` line that the body repeats: the boundary it is written with.
fn used(body: &str) -> Option<&str> {
    let delimiters = body
        .lines()
        .map(|l| l.trim_end())
        .filter(|l| l.len() > 8 && l.starts_with("--") && !l[2..].starts_with('-'))
        .map(|l| &l[2..]);
    for candidate in delimiters.take(64) {
        let line = format!("\n--{candidate}");
        if body.matches(&line).take(2).count() == 2 {
            return Some(candidate.trim_end_matches("--"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_the_body_uses_replaces_the_one_declared() {
        let raw = "Subject: x\nContent-Type: multipart/report; boundary=\"AAA.111/host\"\n\npreamble\n--AAA.222/host\nContent-Type: text/plain\n\nhello\n--AAA.222/host\nContent-Type: message/delivery-status\n\nAction: failed\n--AAA.222/host--\n";
        let fixed = String::from_utf8(repaired(raw.as_bytes()).unwrap()).unwrap();
        assert!(fixed.contains("boundary=\"AAA.222/host\""), "{fixed}");
        assert!(fixed.ends_with("--AAA.222/host--\n"));
    }

    #[test]
    fn a_sound_message_is_left_alone() {
        let raw = "Content-Type: multipart/mixed; boundary=b1\n\n--b1\n\nx\n--b1--\n";
        assert!(repaired(raw.as_bytes()).is_none());
        // No delimiter at all: nothing to put in its place.
        let bare = "Content-Type: multipart/report; boundary=\"gone\"\n\nAction: failed\n";
        assert!(repaired(bare.as_bytes()).is_none());
        assert!(repaired(b"Subject: none\n\nbody\n").is_none());
        assert!(repaired(b"\xff\xfe").is_none());
    }
}
