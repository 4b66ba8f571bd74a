//! What a receiving server concludes about the connecting client and the sender before it
//! decides to take mail: a DNS blocklist's verdict on the client's IP (RFC 5782), the IP's
//! reverse DNS with forward confirmation, and the sender domain's DMARC policy as applied
//! (RFC 7489). Scenario rules name them as conditions; the checker names the same results.

use std::fmt;
use std::str::FromStr;

macro_rules! words {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|w| w.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| {
                        let all: Vec<&str> = $name::ALL.iter().map(|w| w.as_str()).collect();
                        format!("`{s}` is not one of: {}", all.join(", "))
                    })
            }
        }

        serde_as_text!($name);
    };
}

words! {
    /// Whether a blocklist zone lists the client's IP.
    DnsblResult {
        /// An A record in 127.0.0.0/8 under the zone for the reversed address.
        Listed => "listed",
        NotListed => "not-listed",
    }
}

words! {
    /// The client IP's reverse DNS, forward-confirmed (FCrDNS).
    ReverseDns {
        /// A PTR name whose A/AAAA records include the IP.
        Confirmed => "confirmed",
        /// No PTR record (NXDOMAIN or no data).
        Missing => "missing",
        /// PTR names exist, but none resolves back to the IP.
        Mismatch => "mismatch",
        /// A lookup failed for now (SERVFAIL, timeout).
        TempError => "temperror",
    }
}

words! {
    /// What the sender domain's DMARC policy makes of a message, as a receiver applies it
    /// (after `pct` sampling).
    DmarcDisposition {
        /// Authenticated and aligned.
        Pass => "pass",
        /// Not authenticated, but nothing applies: no record, `p=none`, or sampled out.
        None => "none",
        Quarantine => "quarantine",
        Reject => "reject",
        /// The policy could not be looked up for now.
        TempError => "temperror",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_back_in_any_case() {
        for w in ReverseDns::ALL {
            assert_eq!(w.as_str().parse::<ReverseDns>(), Ok(*w));
        }
        assert_eq!("Listed".parse::<DnsblResult>(), Ok(DnsblResult::Listed));
        assert_eq!(
            "REJECT".parse::<DmarcDisposition>(),
            Ok(DmarcDisposition::Reject)
        );
        assert!("absent".parse::<ReverseDns>().is_err());
    }
}
