//! The rule catalog, in priority order: when two causes are equally severe, the earlier one
//! is the verdict (a domain that does not exist explains more than the connection that was
//! never made to it).

mod dns_mx;
pub mod doc;
pub(crate) mod ja;
mod notices;

use mxlab_vocab::RuleId;

use crate::rule::{Role, Rule, Severity};

pub use doc::markdown;

pub static RULES: &[Rule] = &[
    Rule {
        id: RuleId::DnsLocalResolver,
        fires: "DNS failures in the notices or tracking log (\"DNS query failed\", SERVFAIL) and, now, the sender's resolver failing while a walk from the root gets an answer; or DNS failures for unrelated domains at once that have since cleared.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sender's own DNS resolver or forwarder fails; the target's DNS is fine",
        explanation: "Lookups through the sending server's resolver fail (SERVFAIL, timeout, refused), but the recipient domain's servers answer correctly when asked directly from the root (`dig +trace`). The fault is local: the resolver, its forwarder, or the path to them.",
        remediation: &[
            "Compare `nslookup -type=MX <domain>` against your resolver with `dig +trace <domain> MX` (or a public resolver).",
            "Check the DNS server or forwarder the transport service uses (Exchange: Get-TransportService | fl *DNS*), its forwarders and its outbound port 53.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::DnsLameDelegation,
        fires: "DNS failures seen, and the walk from the root finds the parent delegating to servers that refuse the zone or answer without authority.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The recipient domain's delegation is lame",
        explanation: "The parent zone delegates the domain to name servers that do not serve it (they refuse, or answer without authority). Resolvers cannot find the domain's MX, and mail waits in the queue.",
        remediation: &[
            "Check `dig +trace <domain> MX`: the NS records at the parent must point at servers that answer authoritatively.",
            "The domain's owner must fix the NS records at the registrar, or configure the named servers for the zone.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::DnsServfail,
        fires: "DNS failures seen (\"DNS query failed\", \"Name service error … try again\", SERVFAIL), and the domain's servers (or the MX host's address lookup) answer SERVFAIL now — or the failure has cleared and the text names no more.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The recipient domain's DNS answers SERVFAIL",
        explanation: "The domain's authoritative servers answer SERVFAIL: they cannot serve the zone (a broken zone, an expired signature, a backend failure). The sending server retries, sends a delay notice, and finally gives up.",
        remediation: &[
            "Confirm with `dig @<the domain's server> <domain> MX` from outside your network.",
            "Tell the recipient's DNS administrator; nothing on the sending side can fix it.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::DnsTimeout,
        fires: "DNS failures seen, and the domain's servers never answer the walk or the resolver's queries time out.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The recipient domain's DNS servers never answer",
        explanation: "Queries to the domain's authoritative servers time out: they are down, unreachable, or a firewall drops DNS. Resolvers answer SERVFAIL after waiting, and mail waits in the queue.",
        remediation: &[
            "Check `dig +trace <domain> MX` and `dig @<each NS> <domain> MX`: which servers stay silent?",
            "If only your network cannot reach them, check outbound UDP and TCP port 53; otherwise tell the domain's DNS administrator.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::DnsMxNxdomain,
        fires: "An NDR or log line saying the domain does not exist (NXDOMAIN, \"NonExistentDomain\", \"Host unknown\"), or the probe's MX lookup answering NXDOMAIN.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The recipient domain does not exist",
        explanation: "The DNS says the domain does not exist (NXDOMAIN, nslookup's \"Non-existent domain\"). No retry can help: the address is wrong, or the domain has lapsed.",
        remediation: &[
            "Check the recipient address for a typo in the domain.",
            "Confirm with `nslookup -type=MX <domain>` from outside your network; if the outside answer differs, your own DNS or forwarder is at fault.",
            "If the domain should exist, its owner must renew or re-delegate it.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::DnsMxNull,
        fires: "\"null MX\", `556 5.1.10`, or the probe finding `MX 0 .`.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The recipient domain publishes a null MX: it accepts no mail",
        explanation: "An MX record with preference 0 and target \".\" (RFC 7505) declares that the domain receives no mail at all.",
        remediation: &[
            "Use another address for the recipient; the domain does not take mail by design.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::DnsMxMissing,
        fires: "\"no MX and no A\", \"Unable to route\", `5.4.4`, or the probe finding neither MX nor address records.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The recipient domain has no MX record and no address to fall back on",
        explanation: "Without MX records, RFC 5321 §5.1 delivers to the domain's own A/AAAA address; this domain has neither, so there is nowhere to deliver.",
        remediation: &[
            "Ask the recipient's administrator to publish an MX record for the domain.",
            "Check with `nslookup -type=MX <domain>` and `nslookup <domain>`.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::DnsMxTargetUnresolvable,
        fires: "The probe finding every MX host without an address record (NODATA/NXDOMAIN for A and AAAA, not a failed lookup).",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The MX record points at a host name with no address",
        explanation: "The domain's MX names a mail server, but that name has no A or AAAA record, so no connection can be made.",
        remediation: &[
            "Ask the recipient's administrator to add an address record for the MX host, or fix the MX target.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpConnectRefused,
        fires: "Winsock 10061 / \"Connection refused\" in the notices or log; confirmed when the probe's connection is refused.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote MX refuses connections on port 25",
        explanation: "The MX host answers, but nothing listens on port 25 (connection refused; Exchange: Winsock 10061).",
        remediation: &[
            "Test with `telnet <mx> 25` or `swaks --server <mx>` from outside your network.",
            "The recipient's mail service is down or firewalled; contact its administrator.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpConnectTimeout,
        fires: "Winsock 10060 / \"Failed to connect\" / \"Connection timed out\"; confirmed when the probe's connection gets no answer. Met by the probe alone while the mail was delivered, it is a finding, never the verdict; with nothing seen and the mail not delivered, what the probe meets is the failure.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote MX does not answer connections",
        explanation: "Connections to the MX host on port 25 time out (Exchange: \"Failed to connect. Winsock error code: 10060\"). The server is down, unreachable, or a firewall drops the traffic — on their side or yours.",
        remediation: &[
            "Test `telnet <mx> 25` from the sending server and from outside your network: if only yours fails, check your outbound firewall and route.",
            "If it fails from everywhere, the recipient's server is down: contact its administrator; Exchange keeps retrying until the message expires (2 days).",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::DnsTemporaryFailure,
        fires: "A notice read on its own (`mxlab explain`) says a DNS lookup failed for now — \"DNS query failed\", SERVFAIL, \"Host not found, try again\", a DNS timeout — with nothing to probe: the same words are written for the recipient domain's servers, the sender's own resolver and a lame delegation.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "A DNS lookup for the recipient domain failed temporarily; the notice cannot say where",
        explanation: "The sending server could not look up where to deliver, and will retry. Whether the recipient domain's servers fail, its delegation is lame, or the sender's own resolver fails, the notice words alike: only a look at DNS from the sending side tells them apart.",
        remediation: &[
            "Run `mxlab check <recipient>` from the sending network: it walks the delegation from the root and asks your resolver, and names which one fails.",
            "By hand: `nslookup -type=MX <domain>` against your resolver, then `dig +trace <domain> MX`.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpConnectFailed,
        fires: "A notice says the connection to the MX failed without saying how (\"Failed to connect\" with no error code, \"Network is unreachable\", \"No route to host\", \"lost connection\" before the greeting); with a probe, what it meets now names it.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sending server could not connect to the remote MX; the notice does not say why",
        explanation: "No SMTP session was made with the recipient's server. A refusal (nothing listens), a timeout (a firewall or a dead host) and a routing failure look different only from the network.",
        remediation: &[
            "Run `mxlab check <recipient>` from the sending server: it connects to each MX in turn and says whether the connection is refused, times out or has no route.",
            "By hand: `telnet <mx> 25` (or `swaks --to <recipient> --quit-after BANNER`) from the sending server and from outside your network.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::DnsMxImplicit,
        fires: "The probe finding no MX but an address record (RFC 5321 §5.1 fallback).",
        severity: Severity::Warning,
        role: Role::Observation,
        title: "No MX record: mail relies on the A/AAAA fallback",
        explanation: "The domain has no MX record, so senders deliver to its own address (RFC 5321 §5.1). It works, but some senders and filters treat a missing MX as a sign of a domain that takes no mail, and the web server's address must then run SMTP.",
        remediation: &["Publish an MX record naming the mail server explicitly."],
        detect: Some(dns_mx::implicit),
    },
    Rule {
        id: RuleId::TransportShadowRedundancyStandalone,
        fires: "HAREDIRECTFAIL \"No suitable shadow server\" in the tracking log for the recipient's message.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "Shadow redundancy on a standalone server",
        explanation: "Shadow redundancy keeps a copy of each message on another server before acknowledging it. A standalone Exchange server has no such server: the tracking log shows HAREDIRECTFAIL \"No suitable shadow server\", and messages are held up.",
        remediation: &[
            "Set-TransportConfig -ShadowRedundancyEnabled $false",
            "Restart the transport service: net stop MSExchangeTransport && net start MSExchangeTransport",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::TransportBacklog,
        fires: "Messages that waited a quarter of an hour or more between RECEIVE and a first attempt that then succeeded, or that have had no attempt at all by the log's last entry; delay notices that quote no remote error.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sending server's own queue is backed up",
        explanation: "Messages wait in the sending server's queue before their first delivery attempt, and go through at once when attempted: the remote side is fine, this server is slow (I/O, throughput, hardware, third-party software, resources).",
        remediation: &[
            "Look at the queues (Exchange Toolbox, Queue Viewer, Get-Queue): how many messages wait, and in which queue.",
            "Check memory, disk and CPU (Resource Monitor, Event Viewer) and any third-party transport agents; fix what slows the server.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SpfFail,
        fires: "A refusal about SPF (5.7.23, \"SPF\", \"Sender Policy Framework\", Gmail's \"unauthenticated\") and the checker's own RFC 7208 evaluation saying fail; the receiver's code wins when it names the result.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sender's SPF policy fails the sending IP; the remote rejects",
        explanation: "The sending domain's SPF record ends in `-all` and does not list the IP the mail leaves from, so a receiver that enforces SPF rejects it (RFC 7372: 550 5.7.23).",
        remediation: &[
            "Add the sending IP (or the provider's include) to the domain's SPF record: `mxlab check spf --ip <IP> --from <sender>` shows which term decided.",
            "Check that mail leaves from the IP you think it does (NAT, a new relay, a cloud gateway).",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SpfSoftfail,
        fires: "A refusal about SPF and the checker's own evaluation saying softfail.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "SPF soft-fails the sending IP; the remote defers softfails",
        explanation: "The sending domain's SPF record ends in `~all` and does not list the sending IP. Some receivers defer or quarantine such mail.",
        remediation: &[
            "Add the sending IP to the SPF record, then move to `-all` once every source is listed.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SpfNone,
        fires: "A refusal about SPF or authentication and the sender's domain publishing no SPF record.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sender's domain publishes no SPF record",
        explanation: "Without an SPF record, receivers that require one defer or reject the mail, and others treat it with suspicion.",
        remediation: &[
            "Publish a `v=spf1 … -all` TXT record listing every IP that sends for the domain.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SpfPermerror,
        fires: "5.7.24, or a refusal about SPF and the checker's own evaluation saying permerror.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sender's SPF record is broken (permerror)",
        explanation: "The SPF record cannot be evaluated: two `v=spf1` records, a syntax error, more than 10 DNS lookups or more than 2 void lookups. Receivers treat that like a failure (RFC 7372: 550 5.7.24).",
        remediation: &[
            "`mxlab check spf` lists the lint findings; merge duplicate records and flatten includes to stay under 10 lookups.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SpfTemperror,
        fires: "4.7.24, or a refusal about SPF and the checker's own evaluation saying temperror.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sender's SPF could not be looked up (temperror)",
        explanation: "A DNS failure while evaluating the sender's SPF (the sending domain's DNS servers fail or time out): receivers defer the mail (RFC 7372: 451 4.7.24) until it resolves.",
        remediation: &[
            "Check the sending domain's own DNS servers: `dig TXT <domain>` against each of them.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SenderBlocklisted,
        fires: "A refusal naming a blocklist (\"blocked using ZONE\", \"listed in\", Spamhaus, SpamCop, SORBS, Barracuda, a DNSBL lookup link; Microsoft 365's 5.7.606–5.7.649 \"banned sending IP\" and 5.7.708, Outlook.com's S3150 \"block list\"); the checker asks the zone the refusal names for the sending IP (A and TXT). With no refusal, a listing on a zone the probe was given is a warning.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sending IP is on a blocklist the remote uses",
        explanation: "The receiver looks the connecting IP up in a DNS blocklist (RFC 5782: the reversed address under the list's zone; an A record in 127.0.0.0/8 means listed, the TXT record says why) or in its own block list, and refuses (554 5.7.1) or defers (4xx) mail from it. The message is not the problem: every message from that IP meets the same refusal. Some lists (Spamhaus DBL) list the sender's domain instead; the checker's lookup asks about the IP.",
        remediation: &[
            "Look the IP up on the list the refusal names (`dig +short <reversed-ip>.<zone>` and `dig TXT …`, or the list's lookup page) and follow its delisting procedure.",
            "Find why it was listed first — a compromised account, an open relay, a form that sends spam, a dynamic or residential IP (Spamhaus PBL): relay through your provider's smarthost rather than sending direct from such an IP.",
            "Microsoft 365 (5.7.606, S3150): request removal at https://sender.office.com/.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SenderPtrMissing,
        fires: "A refusal about reverse DNS (\"cannot find your hostname\" — Postfix's reject_unknown_client_hostname and reject_unknown_reverse_client_hostname —, 4.7.25/5.7.25, \"PTR\", \"reverse DNS\", \"IP name lookup failed\") and the checker's `dig -x` of the sending IP finding no PTR record. With no refusal, a missing PTR is a warning.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sending IP has no reverse DNS (PTR) record; the remote requires one",
        explanation: "Many receivers (Gmail, Postfix with reject_unknown_client_hostname, most gateways) look up the PTR record of the connecting IP and refuse or defer mail when there is none (450 4.7.25 \"Client host rejected: cannot find your hostname\"; Gmail: 550 5.7.25). Reverse DNS is set by whoever owns the IP block — the hosting or Internet provider — not in the domain's own zone.",
        remediation: &[
            "Check with `dig -x <sending IP>`: NXDOMAIN or no PTR answer means none is set.",
            "Ask the owner of the IP (your provider) to set a PTR to the server's name (e.g. mail.example.com), and publish an A record for that name pointing back to the IP.",
            "Make the server's HELO name the same name.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SenderPtrMismatch,
        fires: "A refusal about reverse DNS and the checker's lookups finding a PTR name that does not resolve back to the sending IP (no forward confirmation).",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sending IP's PTR name does not resolve back to it",
        explanation: "The IP has a PTR record, but the name it gives has no A/AAAA record containing that IP, so forward-confirmed reverse DNS (FCrDNS) fails. Receivers that require it treat the client as having no valid hostname (Postfix: \"cannot find your hostname\"; Gmail 5.7.25: \"the corresponding forward DNS entry does not point to the sending IP\").",
        remediation: &[
            "`dig -x <sending IP>` gives the name; `dig A <that name>` must list the IP.",
            "Add the missing A (or AAAA) record for the PTR name, or have the provider change the PTR to a name that resolves to the IP.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::DmarcReject,
        fires: "A refusal about DMARC (\"DMARC\", 5.7.26, Microsoft 365's 5.7.509, \"domain owner policy\", Yahoo's \"not accepted for policy reasons\"), shown with the sender domain's DMARC record, the checker's SPF result and its alignment. With no refusal, a policy of reject the mail does not pass is a warning.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The sender domain's DMARC policy says reject, and the mail does not pass DMARC",
        explanation: "DMARC (RFC 7489) passes only when SPF or DKIM passes for a domain aligned with the From address (the same organizational domain; the same name with aspf=s). The sender domain publishes p=reject (found at _dmarc.<domain>, or at its organizational domain), so receivers that enforce DMARC refuse the mail (550 5.7.26; Microsoft 365: 5.7.509). mxlab neither signs nor checks DKIM yet: the checker judges by the aligned SPF result alone.",
        remediation: &[
            "Check `dig TXT _dmarc.<domain>` and `mxlab check spf --ip <IP> --from <sender>`: SPF must pass for the IP, and the MAIL FROM domain must be the From domain (or share its organizational domain).",
            "Authorize the sending IP in SPF, or sign the mail with DKIM for the From domain; a third-party sender needs its own aligned SPF or DKIM.",
            "While fixing it, p=quarantine or p=none stops the refusals (and a lower pct applies the policy to fewer messages).",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpPolicyRejected,
        fires: "A 5.7.x refusal naming no more specific cause: reputation, content, a bare \"550 5.7.1 rejected\". Blocklists, reverse DNS and DMARC have rules of their own.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote server refuses the mail by its policy",
        explanation: "A 5.7.x refusal that names no more specific cause the checker can confirm: the sending IP's or domain's reputation, content filtering, a transport rule. The reply text says which.",
        remediation: &[
            "Read the reply text: it usually names the list or the policy (and a URL to delist or appeal).",
            "Check the sending IP against the blocklists it names, its reverse DNS, and the sender domain's SPF, DKIM and DMARC.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpTlsCertExpired,
        fires: "\"CertificateExpired\" in the sender's error, confirmed by the probe's own TLS handshake.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote MX presents an expired TLS certificate",
        explanation: "After STARTTLS the remote server's certificate is past its validity. A sender that requires TLS (Exchange: a RequireTLS send connector, or a domain-secured partner) refuses to deliver and retries until the message expires.",
        remediation: &[
            "Check the certificate: `openssl s_client -starttls smtp -connect <mx>:25` shows its dates.",
            "The recipient's administrator must renew it; meanwhile only relaxing the requirement on your side gets mail through.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpTlsCertNameMismatch,
        fires: "\"CertificateNameMismatch\", confirmed by the probe's handshake.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote MX's TLS certificate is for another name",
        explanation: "The certificate presented after STARTTLS does not name the MX host, so a verifying sender refuses it.",
        remediation: &[
            "The recipient's administrator must install a certificate that names the MX host (or point the MX at the name the certificate has).",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpTlsCertUntrusted,
        fires: "\"UnknownIssuer\", \"self-signed\", confirmed by the probe's handshake; also a TLS negotiation that fails for a reason the text does not name.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote MX's TLS certificate is not trusted",
        explanation: "The certificate presented after STARTTLS is self-signed or from an authority the sender does not trust, so a verifying sender refuses it.",
        remediation: &[
            "The recipient's administrator must use a certificate from a public CA, or you must add their CA to the sending server's trust store.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpTlsRequired,
        fires: "\"Must issue a STARTTLS command first\", \"TLS required\", or a sender that requires TLS finding none offered.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote server demands STARTTLS, which the sender did not use",
        explanation: "The remote server refuses mail over an unencrypted session (530 5.7.0 \"Must issue a STARTTLS command first\"). The sender did not start TLS: TLS is off on its connector, or STARTTLS was not offered to it (a middlebox that strips it from the EHLO reply).",
        remediation: &[
            "Check the EHLO reply from the sending server's network: `swaks --server <mx> --quit-after EHLO` must list STARTTLS.",
            "Enable opportunistic TLS on the send connector (Exchange: it is on by default; check the connector's TLS settings and any SMTP inspection on the firewall).",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpRelayDenied,
        fires: "\"Relay access denied\", \"relaying denied\", 5.7.64 TenantAttribution, 5.7.54.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The server the mail went to refuses to relay it",
        explanation: "The host the sender delivered to does not accept mail for the recipient's domain (\"554 5.7.1 Relay access denied\"; Microsoft 365: 550 5.7.64 TenantAttribution). The domain's MX points at the wrong server, or the sender uses a smart host that does not know it.",
        remediation: &[
            "Check `nslookup -type=MX <domain>`: does it name the domain's real mail server?",
            "If the sender relays through a smart host or connector, check that it accepts mail from this sender for that domain.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpBannerTimeout,
        fires: "A connection dropped on a timeout (\"Connection dropped due to TimedOut\", \"… initial server greeting\") where the probe gets no greeting, or the first attempt failed within the greeting timeout.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote MX accepts connections but never greets",
        explanation: "The TCP connection opens, but the 220 greeting never comes (RFC 5321 allows 5 minutes). The remote server is overloaded or hung, or something in between (a proxy, an inspecting firewall) holds the session.",
        remediation: &[
            "Run `telnet <mx> 25` or `swaks --server <mx> --quit-after BANNER` and time the greeting.",
            "If the greeting never comes from anywhere, tell the recipient's administrator; if only from your network, check your firewall's SMTP inspection.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpRateLimited,
        fires: "Replies about too many connections or messages, rates, throttling, \"server busy\" (Exchange 421 4.3.2, Gmail 421-4.7.0, Microsoft 4.7.500), or a bare 421 4.7.0.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote server limits connections: 421 4.7.0",
        explanation: "The recipient's server turns connections away with \"421 4.7.0\" (too many connections or messages from this sender). The queue retries later, so mail is delayed, not lost.",
        remediation: &[
            "Lower the sender's concurrency to that domain (Exchange: the send connector's and transport's per-domain connection limits).",
            "Ask the recipient's administrator to raise the limit for your server.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpGreylisted,
        fires: "Greylisting wording (\"Greylisted\", postgrey, Mimecast's \"Internal resource temporarily unavailable\"), or an unspecific 4xx (4.7.x or none) that a retry within an hour got past.",
        severity: Severity::Warning,
        role: Role::Cause,
        title: "Greylisting delayed the mail",
        explanation: "The recipient's server temporarily refuses mail from a sender it has not seen (typically \"451 4.7.1\") and accepts a retry after a while. The delay is by design and resolves itself.",
        remediation: &[
            "Nothing to do for this message. If the delays hurt, ask the recipient's administrator to whitelist your sending IP.",
            "Keep the sending IP and envelope sender stable between retries, or greylisting starts over.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpRcptMailboxFull,
        fires: "X.2.2, \"mailbox full\", \"over quota\"; the probe's postmaster check tells a mailbox from a domain problem.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "One recipient's mailbox is full (not a domain problem)",
        explanation: "The remote server refuses one mailbox with 452 4.2.2 (or 552 5.2.2) while accepting others at the domain. Only that recipient is affected; the domain, its DNS and its server are fine.",
        remediation: &[
            "Tell the recipient (by another channel) that their mailbox is full.",
            "Nothing is wrong on the sending side; mail to other recipients at the domain flows.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpRcptUserUnknown,
        fires: "5.1.1, 5.1.10, \"User unknown\", \"RecipientNotFound\", \"does not exist\".",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The recipient's mailbox does not exist",
        explanation: "The remote server refuses the recipient as unknown (550 5.1.1 \"User unknown\"; Exchange: 550 5.1.10 RecipientNotFound). The domain and its server work; the address is wrong, or the mailbox was removed.",
        remediation: &[
            "Check the address for a typo (the local part before the @).",
            "Ask the recipient (by another channel) for their current address; remove the old one from address books and lists.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpRcptTransient,
        fires: "Any other temporary refusal from the remote (a 4xx that names no reason the checker knows).",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote server defers the recipient at RCPT",
        explanation: "The recipient's server answers RCPT with a 4xx reply (e.g. \"451 4.4.7\"): it will not take the message now. The sending queue retries until the message expires.",
        remediation: &[
            "Read the reply text: it names the remote side's reason. Test with `swaks --to <recipient> --server <mx>`.",
            "Tell the recipient's administrator; the refusal is theirs.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpDataTimeout,
        fires: "A connection dropped on a timeout after the message was sent; the probe's DATA or final dot gets no reply.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote server never confirms the message (protocol timeout)",
        explanation: "The message is sent, but the reply to the final dot never comes within the protocol timeout (RFC 5321: 10 minutes). The sender must assume failure and retry, which may duplicate the message.",
        remediation: &[
            "Test with `swaks` and a realistic message size; watch how long the final reply takes.",
            "Content filters on the remote side are the usual suspect: tell the recipient's administrator.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpDataDisconnected,
        fires: "\"SocketError\", \"lost connection\", \"Connection reset\" during the session; the probe's connection closes while it sends.",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The connection drops while the message is sent",
        explanation: "The remote side (or something in between) closes the connection during DATA. Throughput problems, faulty network hardware or a misbehaving filter are typical causes.",
        remediation: &[
            "Send test messages of growing size with `swaks --attach` and see where the connection drops.",
            "Check interface errors and MTU on your side; if the drop happens from everywhere, tell the recipient's administrator.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpMessageHeaderLimit,
        fires: "A size refusal that names the header (\"Message header size exceeds limit\").",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The remote server rejects the message for its header size",
        explanation: "The message's header section is larger than the remote server accepts (the seed article's \"message header limit\"). Long Received chains, big DKIM or ARC sets, or bloated X-headers are typical.",
        remediation: &[
            "Look at the original message's headers: which ones are large or repeated?",
            "Strip needless headers at the sending side (a transport rule), or ask the recipient's administrator about the limit.",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpMessageTooBig,
        fires: "X.3.4, X.2.3, \"message size exceeds\", \"too big\", \"too large\".",
        severity: Severity::Error,
        role: Role::Cause,
        title: "The message is larger than the remote server accepts",
        explanation: "The remote server refuses the message for its size (552 5.3.4 \"message size exceeds fixed limit\", 552 5.2.3, or SIZE refused at MAIL FROM). Attachments grow by a third in transit (base64), so a 20 MB file is a 27 MB message.",
        remediation: &[
            "Send the file another way (a sharing link), or split it.",
            "Check the limit the remote announces in its EHLO SIZE keyword (`swaks --server <mx> --quit-after EHLO`).",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::SmtpMxBackupUsed,
        fires: "The tracking log's SEND going through a host other than the most preferred MX.",
        severity: Severity::Warning,
        role: Role::Observation,
        title: "Mail went to a backup MX",
        explanation: "The most preferred MX did not take the message and a backup (higher preference value) did. Delivery works, but the primary is down or refusing, and backup MXes often filter less well.",
        remediation: &[
            "Check the primary MX (`telnet <primary> 25`) and tell the recipient's administrator.",
        ],
        detect: Some(dns_mx::backup_used),
    },
    Rule {
        id: RuleId::DmarcQuarantine,
        fires: "The checker's DMARC lookup finding p=quarantine (or sp=quarantine for a subdomain) and the mail not passing: SPF does not pass aligned with the From domain.",
        severity: Severity::Warning,
        role: Role::Observation,
        title: "The sender domain's DMARC policy sends its unauthenticated mail to junk",
        explanation: "The mail was delivered, but receivers that enforce DMARC quarantine it — into the recipients' junk or spam folder — because it does not pass DMARC (no aligned SPF pass; DKIM is not checked by mxlab). Recipients may never see it.",
        remediation: &[
            "Make SPF pass for the sending IP with a MAIL FROM aligned to the From domain, or sign with DKIM for the From domain.",
            "Ask a recipient to look in their junk folder to confirm.",
        ],
        detect: Some(crate::diagnosis::policy::quarantine),
    },
    Rule {
        id: RuleId::DsnExpired,
        fires: "An NDR with QUEUE.Expired.",
        severity: Severity::Warning,
        role: Role::Observation,
        title: "The message expired in the queue",
        explanation: "After retrying for the message expiration timeout (Exchange: 2 days), the sending server gave up: \"550 4.4.7 QUEUE.Expired\". The cause is the last real error, not the expiry.",
        remediation: &[
            "Fix the cause named by the verdict, then ask the user to send the message again.",
        ],
        detect: Some(notices::expired),
    },
    Rule {
        id: RuleId::DsnDelayed,
        fires: "A delay notice (\"400 4.4.7 Message delayed\").",
        severity: Severity::Info,
        role: Role::Observation,
        title: "\"400 4.4.7 Message delayed\" is a symptom, not a cause",
        explanation: "Exchange writes \"400 4.4.7 Message delayed\" itself when a message has waited past the delay-notification timeout (4 hours). The cause is the queue's last error, quoted after it in the notice.",
        remediation: &[
            "Read the last error quoted under \"Diagnostic information for administrators\", and diagnose that.",
        ],
        detect: Some(notices::delayed),
    },
    Rule {
        id: RuleId::DsnFailed,
        fires: "An NDR for a permanent failure.",
        severity: Severity::Info,
        role: Role::Observation,
        title: "A non-delivery report says delivery failed permanently",
        explanation: "The sending server gave up at once because of a permanent (5xx) condition; its Status and Diagnostic-Code say which.",
        remediation: &[
            "Read the Diagnostic-Code of the NDR; the verdict names the condition behind it.",
        ],
        detect: Some(notices::failed),
    },
    Rule {
        id: RuleId::OkDelivered,
        fires: "Every recipient has a SEND in the tracking log and nothing held any of them up.",
        severity: Severity::Info,
        role: Role::Outcome,
        title: "The mail was delivered",
        explanation: "Every message reached the recipient's server and was accepted with 250. Warnings, if any, are worth a look but did not stop delivery.",
        remediation: &[],
        detect: None,
    },
    Rule {
        id: RuleId::OkDeliverable,
        fires: "`mxlab check` without --send: the probe reached the recipient's server, which accepted the recipient at RCPT, and no failure was seen or met.",
        severity: Severity::Info,
        role: Role::Outcome,
        title: "The recipient's server accepts mail for the recipient now",
        explanation: "DNS routes the domain, an MX host greets, and it accepts the recipient at RCPT; no message was sent (DATA is sent only with --send), so a refusal of the message itself (size, content, DMARC after the data) is not tested.",
        remediation: &[],
        detect: None,
    },
    Rule {
        id: RuleId::NoticeAutoReply,
        fires: "The message read is an automatic reply (RFC 3834 `Auto-Submitted: auto-replied`, an out-of-office or vacation answer) with no delivery-status report in it.",
        severity: Severity::Info,
        role: Role::Outcome,
        title: "An automatic reply, not a delivery failure",
        explanation: "The mail was delivered: the recipient's mailbox answered it automatically (out of office, vacation). Nothing failed.",
        remediation: &["Nothing to fix; the recipient will read the mail on return."],
        detect: None,
    },
    Rule {
        id: RuleId::NoticeFeedback,
        fires: "The message read is an abuse feedback report (RFC 5965 ARF, `multipart/report; report-type=feedback-report`).",
        severity: Severity::Info,
        role: Role::Outcome,
        title: "A feedback report: a recipient marked the mail as spam",
        explanation: "The mail was delivered, and a recipient (or their provider's filter) reported it as abuse through a feedback loop. Nothing failed, but repeated complaints hurt the sender's reputation.",
        remediation: &[
            "Stop sending to the complaining recipient, and look at why they did not expect the mail (list hygiene, unsubscribe links).",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::ProbeUnavailable,
        fires: "`mxlab check`: a probe could not run from here — nothing answers DNS at the resolver asked (not even about the root), or no connection to any MX host could even be attempted (no route, as without IPv6; refused by the local host).",
        severity: Severity::Warning,
        role: Role::Outcome,
        title: "A probe could not run from this host",
        explanation: "What could not be tested is not a failure of the remote side: the checker's own network stopped the probe. The verdict is `inconclusive`; the finding says what was not tested.",
        remediation: &[
            "Run `mxlab check` from a host that can reach the resolver (--dns) and the MX hosts on port 25 (--smtp-port): many client networks block outbound port 25.",
            "Give --dns a resolver that answers (`dig @<resolver> . NS` must get a reply).",
        ],
        detect: None,
    },
    Rule {
        id: RuleId::Inconclusive,
        fires: "No cause explains a recipient that was not delivered.",
        severity: Severity::Warning,
        role: Role::Outcome,
        title: "No rule explains what happened",
        explanation: "The mail was not delivered, and none of the checks found why. The evidence in the report is the place to start.",
        remediation: &[
            "Check the sending server's queue and tracking log, and run `mxlab check` against the recipient domain.",
        ],
        detect: None,
    },
];

/// The catalog entry of a rule id: every id has one (a test holds the two lists together).
pub fn rule(id: RuleId) -> &'static Rule {
    position(id).1
}

/// A rule id's place in the catalog (the verdict's tie-break order) and its entry.
pub fn position(id: RuleId) -> (usize, &'static Rule) {
    RULES
        .iter()
        .enumerate()
        .find(|(_, r)| r.id == id)
        .expect("every rule id is in the catalog")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxlab_vocab::Lang;

    #[test]
    fn every_rule_id_has_one_catalog_entry() {
        for id in RuleId::ALL {
            assert_eq!(RULES.iter().filter(|r| r.id == *id).count(), 1, "{id}");
        }
        assert_eq!(RULES.len(), RuleId::ALL.len());
    }

    /// Every rule speaks every language: a title, an explanation and as many remediation
    /// steps as the English, none empty, and none left in English.
    #[test]
    fn every_rule_in_every_language() {
        for r in RULES {
            let en = r.text(Lang::En);
            for lang in Lang::ALL {
                let t = r.text(lang);
                assert!(!t.title.trim().is_empty(), "{} {lang}: title", r.id);
                assert!(
                    !t.explanation.trim().is_empty(),
                    "{} {lang}: explanation",
                    r.id
                );
                assert_eq!(
                    t.remediation.len(),
                    en.remediation.len(),
                    "{} {lang}: remediation steps",
                    r.id
                );
                assert!(
                    t.remediation.iter().all(|s| !s.trim().is_empty()),
                    "{} {lang}: an empty step",
                    r.id
                );
                if lang != Lang::En {
                    assert_ne!(t.title, en.title, "{} {lang}: title untranslated", r.id);
                    assert_ne!(
                        t.explanation, en.explanation,
                        "{} {lang}: explanation",
                        r.id
                    );
                }
                if lang == Lang::Ja {
                    // A Japanese sentence has kana; a copy of the English has none.
                    let kana = |s: &str| s.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c));
                    assert!(kana(t.title) && kana(t.explanation), "{} ja: no kana", r.id);
                }
            }
        }
    }

    #[test]
    fn causes_are_found_by_the_diagnosis_and_observations_by_their_detectors() {
        for r in RULES {
            assert_eq!(r.detect.is_some(), r.role == Role::Observation, "{}", r.id);
        }
    }
}
