//! The DNS seam of the evaluator: one question, one outcome. The evaluator never sees a socket
//! or a clock, so the same code runs against the in-memory fake DNS on the virtual clock, a real
//! server through [`crate::NetResolver`], or a table in a test ([`crate::MemoryResolver`]).

use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

/// The record types SPF asks for. `Spf` (type 99) is never used by evaluation (RFC 7208 §3.1
/// removed it); the lint asks for it only to warn that it is still published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum QueryType {
    A,
    #[serde(rename = "AAAA")]
    Aaaa,
    #[serde(rename = "MX")]
    Mx,
    #[serde(rename = "TXT")]
    Txt,
    #[serde(rename = "PTR")]
    Ptr,
    #[serde(rename = "SPF")]
    Spf,
}

impl QueryType {
    pub fn as_str(self) -> &'static str {
        match self {
            QueryType::A => "A",
            QueryType::Aaaa => "AAAA",
            QueryType::Mx => "MX",
            QueryType::Txt => "TXT",
            QueryType::Ptr => "PTR",
            QueryType::Spf => "SPF",
        }
    }
}

impl fmt::Display for QueryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One record of an answer, reduced to what SPF reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rdata {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Mx {
        preference: u16,
        exchange: String,
    },
    /// The character-strings of one TXT (or type 99) record, as bytes: they are joined without
    /// separators (§3.3), and non-ASCII only matters in a record that is SPF's.
    Txt(Vec<Vec<u8>>),
    Ptr(String),
}

impl fmt::Display for Rdata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rdata::A(ip) => write!(f, "{ip}"),
            Rdata::Aaaa(ip) => write!(f, "{ip}"),
            Rdata::Mx {
                preference,
                exchange,
            } => write!(f, "{preference} {exchange}"),
            Rdata::Txt(strings) => {
                for (i, s) in strings.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "\"{}\"", escape_bytes(s))?;
                }
                Ok(())
            }
            Rdata::Ptr(name) => f.write_str(name),
        }
    }
}

/// Bytes as master-file text: printable ASCII as is, the rest as `\DDD`, so a trace can show
/// a record with a stray control character or non-ASCII byte exactly.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out
}

/// What one question got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// NOERROR with records of the asked type (an empty list is read as NODATA).
    Records(Vec<Rdata>),
    NxDomain,
    /// NOERROR without records of the asked type.
    NoData,
    /// SERVFAIL, REFUSED, another RCODE, or an unreadable reply.
    Error(String),
    /// No reply in time.
    Timeout,
}

/// Asks one question. Implementations follow CNAMEs themselves, as a stub resolver would.
///
/// The future is `Send` so that an evaluation can run on a multi-threaded runtime; nothing in
/// the evaluator needs more than one task.
pub trait SpfResolver {
    fn lookup(&self, name: &str, qtype: QueryType) -> impl Future<Output = Lookup> + Send;
}
