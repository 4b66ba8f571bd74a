//! The checker's one door: what the administrator was handed, what the user complains
//! about, and where the checker may probe from, in; a diagnosis out.

use std::collections::BTreeMap;

use crate::artifacts::{self, Artifacts};
use crate::diagnosis::observe::{self, domain_of};
use crate::diagnosis::{self, Diagnosis};
use crate::facts::Facts;
use crate::probe::{ProbeEnv, probe_domain, probe_spf};

/// The complaint as a user makes it: mail from this sender to these recipients.
#[derive(Clone, Debug, Default)]
pub struct Complaint {
    pub recipients: Vec<String>,
    pub sender: String,
}

/// Reads the artifacts, probes each recipient domain (SMTP for a recipient that actually
/// failed — one for each distinct failure — or, when none did, the first one named) and the
/// sender's SPF, and names the causes.
pub async fn investigate(
    handed: &Artifacts,
    complaint: &Complaint,
    env: &ProbeEnv<'_>,
) -> Diagnosis {
    let dsns: Vec<_> = handed
        .dsn
        .iter()
        .filter_map(|d| artifacts::dsn::read(d))
        .collect();
    let ndrs: Vec<_> = handed
        .ndr
        .iter()
        .filter_map(|d| artifacts::dsn::read(d))
        .collect();
    let tracking = handed
        .tracking_log
        .as_deref()
        .map(artifacts::tracking::read)
        .unwrap_or_default();
    let notices: Vec<_> = dsns.iter().chain(&ndrs).cloned().collect();
    let stories = observe::stories(
        &complaint.recipients,
        &notices,
        &tracking,
        handed.queue.as_deref(),
    );

    // Per domain, in the order the complaint names them: whom to ask the server about.
    let mut order: Vec<String> = Vec::new();
    let mut ask: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for story in &stories {
        let domain = story.domain();
        if domain.is_empty() {
            continue;
        }
        if !order.contains(&domain) {
            order.push(domain.clone());
        }
        let list = ask.entry(domain).or_default();
        if let Some(seen) = story.decisive() {
            let distinct = !list.iter().any(|r| {
                stories
                    .iter()
                    .find(|s| &s.address == r)
                    .and_then(|s| s.decisive())
                    .is_some_and(|other| other.symptom == seen.symptom)
            });
            if distinct {
                list.push(story.address.clone());
            }
        }
    }
    let mut domains = Vec::new();
    for domain in &order {
        let mut who = ask.remove(domain).unwrap_or_default();
        if who.is_empty()
            && let Some(first) = complaint
                .recipients
                .iter()
                .find(|r| domain_of(r) == *domain)
        {
            who.push(first.clone());
        }
        domains.push(probe_domain(env, domain, &who).await);
    }
    let facts = Facts {
        recipients: complaint.recipients.clone(),
        dsns,
        ndrs,
        tracking,
        queue: handed.queue.clone(),
        domains,
        spf: Some(probe_spf(env).await),
    };
    diagnosis::diagnose(&facts)
}
