//! SMTP AUTH (RFC 4954) as pure steps: which mechanism a client may use, the challenges of
//! PLAIN (RFC 4616) and LOGIN, and the reply for every way an exchange can go wrong. The
//! session reads the lines and sends the replies; any well-formed credentials are accepted
//! here, and a story scripts refusals with a rule at stage `auth` (`535 5.7.8`).

use mxlab_vocab::{EnhancedStatus, Reply};

/// The mechanisms this server can carry out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

impl Mechanism {
    /// By its SASL name, as an EHLO keyword or an AUTH command writes it.
    pub fn named(name: &str) -> Option<Mechanism> {
        if name.eq_ignore_ascii_case("PLAIN") {
            Some(Mechanism::Plain)
        } else if name.eq_ignore_ascii_case("LOGIN") {
            Some(Mechanism::Login)
        } else {
            None
        }
    }

    /// smtp-proto's bit for it, as its AUTH parser hands it over.
    pub fn from_proto(bits: u64) -> Option<Mechanism> {
        match bits {
            smtp_proto::AUTH_PLAIN => Some(Mechanism::Plain),
            smtp_proto::AUTH_LOGIN => Some(Mechanism::Login),
            _ => None,
        }
    }
}

/// The mechanisms a host's `AUTH …` extension offers that this server can carry out.
pub fn offered(extensions: &[String]) -> Vec<Mechanism> {
    extensions
        .iter()
        .filter_map(|e| {
            let mut words = e.split_whitespace();
            let keyword = words.next()?;
            keyword.eq_ignore_ascii_case("AUTH").then_some(words)
        })
        .flatten()
        .filter_map(Mechanism::named)
        .collect()
}

/// What comes after a step of the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send this 334 and read the client's answer.
    Challenge(Reply),
    /// Well-formed credentials for this user: the host decides (stage `auth`).
    Done { user: String },
    /// The exchange is over with this reply.
    Fail(Reply),
}

/// One AUTH exchange in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    mechanism: Mechanism,
    /// LOGIN: the user name, once given.
    user: Option<String>,
}

impl Exchange {
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// `AUTH <mechanism> [initial-response]`; `initial` is empty when none was given.
    pub fn start(mechanism: Mechanism, initial: &str) -> (Exchange, Next) {
        let mut exchange = Exchange {
            mechanism,
            user: None,
        };
        let next = match (mechanism, initial) {
            (Mechanism::Plain, "") => Next::Challenge(Reply::new(334, None, "")),
            (Mechanism::Login, "") => Next::Challenge(Reply::new(334, None, USERNAME)),
            // RFC 4954 §4: a "*" initial response is not defined; treat it as a cancel.
            (_, answer) => exchange.answer(answer),
        };
        (exchange, next)
    }

    /// The client's answer to the last challenge.
    pub fn answer(&mut self, line: &str) -> Next {
        let line = line.trim_end_matches(['\r', '\n']);
        if line == "*" {
            return Next::Fail(reply(501, (5, 7, 0), "Authentication cancelled"));
        }
        // RFC 4954 §4: "=" is an empty initial response.
        let decoded = if line == "=" {
            Some(Vec::new())
        } else {
            base64(line)
        };
        let Some(decoded) = decoded else {
            return Next::Fail(reply(
                501,
                (5, 5, 2),
                "Cannot decode the response (not base64)",
            ));
        };
        match self.mechanism {
            Mechanism::Plain => plain(&decoded),
            Mechanism::Login => match self.user.take() {
                None => match String::from_utf8(decoded) {
                    Ok(user) if !user.is_empty() => {
                        self.user = Some(user);
                        Next::Challenge(Reply::new(334, None, PASSWORD))
                    }
                    _ => invalid(),
                },
                Some(user) => Next::Done { user },
            },
        }
    }
}

/// "Username:" and "Password:", base64, as every LOGIN server asks.
const USERNAME: &str = "VXNlcm5hbWU6";
const PASSWORD: &str = "UGFzc3dvcmQ6";

/// RFC 4616: `[authzid] NUL authcid NUL passwd`, the user and the password not empty.
fn plain(decoded: &[u8]) -> Next {
    let parts: Vec<&[u8]> = decoded.split(|&b| b == 0).collect();
    match parts.as_slice() {
        [_, user, password] if !user.is_empty() && !password.is_empty() => {
            match std::str::from_utf8(user) {
                Ok(user) => Next::Done {
                    user: user.to_string(),
                },
                Err(_) => invalid(),
            }
        }
        _ => invalid(),
    }
}

fn invalid() -> Next {
    Next::Fail(reply(535, (5, 7, 8), "Authentication credentials invalid"))
}

fn reply(code: u16, (class, subject, detail): (u8, u16, u16), text: &str) -> Reply {
    Reply::new(
        code,
        Some(EnhancedStatus::new(class, subject, detail)),
        text,
    )
}

/// Strict base64 (RFC 4648 §4, padding required); `None` for anything else.
fn base64(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let quads = bytes.len() / 4;
    for (i, quad) in bytes.chunks_exact(4).enumerate() {
        let padding = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && i + 1 != quads) {
            return None;
        }
        let mut n: u32 = 0;
        for &c in &quad[..4 - padding] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * padding as u32;
        let three = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&three[..3 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(next: &Next) -> u16 {
        match next {
            Next::Challenge(r) | Next::Fail(r) => r.code,
            Next::Done { .. } => 235,
        }
    }

    #[test]
    fn base64_strict() {
        assert_eq!(base64("AGFsaWNlAHNlY3JldA==").unwrap(), b"\0alice\0secret");
        assert_eq!(base64("TWFu").unwrap(), b"Man");
        assert_eq!(base64("TWE=").unwrap(), b"Ma");
        for bad in ["", "TWF", "TW=u", "T===", "TWE=TWFu", "!!!!", "dXNlcg== "] {
            assert_eq!(base64(bad), None, "{bad}");
        }
    }

    #[test]
    fn plain_with_and_without_initial_response() {
        let (_, next) = Exchange::start(Mechanism::Plain, "AGFsaWNlAHNlY3JldA==");
        assert_eq!(
            next,
            Next::Done {
                user: "alice".into()
            }
        );
        let (mut x, next) = Exchange::start(Mechanism::Plain, "");
        assert_eq!(next, Next::Challenge(Reply::new(334, None, "")));
        assert_eq!(code(&x.answer("AGFsaWNlAHNlY3JldA==")), 235);
    }

    #[test]
    fn login_asks_for_the_user_then_the_password() {
        let (mut x, next) = Exchange::start(Mechanism::Login, "");
        assert_eq!(next, Next::Challenge(Reply::new(334, None, USERNAME)));
        assert_eq!(
            x.answer("YWxpY2U="),
            Next::Challenge(Reply::new(334, None, PASSWORD))
        );
        assert_eq!(
            x.answer("c2VjcmV0"),
            Next::Done {
                user: "alice".into()
            }
        );
        // The user name as an initial response.
        let (mut x, next) = Exchange::start(Mechanism::Login, "YWxpY2U=");
        assert_eq!(code(&next), 334);
        assert_eq!(code(&x.answer("c2VjcmV0")), 235);
    }

    #[test]
    fn cancels_and_bad_answers() {
        let (mut x, _) = Exchange::start(Mechanism::Plain, "");
        let Next::Fail(r) = x.answer("*") else {
            panic!()
        };
        assert_eq!(
            (r.code, r.status.unwrap().to_string()),
            (501, "5.7.0".into())
        );
        let (mut x, _) = Exchange::start(Mechanism::Login, "");
        let Next::Fail(r) = x.answer("not base64!") else {
            panic!()
        };
        assert_eq!(
            (r.code, r.status.unwrap().to_string()),
            (501, "5.5.2".into())
        );
        // Decodes, but is no PLAIN message.
        let (_, next) = Exchange::start(Mechanism::Plain, "dXNlcg==");
        assert_eq!(code(&next), 535);
        let (_, next) = Exchange::start(Mechanism::Plain, "=");
        assert_eq!(code(&next), 535);
    }

    #[test]
    fn what_a_host_offers() {
        let ext = ["PIPELINING".to_string(), "AUTH PLAIN LOGIN CRAM-MD5".into()];
        assert_eq!(offered(&ext), [Mechanism::Plain, Mechanism::Login]);
        assert!(offered(&["AUTH".to_string()]).is_empty());
    }
}
