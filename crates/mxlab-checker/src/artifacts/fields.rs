//! RFC 3464 `message/delivery-status` content: groups of `Name: value` fields separated by
//! blank lines (the first group is per message, the rest per recipient). Continuation lines
//! start with white space.

/// One group of fields, names as written, in order.
pub type Group = Vec<(String, String)>;

pub fn parse_groups(text: &str) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut current: Group = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            current.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// The value of the first field called `name` (case-insensitive).
pub fn field<'g>(group: &'g Group, name: &str) -> Option<&'g str> {
    group
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `rfc822;user@example` → `user@example`; `smtp;451 …` → `451 …`.
pub fn strip_type(value: &str) -> &str {
    value.split_once(';').map_or(value, |(_, rest)| rest.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn groups_and_continuations() {
        let text = "Reporting-MTA: dns;srv01\r\n\r\nFinal-Recipient: rfc822;a@b\r\nDiagnostic-Code: smtp;451 4.4.0 first\r\n second\r\n\r\n";
        let groups = parse_groups(text);
        assert_eq!(groups.len(), 2);
        assert_eq!(
            field(&groups[1], "diagnostic-code"),
            Some("smtp;451 4.4.0 first second")
        );
        assert_eq!(
            strip_type(field(&groups[1], "Final-Recipient").unwrap()),
            "a@b"
        );
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            let _ = parse_groups(&text);
        }
    }
}
