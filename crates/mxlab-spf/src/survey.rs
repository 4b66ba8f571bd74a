//! A walk over a domain's whole SPF tree, independent of any IP: every record reachable through
//! include and redirect, the lookups each term would cost, which of them are void, and the
//! deprecated type 99 record. check_host() stops at the first match; a lint must see the
//! branches a particular IP never reaches, as checkdmarc does.

use std::collections::HashMap;

use serde::Serialize;

use crate::macros::MacroString;
use crate::name::strip_root;
use crate::record::{self, Mechanism, Record};
use crate::resolver::{Lookup, QueryType, Rdata, SpfResolver, escape_bytes};
use crate::trace::{QueryTrace, Via};

/// Records followed in one survey; enough for any sane tree, a bound for a hostile one.
pub const MAX_NODES: usize = 40;
/// include/redirect depth followed.
pub const MAX_DEPTH: usize = 12;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Survey {
    pub domain: String,
    /// Every domain visited, top first, in the order a full evaluation would reach them.
    pub nodes: Vec<Node>,
    /// v=spf1 records published as type 99 at the top domain.
    pub spf_rr: Vec<String>,
    /// DNS-querying terms across the tree, as if nothing matched (the worst case).
    pub lookups: u32,
    /// Terms whose lookup returned NXDOMAIN or no records, as `term in domain: query`.
    pub void_lookups: Vec<String>,
    /// include/redirect edges that lead back to a domain on their own path.
    pub loops: Vec<String>,
    /// Why parts of the tree were not followed (DNS failures, limits).
    pub gaps: Vec<String>,
    /// Every query made, in order.
    pub queries: Vec<QueryTrace>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Node {
    pub domain: String,
    pub via: Via,
    /// The term that led here, `include:x in parent` (empty for the top).
    pub from: String,
    pub depth: usize,
    /// Each TXT record at the name that is a v=spf1 record, as its separate strings with
    /// their byte lengths (the 255-octet limit applies per string).
    pub spf_records: Vec<Vec<TxtString>>,
    /// The record evaluated here, when there is exactly one.
    pub record: Option<String>,
    /// Its length in octets, joined.
    pub record_len: usize,
    pub problem: Option<String>,
    /// DNS-querying terms in this record (include, a, mx, ptr, exists, redirect).
    pub lookup_terms: u32,
    /// Terms after `all`, which are never evaluated (redirect too is ignored then).
    pub after_all: Vec<String>,
    pub ptr_terms: Vec<String>,
}

/// One character-string of a TXT record: its text (escaped) and its length on the wire.
#[derive(Clone, Debug, Serialize)]
pub struct TxtString {
    pub text: String,
    pub octets: usize,
}

struct Walker<'r, R> {
    resolver: &'r R,
    cache: HashMap<(String, QueryType), Lookup>,
    survey: Survey,
}

/// Surveys `domain`'s SPF tree.
pub async fn survey<R: SpfResolver + Sync>(resolver: &R, domain: &str) -> Survey {
    let domain = strip_root(domain).to_string();
    let mut walker = Walker {
        resolver,
        cache: HashMap::new(),
        survey: Survey {
            domain: domain.clone(),
            ..Survey::default()
        },
    };
    if let Lookup::Records(rs) = walker.query(&domain, QueryType::Spf).await {
        walker.survey.spf_rr = rs
            .iter()
            .filter_map(|r| match r {
                Rdata::Txt(s) => Some(record::join(s)),
                _ => None,
            })
            .filter(|t| record::is_spf(t))
            .map(|t| escape_bytes(&t))
            .collect();
    }
    let mut path = Vec::new();
    walker
        .visit(domain, Via::Top, String::new(), &mut path)
        .await;
    walker.survey
}

type Boxed<'s> = std::pin::Pin<Box<dyn Future<Output = ()> + Send + 's>>;

impl<R: SpfResolver + Sync> Walker<'_, R> {
    async fn query(&mut self, name: &str, qtype: QueryType) -> Lookup {
        let key = (strip_root(name).to_ascii_lowercase(), qtype);
        if let Some(hit) = self.cache.get(&key) {
            return hit.clone();
        }
        let lookup = match self.resolver.lookup(&key.0, qtype).await {
            Lookup::Records(rs) if rs.is_empty() => Lookup::NoData,
            other => other,
        };
        self.survey
            .queries
            .push(QueryTrace::new(&key.0, qtype, &lookup));
        self.cache.insert(key, lookup.clone());
        lookup
    }

    fn visit<'s>(
        &'s mut self,
        domain: String,
        via: Via,
        from: String,
        path: &'s mut Vec<String>,
    ) -> Boxed<'s> {
        Box::pin(async move {
            if self.survey.nodes.len() >= MAX_NODES || path.len() >= MAX_DEPTH {
                self.survey
                    .gaps
                    .push(format!("{from}: not followed (survey limit reached)"));
                return;
            }
            let mut node = Node {
                domain: domain.clone(),
                via,
                from: from.clone(),
                depth: path.len(),
                spf_records: Vec::new(),
                record: None,
                record_len: 0,
                problem: None,
                lookup_terms: 0,
                after_all: Vec::new(),
                ptr_terms: Vec::new(),
            };
            let txt = match self.query(&domain, QueryType::Txt).await {
                Lookup::Records(rs) => rs,
                Lookup::NxDomain | Lookup::NoData => Vec::new(),
                Lookup::Error(e) => {
                    node.problem = Some(format!("TXT lookup failed: {e}"));
                    self.survey
                        .gaps
                        .push(format!("{domain}: TXT lookup failed: {e}"));
                    self.survey.nodes.push(node);
                    return;
                }
                Lookup::Timeout => {
                    node.problem = Some("TXT lookup timed out".into());
                    self.survey
                        .gaps
                        .push(format!("{domain}: TXT lookup timed out"));
                    self.survey.nodes.push(node);
                    return;
                }
            };
            for r in &txt {
                if let Rdata::Txt(strings) = r
                    && record::is_spf(&record::join(strings))
                {
                    node.spf_records.push(
                        strings
                            .iter()
                            .map(|s| TxtString {
                                text: escape_bytes(s),
                                octets: s.len(),
                            })
                            .collect(),
                    );
                }
            }
            let joined: Vec<Vec<u8>> = txt
                .iter()
                .filter_map(|r| match r {
                    Rdata::Txt(s) => Some(record::join(s)),
                    _ => None,
                })
                .filter(|t| record::is_spf(t))
                .collect();
            let [text] = joined.as_slice() else {
                node.problem = Some(match joined.len() {
                    0 => "no v=spf1 record".to_string(),
                    n => format!("{n} v=spf1 records"),
                });
                self.survey.nodes.push(node);
                return;
            };
            node.record = Some(escape_bytes(text));
            node.record_len = text.len();
            let parsed = std::str::from_utf8(text)
                .ok()
                .filter(|t| t.is_ascii())
                .ok_or_else(|| "the record is not ASCII".to_string())
                .and_then(|t| Record::parse(t).map_err(|e| format!("syntax error: {e}")));
            let record = match parsed {
                Ok(r) => r,
                Err(e) => {
                    node.problem = Some(e);
                    self.survey.nodes.push(node);
                    return;
                }
            };
            let mut seen_all = false;
            let mut edges: Vec<(String, Via, String)> = Vec::new();
            for term in &record.directives {
                if seen_all {
                    node.after_all.push(term.text.clone());
                }
                if term.mechanism.queries_dns() {
                    node.lookup_terms += 1;
                }
                let literal = |spec: &Option<MacroString>| match spec {
                    None => Some(domain.clone()),
                    Some(s) if !s.has_macros() => Some(literal_name(s)),
                    Some(_) => None,
                };
                match &term.mechanism {
                    Mechanism::All => seen_all = true,
                    Mechanism::Include(spec) if !spec.has_macros() => {
                        edges.push((literal_name(spec), Via::Include, term.text.clone()));
                    }
                    Mechanism::A(spec) => {
                        if let Some(name) = literal(&spec.domain) {
                            self.void_check(
                                &term.text,
                                &domain,
                                &name,
                                &[QueryType::A, QueryType::Aaaa],
                            )
                            .await;
                        }
                    }
                    Mechanism::Mx(spec) => {
                        if let Some(name) = literal(&spec.domain) {
                            self.void_check(&term.text, &domain, &name, &[QueryType::Mx])
                                .await;
                        }
                    }
                    Mechanism::Exists(spec) if !spec.has_macros() => {
                        let name = literal_name(spec);
                        self.void_check(&term.text, &domain, &name, &[QueryType::A])
                            .await;
                    }
                    Mechanism::Ptr(_) => node.ptr_terms.push(term.text.clone()),
                    _ => {}
                }
            }
            if let Some(redirect) = &record.redirect {
                node.lookup_terms += 1;
                if seen_all {
                    node.after_all.push(redirect.text.clone());
                } else if !redirect.target.has_macros() {
                    edges.push((
                        literal_name(&redirect.target),
                        Via::Redirect,
                        redirect.text.clone(),
                    ));
                }
            }
            self.survey.lookups += node.lookup_terms;
            self.survey.nodes.push(node);
            path.push(domain.to_ascii_lowercase());
            for (target, via, term) in edges {
                let edge = format!("{term} in {domain}");
                if path.contains(&target.to_ascii_lowercase()) {
                    self.survey.loops.push(edge);
                    continue;
                }
                if !self.exists(&target).await {
                    self.survey
                        .void_lookups
                        .push(format!("{edge}: {target} has no TXT records"));
                }
                self.visit(target, via, edge, path).await;
            }
            path.pop();
        })
    }

    async fn exists(&mut self, name: &str) -> bool {
        matches!(self.query(name, QueryType::Txt).await, Lookup::Records(_))
    }

    /// A term's lookup is void when none of `types` has records at `name`.
    async fn void_check(&mut self, term: &str, domain: &str, name: &str, types: &[QueryType]) {
        let mut outcomes = Vec::new();
        for &qtype in types {
            match self.query(name, qtype).await {
                Lookup::Records(_) => return,
                Lookup::NxDomain => outcomes.push(format!("{qtype} NXDOMAIN")),
                Lookup::NoData => outcomes.push(format!("no {qtype}")),
                // A failure says nothing about voidness.
                Lookup::Error(_) | Lookup::Timeout => return,
            }
        }
        self.survey.void_lookups.push(format!(
            "{term} in {domain}: {name}: {}",
            outcomes.join(", ")
        ));
    }
}

/// A macro-free domain-spec as the name it is.
fn literal_name(spec: &MacroString) -> String {
    strip_root(&spec.expand(&Default::default())).to_string()
}
