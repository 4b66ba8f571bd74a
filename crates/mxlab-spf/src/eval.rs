//! check_host() (RFC 7208 §4): the record lookup, the terms in order, include and redirect as
//! recursive checks, the processing limits, and the explanation. It talks to the DNS only
//! through [`SpfResolver`] and reads no clock: `%{t}` comes with the request.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;

use crate::macros::{Context, MacroString, Values};
use crate::name::{is_checkable_domain, is_queryable, is_within, strip_root};
use crate::record::{self, HostSpec, Mechanism, Record};
use crate::resolver::{Lookup, QueryType, Rdata, SpfResolver, escape_bytes};
use crate::result::SpfResult;
use crate::trace::{
    Decider, DomainTrace, Identity, QueryTrace, TermOutcome, TermTrace, Trace, Via,
};

/// DNS-querying terms allowed in one check (§4.6.4).
pub const MAX_LOOKUPS: u32 = 10;
/// Void lookups allowed in one check (§4.6.4).
pub const MAX_VOID_LOOKUPS: u32 = 2;
/// MX records an `mx` term may have (§4.6.4: more is a permerror).
pub const MAX_MX: usize = 10;
/// PTR names a `ptr` term or `%{p}` looks at (§4.6.4: the rest are ignored).
pub const MAX_PTR: usize = 10;

/// What to check: an IP, an identity, and the values macros may name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub ip: IpAddr,
    pub identity: Identity,
    /// The MAIL FROM address, empty for the null reverse path.
    pub mail_from: String,
    /// The HELO/EHLO name.
    pub helo: String,
    /// `%{r}`: the checking host's domain.
    pub receiver: String,
    /// `%{t}`: seconds since the epoch, from the caller's clock.
    pub timestamp: u64,
    /// Void lookups allowed; §4.6.4 lets an implementation make it configurable, default 2.
    pub max_void_lookups: u32,
}

impl Request {
    /// The MAIL FROM identity; the null reverse path checks postmaster@HELO (§2.4).
    pub fn mail_from(ip: IpAddr, mail_from: &str, helo: &str) -> Request {
        Request {
            ip,
            identity: Identity::MailFrom,
            mail_from: mail_from.to_string(),
            helo: helo.to_string(),
            receiver: "unknown".into(),
            timestamp: 0,
            max_void_lookups: MAX_VOID_LOOKUPS,
        }
    }

    /// The HELO identity (§2.3).
    pub fn helo(ip: IpAddr, helo: &str) -> Request {
        Request {
            identity: Identity::Helo,
            ..Request::mail_from(ip, "", helo)
        }
    }

    /// (local-part, domain) of <sender>: the HELO name with `postmaster` for the HELO identity
    /// and the null path, `postmaster` for an empty local-part (§4.3).
    pub fn sender(&self) -> (String, String) {
        if self.identity == Identity::Helo || self.mail_from.is_empty() {
            return ("postmaster".into(), self.helo.clone());
        }
        match self.mail_from.rsplit_once('@') {
            Some(("", domain)) => ("postmaster".into(), domain.to_string()),
            Some((local, domain)) => (local.to_string(), domain.to_string()),
            None => ("postmaster".into(), self.mail_from.clone()),
        }
    }
}

/// Runs check_host() for `request` and returns its trace (result, explanation and all).
pub async fn check_host<R: SpfResolver + Sync>(resolver: &R, request: &Request) -> Trace {
    // An IPv4-mapped IPv6 address is IPv4 to SPF (§5, RFC 4291 §2.5.5.2).
    let ip = match request.ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let (local, domain) = request.sender();
    let domain = strip_root(&domain).to_string();
    let sender = format!("{local}@{domain}");
    let mut trace = Trace {
        identity: request.identity,
        ip,
        sender: sender.clone(),
        domain: domain.clone(),
        helo: request.helo.clone(),
        result: SpfResult::None,
        reason: String::new(),
        decided_by: None,
        explanation: None,
        lookups: 0,
        void_lookups: 0,
        void_limit: request.max_void_lookups,
        root: None,
        explanation_queries: Vec::new(),
    };
    if !is_checkable_domain(&domain) {
        trace.reason = format!(
            "{:?} is not a multi-label domain name that can be looked up: none (RFC 7208 §4.3)",
            escape_bytes(domain.as_bytes())
        );
        return trace;
    }
    let mut eval = Evaluator {
        resolver,
        ip,
        values: values(ip, request, &local, &domain, &sender),
        lookups: 0,
        voids: 0,
        max_voids: request.max_void_lookups,
        validated: None,
    };
    let (root, level) = eval.check(domain, Via::Top, Vec::new()).await;
    trace.result = level.result;
    trace.reason = level.reason;
    trace.decided_by = level.decider;
    if level.result == SpfResult::Fail
        && let Some((spec, at)) = &level.exp
    {
        let mut queries = Vec::new();
        trace.explanation = eval.explain(spec, at, &mut queries).await;
        trace.explanation_queries = queries;
    }
    trace.lookups = eval.lookups;
    trace.void_lookups = eval.voids;
    trace.void_limit = request.max_void_lookups;
    trace.root = Some(root);
    trace
}

fn values(ip: IpAddr, request: &Request, local: &str, domain: &str, sender: &str) -> Values {
    let (ip_dotted, ip_version) = match ip {
        IpAddr::V4(v4) => (v4.to_string(), "in-addr"),
        IpAddr::V6(v6) => (nibbles(v6, false, true).join("."), "ip6"),
    };
    Values {
        sender: sender.to_string(),
        local: local.to_string(),
        sender_domain: domain.to_string(),
        domain: domain.to_string(),
        ip_dotted,
        validated: None,
        ip_version: ip_version.into(),
        helo: request.helo.clone(),
        ip_text: ip.to_string(),
        receiver: request.receiver.clone(),
        timestamp: request.timestamp,
    }
}

/// The 32 hex digits of an IPv6 address, most significant first (or reversed for PTR names).
fn nibbles(ip: Ipv6Addr, reversed: bool, upper: bool) -> Vec<String> {
    let mut out: Vec<String> = ip
        .octets()
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .map(|n| {
            if upper {
                format!("{n:X}")
            } else {
                format!("{n:x}")
            }
        })
        .collect();
    if reversed {
        out.reverse();
    }
    out
}

fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => format!("{}.ip6.arpa", nibbles(v6, true, false).join(".")),
    }
}

fn in_network(ip: IpAddr, network: IpAddr, prefix4: u8, prefix6: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => v4_in(ip, net, prefix4),
        (IpAddr::V6(ip), IpAddr::V6(net)) => v6_in(ip, net, prefix6),
        _ => false,
    }
}

fn v4_in(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn v6_in(ip: Ipv6Addr, net: Ipv6Addr, prefix: u8) -> bool {
    let mask = u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// How one check_host() level ended.
struct Level {
    result: SpfResult,
    reason: String,
    decider: Option<Decider>,
    /// The `exp=` that applies to this result, with the domain it was published at.
    exp: Option<(MacroString, String)>,
}

/// A term stopped the whole evaluation.
struct Abort {
    result: SpfResult,
    reason: String,
    /// Set when the stop came from inside an include.
    inner: Option<Decider>,
}

impl Abort {
    fn perm(reason: impl Into<String>) -> Abort {
        Abort {
            result: SpfResult::PermError,
            reason: reason.into(),
            inner: None,
        }
    }

    fn temp(reason: impl Into<String>) -> Abort {
        Abort {
            result: SpfResult::TempError,
            reason: reason.into(),
            inner: None,
        }
    }
}

enum Matched {
    No,
    /// Matched; for an include, the term inside that matched.
    Yes(Option<Decider>),
}

/// Whether a query counts toward the void-lookup limit: only a term's own lookup does (see
/// docs/spf.md: per term, as §4.6.4 words it), not MX hosts' or PTR names' address lookups.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Counted {
    Void,
    Not,
}

type Boxed<'s, T> = Pin<Box<dyn Future<Output = T> + Send + 's>>;

struct Evaluator<'r, R> {
    resolver: &'r R,
    ip: IpAddr,
    values: Values,
    lookups: u32,
    voids: u32,
    max_voids: u32,
    /// Validated names of `ip` for `%{p}`, looked up once.
    validated: Option<Vec<String>>,
}

impl<'r, R: SpfResolver + Sync> Evaluator<'r, R> {
    async fn query(
        &mut self,
        name: &str,
        qtype: QueryType,
        counted: Counted,
        sink: &mut Vec<QueryTrace>,
    ) -> Lookup {
        let name = strip_root(name);
        let (lookup, mut entry) = if is_queryable(name) {
            let lookup = match self.resolver.lookup(name, qtype).await {
                Lookup::Records(rs) if rs.is_empty() => Lookup::NoData,
                other => other,
            };
            let entry = QueryTrace::new(name, qtype, &lookup);
            (lookup, entry)
        } else {
            // Empty or over-long labels, perhaps from a macro: no query can carry the name,
            // so it is read as non-existent (RFC 7208 §4.3 by analogy; the suite allows it).
            (Lookup::NxDomain, QueryTrace::invalid_name(name, qtype))
        };
        if counted == Counted::Void && matches!(lookup, Lookup::NxDomain | Lookup::NoData) {
            self.voids += 1;
            entry.void = Some(self.voids);
        }
        sink.push(entry);
        lookup
    }

    fn void_limit(&self) -> Result<(), Abort> {
        if self.voids > self.max_voids {
            Err(Abort::perm(format!(
                "more than {} void lookups (NXDOMAIN or no records) (RFC 7208 §4.6.4)",
                self.max_voids
            )))
        } else {
            Ok(())
        }
    }

    fn count_lookup(&mut self, term: &mut TermTrace) -> Result<(), Abort> {
        self.lookups += 1;
        term.lookup = Some(self.lookups);
        if self.lookups > MAX_LOOKUPS {
            Err(Abort::perm(format!(
                "more than {MAX_LOOKUPS} DNS-querying terms (include, a, mx, ptr, exists, redirect) (RFC 7208 §4.6.4)"
            )))
        } else {
            Ok(())
        }
    }

    /// One check_host() level for `domain`.
    fn check(
        &mut self,
        domain: String,
        via: Via,
        path: Vec<String>,
    ) -> Boxed<'_, (DomainTrace, Level)> {
        Box::pin(async move {
            let mut dt = DomainTrace {
                domain: domain.clone(),
                via,
                queries: Vec::new(),
                record: None,
                terms: Vec::new(),
                result: SpfResult::None,
                reason: String::new(),
            };
            let level = self.evaluate(&domain, via, &path, &mut dt).await;
            dt.result = level.result;
            dt.reason = level.reason.clone();
            (dt, level)
        })
    }

    async fn evaluate(
        &mut self,
        domain: &str,
        via: Via,
        path: &[String],
        dt: &mut DomainTrace,
    ) -> Level {
        let end = |result, reason: String| Level {
            result,
            reason,
            decider: None,
            exp: None,
        };
        let counted = if via == Via::Top {
            Counted::Not
        } else {
            Counted::Void
        };
        let txt = match self
            .query(domain, QueryType::Txt, counted, &mut dt.queries)
            .await
        {
            Lookup::Records(rs) => rs,
            Lookup::NxDomain => {
                return self.after_void(end(
                    SpfResult::None,
                    format!("{domain} does not exist (NXDOMAIN)"),
                ));
            }
            Lookup::NoData => {
                return self
                    .after_void(end(SpfResult::None, format!("{domain} has no TXT records")));
            }
            Lookup::Error(e) => {
                return end(
                    SpfResult::TempError,
                    format!("the TXT lookup for {domain} failed: {e}"),
                );
            }
            Lookup::Timeout => {
                return end(
                    SpfResult::TempError,
                    format!("the TXT lookup for {domain} timed out"),
                );
            }
        };
        let strings: Vec<Vec<Vec<u8>>> = txt
            .into_iter()
            .filter_map(|r| match r {
                Rdata::Txt(s) => Some(s),
                _ => None,
            })
            .collect();
        let records = record::spf_records(&strings);
        let text = match records.as_slice() {
            [] => {
                return end(SpfResult::None, format!("{domain} has no v=spf1 record"));
            }
            [one] => one,
            many => {
                return end(
                    SpfResult::PermError,
                    format!(
                        "{domain} publishes {} v=spf1 records; exactly one is allowed (RFC 7208 §4.5)",
                        many.len()
                    ),
                );
            }
        };
        dt.record = Some(escape_bytes(text));
        let Ok(text) = std::str::from_utf8(text).map(str::to_string) else {
            return end(
                SpfResult::PermError,
                format!("the record at {domain} is not ASCII (RFC 7208 §3.1)"),
            );
        };
        if !text.is_ascii() {
            return end(
                SpfResult::PermError,
                format!("the record at {domain} is not ASCII (RFC 7208 §3.1)"),
            );
        }
        let record = match Record::parse(&text) {
            Ok(r) => r,
            Err(e) => {
                return end(
                    SpfResult::PermError,
                    format!("syntax error in the record at {domain}: {e}"),
                );
            }
        };
        self.run_terms(domain, &record, path, dt).await
    }

    /// A void lookup that ended a level still counts against the limit, and may break it.
    fn after_void(&self, level: Level) -> Level {
        match self.void_limit() {
            Err(abort) => Level {
                result: abort.result,
                reason: abort.reason,
                decider: None,
                exp: None,
            },
            Ok(()) => level,
        }
    }

    async fn run_terms(
        &mut self,
        domain: &str,
        record: &Record,
        path: &[String],
        dt: &mut DomainTrace,
    ) -> Level {
        let exp = record
            .exp
            .as_ref()
            .map(|m| (m.target.clone(), domain.to_string()));
        let decider = |term: &str, inner: Option<Decider>| {
            inner.unwrap_or_else(|| Decider {
                term: term.to_string(),
                domain: domain.to_string(),
                path: path.to_vec(),
            })
        };
        for directive in &record.directives {
            let mut tt = TermTrace::new(&directive.text);
            let outcome = match self.count_lookup_if(directive.mechanism.queries_dns(), &mut tt) {
                Err(abort) => Err(abort),
                Ok(()) => {
                    self.mechanism(&directive.mechanism, &directive.text, domain, path, &mut tt)
                        .await
                }
            };
            match outcome {
                Ok(Matched::No) => {
                    tt.outcome = TermOutcome::NoMatch;
                    dt.terms.push(tt);
                }
                Ok(Matched::Yes(inner)) => {
                    let result = directive.qualifier.result();
                    tt.outcome = TermOutcome::Match;
                    tt.result = Some(result);
                    dt.terms.push(tt);
                    let decided = decider(&directive.text, inner);
                    return Level {
                        result,
                        reason: format!("{} matched: {result}", decided.describe()),
                        decider: Some(decided),
                        exp,
                    };
                }
                Err(abort) => {
                    tt.outcome = TermOutcome::Error;
                    tt.note.get_or_insert_with(|| abort.reason.clone());
                    dt.terms.push(tt);
                    return Level {
                        result: abort.result,
                        reason: abort.reason,
                        decider: Some(decider(&directive.text, abort.inner)),
                        exp: None,
                    };
                }
            }
        }
        let Some(redirect) = &record.redirect else {
            return Level {
                result: SpfResult::Neutral,
                reason: format!(
                    "no mechanism in {domain} matched and it has no redirect=: neutral by default (RFC 7208 §4.7)"
                ),
                decider: None,
                exp: None,
            };
        };
        let mut tt = TermTrace::new(&redirect.text);
        let level = self.redirect(redirect, domain, path, &mut tt).await;
        tt.outcome = match level.result {
            SpfResult::PermError | SpfResult::TempError => TermOutcome::Error,
            _ => TermOutcome::Match,
        };
        tt.result = Some(level.result);
        dt.terms.push(tt);
        level
    }

    fn count_lookup_if(&mut self, counts: bool, tt: &mut TermTrace) -> Result<(), Abort> {
        if counts {
            self.count_lookup(tt)
        } else {
            Ok(())
        }
    }

    async fn redirect(
        &mut self,
        redirect: &record::Modifier,
        domain: &str,
        path: &[String],
        tt: &mut TermTrace,
    ) -> Level {
        let here = Decider {
            term: redirect.text.clone(),
            domain: domain.to_string(),
            path: path.to_vec(),
        };
        let stop = |abort: Abort| Level {
            result: abort.result,
            reason: abort.reason,
            decider: Some(here.clone()),
            exp: None,
        };
        if let Err(abort) = self.count_lookup(tt) {
            tt.note = Some(abort.reason.clone());
            return stop(abort);
        }
        let target = self
            .expand_domain(&redirect.target, domain, &mut tt.queries)
            .await;
        tt.target = Some(target.clone());
        let mut inner_path = path.to_vec();
        inner_path.push(format!("{} in {domain}", redirect.text));
        let (child, level) = self.check(target.clone(), Via::Redirect, inner_path).await;
        tt.child = Some(Box::new(child));
        match level.result {
            SpfResult::None => {
                let reason = format!(
                    "{} points to {target}, which has no SPF record: permerror (RFC 7208 §6.1)",
                    redirect.text
                );
                tt.note = Some(reason.clone());
                stop(Abort::perm(reason))
            }
            // The target's own result stands, with its exp= (not ours, §6.2).
            _ => Level {
                decider: level.decider.or(Some(here)),
                ..level
            },
        }
    }

    async fn mechanism(
        &mut self,
        mechanism: &Mechanism,
        text: &str,
        domain: &str,
        path: &[String],
        tt: &mut TermTrace,
    ) -> Result<Matched, Abort> {
        let matched = |b: bool| if b { Matched::Yes(None) } else { Matched::No };
        match mechanism {
            Mechanism::All => Ok(Matched::Yes(None)),
            Mechanism::Ip4 { network, prefix } => Ok(matched(in_network(
                self.ip,
                IpAddr::V4(*network),
                *prefix,
                0,
            ))),
            Mechanism::Ip6 { network, prefix } => Ok(matched(in_network(
                self.ip,
                IpAddr::V6(*network),
                0,
                *prefix,
            ))),
            Mechanism::A(spec) => {
                let target = self.host_target(spec, domain, tt).await;
                let qtype = self.address_type();
                let lookup = self
                    .query(&target, qtype, Counted::Void, &mut tt.queries)
                    .await;
                let found = self.addresses(&target, qtype, lookup)?;
                self.void_limit()?;
                Ok(matched(found.iter().any(|ip| {
                    in_network(self.ip, *ip, spec.prefix4, spec.prefix6)
                })))
            }
            Mechanism::Mx(spec) => self.mx(spec, domain, tt).await,
            Mechanism::Ptr(spec) => self.ptr(spec.as_ref(), domain, tt).await,
            Mechanism::Exists(spec) => {
                let target = self.expand_domain(spec, domain, &mut tt.queries).await;
                tt.target = Some(target.clone());
                // Always A, whatever the connection's family (§5.7).
                let lookup = self
                    .query(&target, QueryType::A, Counted::Void, &mut tt.queries)
                    .await;
                let found = self.addresses(&target, QueryType::A, lookup)?;
                self.void_limit()?;
                Ok(matched(!found.is_empty()))
            }
            Mechanism::Include(spec) => {
                let target = self.expand_domain(spec, domain, &mut tt.queries).await;
                tt.target = Some(target.clone());
                let mut inner_path = path.to_vec();
                inner_path.push(format!("{text} in {domain}"));
                let (child, level) = self.check(target.clone(), Via::Include, inner_path).await;
                tt.child = Some(Box::new(child));
                // §5.2's table: only pass matches; errors propagate; none is a permerror.
                match level.result {
                    SpfResult::Pass => Ok(Matched::Yes(level.decider)),
                    SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => {
                        tt.note = Some(format!("{target} gave {}: no match", level.result));
                        Ok(Matched::No)
                    }
                    SpfResult::TempError | SpfResult::PermError => Err(Abort {
                        result: level.result,
                        reason: level.reason,
                        inner: level.decider,
                    }),
                    SpfResult::None => Err(Abort::perm(format!(
                        "{text} points to {target}, which has no SPF record ({}): permerror (RFC 7208 §5.2)",
                        level.reason
                    ))),
                }
            }
        }
    }

    fn address_type(&self) -> QueryType {
        match self.ip {
            IpAddr::V4(_) => QueryType::A,
            IpAddr::V6(_) => QueryType::Aaaa,
        }
    }

    /// The addresses in an answer; a DNS failure is a temperror (§5).
    fn addresses(
        &self,
        name: &str,
        qtype: QueryType,
        lookup: Lookup,
    ) -> Result<Vec<IpAddr>, Abort> {
        match lookup {
            Lookup::Records(rs) => Ok(rs
                .into_iter()
                .filter_map(|r| match r {
                    Rdata::A(v4) => Some(IpAddr::V4(v4)),
                    Rdata::Aaaa(v6) => Some(IpAddr::V6(v6)),
                    _ => None,
                })
                .collect()),
            Lookup::NxDomain | Lookup::NoData => Ok(Vec::new()),
            Lookup::Error(e) => Err(Abort::temp(format!(
                "the {qtype} lookup for {name} failed: {e}"
            ))),
            Lookup::Timeout => Err(Abort::temp(format!(
                "the {qtype} lookup for {name} timed out"
            ))),
        }
    }

    async fn host_target(&mut self, spec: &HostSpec, domain: &str, tt: &mut TermTrace) -> String {
        let target = match &spec.domain {
            Some(d) => self.expand_domain(d, domain, &mut tt.queries).await,
            None => domain.to_string(),
        };
        tt.target = Some(target.clone());
        target
    }

    async fn mx(
        &mut self,
        spec: &HostSpec,
        domain: &str,
        tt: &mut TermTrace,
    ) -> Result<Matched, Abort> {
        let target = self.host_target(spec, domain, tt).await;
        let lookup = self
            .query(&target, QueryType::Mx, Counted::Void, &mut tt.queries)
            .await;
        let mut hosts: Vec<(u16, String)> = match lookup {
            Lookup::Records(rs) => rs
                .into_iter()
                .filter_map(|r| match r {
                    Rdata::Mx {
                        preference,
                        exchange,
                    } => Some((preference, exchange)),
                    _ => None,
                })
                .collect(),
            Lookup::NxDomain | Lookup::NoData => Vec::new(),
            Lookup::Error(e) => {
                return Err(Abort::temp(format!(
                    "the MX lookup for {target} failed: {e}"
                )));
            }
            Lookup::Timeout => {
                return Err(Abort::temp(format!("the MX lookup for {target} timed out")));
            }
        };
        self.void_limit()?;
        if hosts.len() > MAX_MX {
            return Err(Abort::perm(format!(
                "{target} has {} MX records; an mx term may look up at most {MAX_MX} (RFC 7208 §4.6.4)",
                hosts.len()
            )));
        }
        hosts.sort_by_key(|(preference, _)| *preference);
        let qtype = self.address_type();
        for (_, host) in hosts {
            // A null MX (RFC 7505) names the root: there is no host to look up.
            if strip_root(&host).is_empty() {
                continue;
            }
            let lookup = self
                .query(&host, qtype, Counted::Not, &mut tt.queries)
                .await;
            let found = self.addresses(&host, qtype, lookup)?;
            if found
                .iter()
                .any(|ip| in_network(self.ip, *ip, spec.prefix4, spec.prefix6))
            {
                tt.note = Some(format!("{} is an address of MX host {host}", self.ip));
                return Ok(Matched::Yes(None));
            }
        }
        Ok(Matched::No)
    }

    async fn ptr(
        &mut self,
        spec: Option<&MacroString>,
        domain: &str,
        tt: &mut TermTrace,
    ) -> Result<Matched, Abort> {
        let target = match spec {
            Some(s) => self.expand_domain(s, domain, &mut tt.queries).await,
            None => domain.to_string(),
        };
        tt.target = Some(target.clone());
        let names = self.ptr_names(Counted::Void, &mut tt.queries).await;
        self.void_limit()?;
        // Only names at or below the target can match, so only they are validated (§5.5).
        for name in names.iter().filter(|n| is_within(n, &target)) {
            if self.validates(name, &mut tt.queries).await {
                tt.note = Some(format!("{name} is a validated name of {}", self.ip));
                return Ok(Matched::Yes(None));
            }
        }
        Ok(Matched::No)
    }

    /// The first 10 PTR names of the IP; a DNS error means none (§5.5: the term fails to match).
    async fn ptr_names(&mut self, counted: Counted, sink: &mut Vec<QueryTrace>) -> Vec<String> {
        let reverse = reverse_name(self.ip);
        match self.query(&reverse, QueryType::Ptr, counted, sink).await {
            Lookup::Records(rs) => rs
                .into_iter()
                .filter_map(|r| match r {
                    Rdata::Ptr(name) => Some(strip_root(&name).to_string()),
                    _ => None,
                })
                .take(MAX_PTR)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `name`'s addresses include the IP; lookup errors skip the name (§5.5).
    async fn validates(&mut self, name: &str, sink: &mut Vec<QueryTrace>) -> bool {
        let qtype = self.address_type();
        match self.query(name, qtype, Counted::Not, sink).await {
            Lookup::Records(rs) => rs.iter().any(|r| match r {
                Rdata::A(v4) => self.ip == IpAddr::V4(*v4),
                Rdata::Aaaa(v6) => self.ip == IpAddr::V6(*v6),
                _ => false,
            }),
            _ => false,
        }
    }

    /// `%{p}` (§7.3): a validated name of the IP, preferring the domain itself, then a name
    /// below it, then any; "unknown" when there is none.
    async fn validated_name(&mut self, domain: &str, sink: &mut Vec<QueryTrace>) -> String {
        if self.validated.is_none() {
            let mut validated = Vec::new();
            for name in self.ptr_names(Counted::Not, sink).await {
                if self.validates(&name, sink).await {
                    validated.push(name);
                }
            }
            self.validated = Some(validated);
        }
        let names = self.validated.as_deref().unwrap_or_default();
        let exact = names.iter().find(|n| n.eq_ignore_ascii_case(domain));
        let below = names.iter().find(|n| is_within(n, domain));
        exact
            .or(below)
            .or(names.first())
            .cloned()
            .unwrap_or_else(|| "unknown".into())
    }

    async fn values_for(
        &mut self,
        spec: &MacroString,
        domain: &str,
        sink: &mut Vec<QueryTrace>,
    ) -> Values {
        let mut values = self.values.clone();
        values.domain = domain.to_string();
        if spec.uses('p') {
            values.validated = Some(self.validated_name(domain, sink).await);
        }
        values
    }

    async fn expand_domain(
        &mut self,
        spec: &MacroString,
        domain: &str,
        sink: &mut Vec<QueryTrace>,
    ) -> String {
        let values = self.values_for(spec, domain, sink).await;
        spec.expand_domain(&values)
    }

    /// The explanation for a fail (§6.2). Any problem — a DNS failure, no record or several,
    /// non-ASCII, a macro error — means no explanation, never a different result.
    async fn explain(
        &mut self,
        spec: &MacroString,
        domain: &str,
        sink: &mut Vec<QueryTrace>,
    ) -> Option<String> {
        let name = self.expand_domain(spec, domain, sink).await;
        let Lookup::Records(rs) = self.query(&name, QueryType::Txt, Counted::Not, sink).await
        else {
            return None;
        };
        let [Rdata::Txt(strings)] = rs.as_slice() else {
            return None;
        };
        let text = String::from_utf8(record::join(strings)).ok()?;
        if !text.is_ascii() {
            return None;
        }
        let explanation = MacroString::parse(&text, Context::Explanation).ok()?;
        let values = self.values_for(&explanation, domain, sink).await;
        Some(explanation.expand(&values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_network(ip("192.0.2.9"), ip("192.0.2.0"), 24, 0));
        assert!(!in_network(ip("192.0.3.9"), ip("192.0.2.0"), 24, 0));
        assert!(in_network(ip("10.1.2.3"), ip("1.1.1.1"), 0, 0));
        assert!(in_network(ip("2001:db8::1"), ip("2001:db8::"), 0, 32));
        assert!(in_network(ip("::1"), ip("::"), 0, 0));
        assert!(!in_network(ip("2001:db8::1"), ip("192.0.2.0"), 0, 0));
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.3".parse().unwrap()),
            "3.2.0.192.in-addr.arpa"
        );
        assert_eq!(
            reverse_name("2001:db8::cb01".parse().unwrap()),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn senders() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let s = |r: Request| r.sender();
        assert_eq!(
            s(Request::mail_from(ip, "a@b.example", "h.example")),
            ("a".into(), "b.example".into())
        );
        assert_eq!(
            s(Request::mail_from(ip, "", "h.example")),
            ("postmaster".into(), "h.example".into())
        );
        assert_eq!(
            s(Request::mail_from(ip, "@b.example", "h.example")),
            ("postmaster".into(), "b.example".into())
        );
        assert_eq!(
            s(Request::helo(ip, "h.example")),
            ("postmaster".into(), "h.example".into())
        );
    }
}
