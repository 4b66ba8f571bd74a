//! The trace of one check_host() as data: every record fetched, every term with the queries
//! it made and what they returned, the counters, and the term that decided. The CLI prints it;
//! `--json` and the checker's evidence show it as it is.

use std::net::IpAddr;

use serde::Serialize;

use crate::resolver::{Lookup, QueryType, escape_bytes};
use crate::result::SpfResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// RFC 5321 MAIL FROM (or postmaster@HELO for the null reverse path), §2.4.
    MailFrom,
    /// The HELO/EHLO name, §2.3.
    Helo,
}

impl Identity {
    pub fn as_str(self) -> &'static str {
        match self {
            Identity::MailFrom => "MAIL FROM",
            Identity::Helo => "HELO",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub identity: Identity,
    pub ip: IpAddr,
    /// <sender> as evaluated: local-part@domain, `postmaster` substituted where needed.
    pub sender: String,
    /// The <domain> whose policy was checked.
    pub domain: String,
    pub helo: String,
    pub result: SpfResult,
    /// One line: why this result.
    pub reason: String,
    /// The term that produced the result, if one did.
    pub decided_by: Option<Decider>,
    /// The `exp=` text for a fail, when there is one that could be fetched (§6.2).
    pub explanation: Option<String>,
    /// DNS-querying terms evaluated (limit 10, §4.6.4).
    pub lookups: u32,
    /// Terms whose lookup was void — NXDOMAIN or no records (limit 2, §4.6.4).
    pub void_lookups: u32,
    /// The void-lookup limit in force (2 unless the caller chose otherwise).
    pub void_limit: u32,
    /// The evaluation from the top domain down; absent when §4.3 stopped it before any lookup.
    pub root: Option<DomainTrace>,
    /// Queries for the explanation (and `%{p}` in it), which count against no limit.
    pub explanation_queries: Vec<QueryTrace>,
}

/// The term that decided, where it was published, and the terms that led there
/// (`include:…`, `redirect=…`), outermost first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decider {
    pub term: String,
    pub domain: String,
    pub path: Vec<String>,
}

impl Decider {
    /// `-all in example.com`, or `ip4:192.0.2.1 in _spf.example.com (via include:_spf.example.com)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} in {}", self.term, self.domain);
        if !self.path.is_empty() {
            s.push_str(&format!(" (via {})", self.path.join(" → ")));
        }
        s
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Top,
    Include,
    Redirect,
}

/// One check_host() level: the record of one domain and its terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DomainTrace {
    pub domain: String,
    pub via: Via,
    pub queries: Vec<QueryTrace>,
    /// The selected SPF record, escaped where it is not printable ASCII.
    pub record: Option<String>,
    pub terms: Vec<TermTrace>,
    pub result: SpfResult,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TermOutcome {
    Match,
    NoMatch,
    /// The term ended the evaluation with a permerror or temperror.
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TermTrace {
    /// As published.
    pub term: String,
    /// The domain it asked about, after macro expansion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// This term's number against the limit of 10, when it counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookup: Option<u32>,
    pub queries: Vec<QueryTrace>,
    pub outcome: TermOutcome,
    /// What a match made of it: the directive's qualifier, or the redirect target's result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<SpfResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The included or redirected-to domain's evaluation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child: Option<Box<DomainTrace>>,
}

impl TermTrace {
    pub fn new(term: &str) -> TermTrace {
        TermTrace {
            term: term.to_string(),
            target: None,
            lookup: None,
            queries: Vec::new(),
            outcome: TermOutcome::NoMatch,
            result: None,
            note: None,
            child: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryOutcome {
    Records,
    Nxdomain,
    Nodata,
    Error,
    Timeout,
    /// Not sent: the name cannot be put in a query; read as NXDOMAIN.
    InvalidName,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueryTrace {
    pub name: String,
    #[serde(rename = "type")]
    pub qtype: QueryType,
    pub outcome: QueryOutcome,
    /// The answer's records in master-file form.
    pub answers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// This answer was counted as a void lookup (and which one, 1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub void: Option<u32>,
}

impl QueryTrace {
    pub fn new(name: &str, qtype: QueryType, lookup: &Lookup) -> QueryTrace {
        let (outcome, answers, error) = match lookup {
            Lookup::Records(rs) if rs.is_empty() => (QueryOutcome::Nodata, Vec::new(), None),
            Lookup::Records(rs) => (
                QueryOutcome::Records,
                rs.iter().map(ToString::to_string).collect(),
                None,
            ),
            Lookup::NxDomain => (QueryOutcome::Nxdomain, Vec::new(), None),
            Lookup::NoData => (QueryOutcome::Nodata, Vec::new(), None),
            Lookup::Error(e) => (QueryOutcome::Error, Vec::new(), Some(e.clone())),
            Lookup::Timeout => (QueryOutcome::Timeout, Vec::new(), None),
        };
        QueryTrace {
            name: name.to_string(),
            qtype,
            outcome,
            answers,
            error,
            void: None,
        }
    }

    pub fn invalid_name(name: &str, qtype: QueryType) -> QueryTrace {
        QueryTrace {
            name: escape_bytes(name.as_bytes()),
            qtype,
            outcome: QueryOutcome::InvalidName,
            answers: Vec::new(),
            error: None,
            void: None,
        }
    }

    /// `example.com TXT → NOERROR: "v=spf1 -all"`, as `dig` users read it.
    pub fn describe(&self) -> String {
        let status = match self.outcome {
            QueryOutcome::Records => format!("NOERROR: {}", self.answers.join(", ")),
            QueryOutcome::Nxdomain => "NXDOMAIN".into(),
            QueryOutcome::Nodata => "NOERROR, no records (NODATA)".into(),
            QueryOutcome::Error => {
                format!("failed: {}", self.error.as_deref().unwrap_or("DNS error"))
            }
            QueryOutcome::Timeout => "no answer (timed out)".into(),
            QueryOutcome::InvalidName => {
                "not queried: not a valid DNS name (read as NXDOMAIN)".into()
            }
        };
        let void = match self.void {
            Some(n) => format!("  [void lookup {n}]"),
            None => String::new(),
        };
        format!("{} {} → {status}{void}", self.name, self.qtype)
    }
}
