//! Real reply texts as data (`data/replies.csv`): what Exchange, Microsoft 365, Gmail, Yahoo,
//! Postfix, Exim, Sendmail, Mimecast, Proofpoint and others actually write for each cause,
//! each row with its public source. The classifier falls back on the nearest row when
//! neither the code nor its own phrases pin a text down; the tests hold every row to its
//! cause.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use mxlab_vocab::RuleId;

use super::classify::Symptom;

const TABLE: &str = include_str!("../../data/replies.csv");

/// One row of the table.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Wording {
    pub cause: String,
    pub reason: String,
    pub vendor: String,
    pub phase: String,
    pub reply: String,
    pub source: String,
}

/// Every row, parsed once.
pub fn table() -> &'static [Wording] {
    static ROWS: OnceLock<Vec<Wording>> = OnceLock::new();
    ROWS.get_or_init(|| parse(TABLE))
}

pub fn parse(text: &str) -> Vec<Wording> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .filter_map(Result::ok)
        .collect()
}

/// The words of a text that carry its meaning: lowercase, no codes, numbers, addresses or
/// host names (they differ from one bounce to the next; the wording does not).
fn words(text: &str) -> BTreeSet<String> {
    text.split_whitespace()
        .filter(|w| !w.contains(['@', '.', '/', ':', '[', '=']) || w.ends_with(['.', ':', ',']))
        .flat_map(|w| w.split(|c: char| !c.is_ascii_alphabetic()))
        .filter(|w| w.len() > 2)
        .map(str::to_ascii_lowercase)
        .collect()
}

/// How alike two word sets are (Jaccard).
fn likeness(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let common = a.intersection(b).count();
    let all = a.union(b).count();
    if all == 0 {
        0.0
    } else {
        common as f64 / all as f64
    }
}

/// Rows this alike or more, sharing at least [`COMMON`] words, name the same reason: short
/// generic texts ("try again later") must not be taken for a vendor's distinctive wording.
const ENOUGH: f64 = 0.6;
const COMMON: usize = 4;

/// The symptom of the nearest known wording, when one is near enough.
pub fn nearest(text: &str) -> Option<Symptom> {
    nearest_in(table(), text)
}

pub fn nearest_in(rows: &[Wording], text: &str) -> Option<Symptom> {
    let mine = words(text);
    if mine.len() < 2 {
        return None;
    }
    rows.iter()
        .filter_map(|row| {
            let rule: RuleId = row.cause.parse().ok()?;
            let theirs = words(&row.reply);
            let score = likeness(&mine, &theirs);
            (score >= ENOUGH && mine.intersection(&theirs).count() >= COMMON)
                .then_some((score, rule))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .and_then(|(_, rule)| Symptom::of_rule(rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_names_a_known_rule_and_has_a_source() {
        for row in table() {
            assert!(row.cause.parse::<RuleId>().is_ok(), "{row:?}");
            assert!(!row.source.trim().is_empty(), "{row:?}");
            assert!(!row.reply.trim().is_empty(), "{row:?}");
        }
    }

    #[test]
    fn near_wordings_are_found_and_far_ones_are_not() {
        let rows = parse(
            "cause,reason,vendor,phase,reply,source\nsmtp.greylisted,blocked,Mimecast,rcpt,451 Internal resource temporarily unavailable - https://community.mimecast.com/docs/DOC-1369#451,https://example.invalid\n",
        );
        assert_eq!(
            nearest_in(&rows, "451 Internal resource temporarily unavailable"),
            Some(Symptom::Greylisted)
        );
        assert_eq!(nearest_in(&rows, "451 Try again tomorrow"), None);
    }
}
