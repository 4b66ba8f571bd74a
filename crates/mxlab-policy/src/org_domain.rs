//! Organizational domains (RFC 7489 §3.2): the public suffix a name falls under, plus one
//! label. A small built-in list of multi-label suffixes stands in for the Public Suffix List;
//! a world may add its own (a scenario's `[dns] public_suffixes`). Without a matching entry the
//! top-level label is the suffix, as the list's implicit `*` rule says.

use std::collections::BTreeSet;

/// Suffixes under which organizations register names, beyond the top-level labels that the
/// implicit rule covers already. Enough for the stories told here; not the whole list.
const BUILTIN: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "co.jp", "ne.jp",
    "or.jp", "ac.jp", "go.jp", "ad.jp", "ed.jp", "gr.jp", "lg.jp", "com.au", "net.au", "org.au",
    "edu.au", "gov.au", "co.nz", "org.nz", "net.nz", "com.br", "net.br", "org.br", "com.cn",
    "net.cn", "org.cn", "co.kr", "or.kr", "co.in", "net.in", "com.mx", "co.za", "com.sg", "com.hk",
    "com.tw", "co.il", "com.tr", "com.ar", "co.id",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicSuffixes {
    entries: BTreeSet<String>,
}

impl Default for PublicSuffixes {
    fn default() -> Self {
        PublicSuffixes::builtin()
    }
}

fn normal(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl PublicSuffixes {
    /// The built-in list.
    pub fn builtin() -> Self {
        PublicSuffixes {
            entries: BUILTIN.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The built-in list and `extra`.
    pub fn with<I, S>(extra: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = PublicSuffixes::builtin();
        list.entries.extend(
            extra
                .into_iter()
                .map(|s| normal(s.as_ref()))
                .filter(|s| !s.is_empty()),
        );
        list
    }

    /// The longest public suffix `domain` ends with (its top-level label when no entry
    /// matches).
    pub fn suffix_of(&self, domain: &str) -> String {
        let domain = normal(domain);
        let labels: Vec<&str> = domain.split('.').collect();
        (0..labels.len())
            .map(|i| labels[i..].join("."))
            .find(|candidate| self.entries.contains(candidate))
            .unwrap_or_else(|| labels.last().copied().unwrap_or_default().to_string())
    }

    /// The organizational domain: the public suffix and one more label (the domain itself
    /// when it is a public suffix).
    pub fn organizational_domain(&self, domain: &str) -> String {
        let domain = normal(domain);
        let suffix = self.suffix_of(&domain);
        if domain == suffix {
            return domain;
        }
        let head = &domain[..domain.len() - suffix.len() - 1];
        let label = head.rsplit('.').next().unwrap_or(head);
        format!("{label}.{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_label_below_the_longest_suffix() {
        let psl = PublicSuffixes::builtin();
        assert_eq!(psl.organizational_domain("mail.example.com"), "example.com");
        assert_eq!(
            psl.organizational_domain("a.b.example.co.jp"),
            "example.co.jp"
        );
        assert_eq!(
            psl.organizational_domain("Portal.MyCompany.test."),
            "mycompany.test"
        );
        assert_eq!(
            psl.organizational_domain("mycompany.test"),
            "mycompany.test"
        );
        assert_eq!(psl.organizational_domain("co.jp"), "co.jp");
        assert_eq!(psl.organizational_domain("test"), "test");
    }

    #[test]
    fn a_world_adds_its_own_suffixes() {
        let psl = PublicSuffixes::with(["hosting.test"]);
        assert_eq!(
            psl.organizational_domain("shop.hosting.test"),
            "shop.hosting.test"
        );
        assert_eq!(
            psl.organizational_domain("mail.shop.hosting.test"),
            "shop.hosting.test"
        );
        assert_eq!(
            PublicSuffixes::builtin().organizational_domain("mail.shop.hosting.test"),
            "hosting.test"
        );
    }
}
