//! Why a TLS handshake failed, in the words Exchange's logs use for it.

use std::fmt;

use serde::{Serialize, Serializer};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TlsFailure {
    CertificateExpired,
    CertificateNotYetValid,
    CertificateNameMismatch,
    /// Self-signed, or signed by an authority the client does not trust.
    UnknownIssuer,
    /// No handshake within the limit.
    Timeout,
    /// Anything else, as the TLS library named it.
    Other(String),
}

impl TlsFailure {
    pub fn as_str(&self) -> &str {
        match self {
            TlsFailure::CertificateExpired => "CertificateExpired",
            TlsFailure::CertificateNotYetValid => "CertificateNotYetValid",
            TlsFailure::CertificateNameMismatch => "CertificateNameMismatch",
            TlsFailure::UnknownIssuer => "UnknownIssuer",
            TlsFailure::Timeout => "Timeout",
            TlsFailure::Other(s) => s,
        }
    }
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TlsFailure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
