//! The checker's one door: what the administrator was handed, what the user complains
//! about, and where the checker may probe from, in; a diagnosis out.

use crate::artifacts::notice::Notice;
use crate::artifacts::{self, Artifacts};
use crate::diagnosis::classify::Symptom;
use crate::diagnosis::observe::{self, Story};
use crate::diagnosis::{self, Diagnosis};
use crate::facts::Facts;
use crate::probe::policy::{probe_dmarc, probe_dnsbl, probe_reverse_dns};
use crate::probe::{ProbeEnv, probe_domain, probe_spf};

/// The complaint as a user makes it: mail from this sender to these recipients.
#[derive(Clone, Debug, Default)]
pub struct Complaint {
    pub recipients: Vec<String>,
    pub sender: String,
}

/// Reads the artifacts, probes each recipient domain (SMTP for a recipient that actually
/// failed — one for each distinct failure — or, when none did, the first one named), the
/// sender's SPF and DMARC, the sending IP's reverse DNS and the blocklists the refusals name,
/// and names the causes.
pub async fn investigate(
    handed: &Artifacts,
    complaint: &Complaint,
    env: &ProbeEnv<'_>,
) -> Diagnosis {
    let read = |notices: &[String]| -> Vec<_> {
        notices
            .iter()
            .filter_map(|d| artifacts::notice::read(d.as_bytes()))
            .collect()
    };
    let mut facts = Facts {
        recipients: complaint.recipients.clone(),
        dsns: read(&handed.dsn),
        ndrs: read(&handed.ndr),
        tracking: handed
            .tracking_log
            .as_deref()
            .map(artifacts::tracking::read)
            .unwrap_or_default(),
        queue: handed.queue.clone(),
        domains: Vec::new(),
        spf: None,
        probed: true,
        dnsbl: Vec::new(),
        reverse_dns: None,
        dmarc: None,
        mode: env.mode,
    };
    let stories = observe::of(&facts);
    for (domain, who) in whom_to_ask(&stories) {
        facts.domains.push(probe_domain(env, &domain, &who).await);
    }
    // `check` without a sending IP has no sending side to look at, and through a resolver
    // that answers nothing, no lookup of it would tell anything.
    let silent = !facts.domains.is_empty() && facts.domains.iter().all(|d| d.resolver_silent);
    if env.mode.is_check() && (env.from_ip.is_unspecified() || silent) {
        return diagnosis::diagnose(&facts, &stories);
    }
    let spf = probe_spf(env).await;
    let suffixes = mxlab_policy::PublicSuffixes::with(&env.public_suffixes);
    facts.dmarc = probe_dmarc(env, &env.mail_from, spf.result, &suffixes).await;
    facts.spf = Some(spf);
    facts.reverse_dns = Some(probe_reverse_dns(env, env.from_ip).await);
    let mut zones: Vec<String> = stories
        .iter()
        .flat_map(|s| s.errors.iter())
        .flat_map(|e| diagnosis::policy::zones_named(&e.text))
        .collect();
    zones.extend(env.dnsbl_zones.iter().cloned());
    facts.dnsbl = probe_dnsbl(env, env.from_ip, &zones).await;
    diagnosis::diagnose(&facts, &stories)
}

/// The door for a notice read on its own (`mxlab explain`): no probe runs, and each cause is
/// what the notice's words support.
pub fn read_notice(notice: &Notice) -> Diagnosis {
    let mut recipients: Vec<String> = Vec::new();
    for r in &notice.recipients {
        if !recipients
            .iter()
            .any(|x| x.eq_ignore_ascii_case(&r.final_recipient))
        {
            recipients.push(r.final_recipient.clone());
        }
    }
    let (dsns, ndrs) = if notice.is_delay() {
        (vec![notice.clone()], Vec::new())
    } else {
        (Vec::new(), vec![notice.clone()])
    };
    let facts = Facts {
        recipients,
        dsns,
        ndrs,
        probed: false,
        ..Facts::default()
    };
    let stories = observe::of(&facts);
    diagnosis::diagnose(&facts, &stories)
}

/// Per recipient domain, in the order the complaint names them, whom to ask its server
/// about: one recipient for each distinct failure seen there, or the first one named when
/// none failed.
fn whom_to_ask(stories: &[Story]) -> Vec<(String, Vec<String>)> {
    // (domain, [(recipient, the failure it stands for)])
    type Asked = Vec<(String, Option<Symptom>)>;
    let mut out: Vec<(String, Asked)> = Vec::new();
    for story in stories {
        let domain = story.domain();
        if domain.is_empty() {
            continue;
        }
        let at = match out.iter().position(|(d, _)| *d == domain) {
            Some(at) => at,
            None => {
                out.push((domain, Vec::new()));
                out.len() - 1
            }
        };
        let symptom = story.decisive().map(|e| e.symptom.clone());
        let list = &mut out[at].1;
        let first = list.is_empty();
        let failed_anew = symptom.is_some() && !list.iter().any(|(_, s)| *s == symptom);
        if failed_anew {
            // A recipient standing in for nobody's failure makes way for one that failed.
            list.retain(|(_, s)| s.is_some());
        }
        if first || failed_anew {
            list.push((story.address.clone(), symptom));
        }
    }
    out.into_iter()
        .map(|(d, who)| (d, who.into_iter().map(|(a, _)| a).collect()))
        .collect()
}
