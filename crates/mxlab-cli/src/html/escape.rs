//! Text into HTML: every report string passes through here (notices quote `<addr>`).

/// Escapes text for element content and quoted attribute values alike.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_in_reports_stays_text() {
        assert_eq!(
            esc(r#"RCPT TO:<a@b> "x" & 'y'"#),
            "RCPT TO:&lt;a@b&gt; &quot;x&quot; &amp; &#39;y&#39;"
        );
    }
}
