//! Policy discovery (RFC 7489 §6.6.3): the TXT records at `_dmarc.<From domain>`; when none
//! is a DMARC record and the From domain is not itself an organizational domain, those at
//! `_dmarc.<organizational domain>`. More than one DMARC record, or an unusable one, means no
//! policy. A lookup that fails for now is a temporary error, never "no policy".

use hickory_proto::rr::{Name, RecordType};
use mxlab_net::{Answer, DnsClient, Exchange};

use super::record::{self, Record};
use crate::org_domain::PublicSuffixes;

/// What discovery found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Record {
        /// The domain whose `_dmarc` name held it.
        at: String,
        text: String,
        record: Record,
    },
    /// No DMARC record at either name.
    Nothing,
    /// A DMARC record that cannot be used (§6.6.3 step 6): no policy applies.
    Unusable {
        at: String,
        text: String,
        why: String,
    },
    /// Several DMARC records at one name (§6.6.3 step 5): no policy applies.
    Several { at: String },
    /// A lookup failed for now (SERVFAIL, timeout): a receiver may defer.
    TempError { name: String, status: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovery {
    pub from_domain: String,
    pub organizational_domain: String,
    /// Every question asked, in order.
    pub lookups: Vec<Exchange>,
    pub found: Found,
}

/// The DMARC records (`v=DMARC1` first) among a TXT answer's records.
pub fn dmarc_texts(answer: &Answer) -> Vec<String> {
    answer
        .txt_texts()
        .into_iter()
        .filter(|t| record::is_dmarc(t))
        .collect()
}

/// What one `_dmarc` answer says; `None` when it holds no DMARC record (ask further up).
pub fn read(at: &str, answer: &Answer) -> Option<Found> {
    match answer {
        Answer::Records(_) | Answer::NoData | Answer::NxDomain => {}
        other => {
            return Some(Found::TempError {
                name: format!("_dmarc.{at}"),
                status: other.status(),
            });
        }
    }
    let texts = dmarc_texts(answer);
    match texts.as_slice() {
        [] => None,
        [text] => Some(match record::parse(text) {
            Ok(record) => Found::Record {
                at: at.to_string(),
                text: text.clone(),
                record,
            },
            Err(why) => Found::Unusable {
                at: at.to_string(),
                text: text.clone(),
                why,
            },
        }),
        _ => Some(Found::Several { at: at.to_string() }),
    }
}

/// Discovers the policy for mail whose From domain is `from_domain`.
pub async fn discover(
    client: &DnsClient<'_>,
    from_domain: &str,
    suffixes: &PublicSuffixes,
) -> Discovery {
    let from_domain = from_domain
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let organizational_domain = suffixes.organizational_domain(&from_domain);
    let mut lookups = Vec::new();
    let mut found = Found::Nothing;
    let mut candidates = vec![from_domain.clone()];
    if organizational_domain != from_domain {
        candidates.push(organizational_domain.clone());
    }
    for at in candidates {
        let Ok(name) = Name::from_ascii(format!("_dmarc.{at}.")) else {
            break;
        };
        let exchange = client.query(&name, RecordType::TXT).await;
        let read = read(&at, &exchange.answer);
        lookups.push(exchange);
        if let Some(f) = read {
            found = f;
            break;
        }
    }
    Discovery {
        from_domain,
        organizational_domain,
        lookups,
        found,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::RData;
    use hickory_proto::rr::Record as Rr;
    use hickory_proto::rr::rdata::TXT;

    fn txt(texts: &[&str]) -> Answer {
        let name = Name::from_ascii("_dmarc.mycompany.test.").unwrap();
        Answer::Records(
            texts
                .iter()
                .map(|t| {
                    Rr::from_rdata(name.clone(), 60, RData::TXT(TXT::new(vec![t.to_string()])))
                })
                .collect(),
        )
    }

    #[test]
    fn one_dmarc_record_among_other_txt() {
        let found = read("mycompany.test", &txt(&["hello", "v=DMARC1; p=reject"]));
        assert!(matches!(found, Some(Found::Record { ref at, .. }) if at == "mycompany.test"));
        assert_eq!(read("mycompany.test", &txt(&["v=spf1 -all"])), None);
        assert_eq!(read("mycompany.test", &Answer::NxDomain), None);
    }

    #[test]
    fn several_unusable_and_failed() {
        assert!(matches!(
            read("x.test", &txt(&["v=DMARC1; p=reject", "v=DMARC1; p=none"])),
            Some(Found::Several { .. })
        ));
        assert!(matches!(
            read("x.test", &txt(&["v=DMARC1; p=maybe"])),
            Some(Found::Unusable { .. })
        ));
        assert!(matches!(
            read("x.test", &Answer::ServFail),
            Some(Found::TempError { .. })
        ));
    }
}
