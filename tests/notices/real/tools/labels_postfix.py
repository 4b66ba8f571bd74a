SOURCE = "Postfix 3.7.11 on Debian 12, delivering through `mxlab serve {story}` (commands in README)"
LABELS = {
 'user-unknown': dict(verdict='smtp.rcpt.user-unknown', cause='smtp.rcpt.user-unknown'),
 'relay-denied': dict(verdict='smtp.relay-denied', cause='smtp.relay-denied'),
 'too-big': dict(verdict='smtp.message.too-big', cause='smtp.message.too-big'),
 'header-limit': dict(verdict='smtp.message.header-limit', cause='smtp.message.header-limit'),
 'policy-rejected': dict(verdict='smtp.policy.rejected', cause='smtp.policy.rejected'),
 'spf-fail': dict(verdict='spf.fail', cause='spf.fail'),
 'spf-permerror': dict(verdict='spf.permerror', cause='spf.permerror'),
 'tls-required': dict(verdict='smtp.tls.required', cause='smtp.tls.required'),
 'missing-mx': dict(verdict='dns.mx.missing', cause='dns.mx.missing', phase='dns'),
 'nxdomain': dict(verdict='dns.mx.nxdomain', cause='dns.mx.nxdomain', phase='dns'),
 'null-mx': dict(verdict='dns.mx.null', cause='dns.mx.null', phase='dns'),
 'mx-target-unresolvable': dict(verdict='dns.mx.target-unresolvable', cause='dns.mx.target-unresolvable', phase='dns'),
}
LABELS.update({
 'single-mailbox': dict(verdict='smtp.rcpt.mailbox-full', cause='smtp.rcpt.mailbox-full'),
 'greylisting': dict(verdict='smtp.greylisted', cause='smtp.greylisted'),
 'rate-limited': dict(verdict='smtp.rate-limited', cause='smtp.rate-limited'),
 # mxlab serve stages 'refuse' as accept-then-reset: Postfix saw a reset, not a refusal
 'connection-refused': dict(verdict='smtp.connect.failed', cause='smtp.connect.failed'),
 'connection-refused--port-closed': dict(verdict='smtp.connect.refused', cause='smtp.connect.refused', phase='connect'),
 'seed-447--syn-unanswered': dict(verdict='smtp.connect.timeout', cause='smtp.connect.timeout', phase='connect'),
 'banner-timeout': dict(verdict='smtp.banner.timeout', cause='smtp.banner.timeout', phase='banner'),
 'data-timeout': dict(verdict='smtp.data.timeout', cause='smtp.data.timeout', phase='end-of-data'),
 'disconnect-mid-data': dict(verdict='smtp.data.disconnected', cause='smtp.data.disconnected', phase='end-of-data'),
 'dns-servfail': dict(verdict='dns.temporary-failure', cause='dns.temporary-failure', phase='dns', reason='networkerror'),
 'dns-timeout': dict(verdict='dns.temporary-failure', cause='dns.temporary-failure', phase='dns', reason='networkerror'),
 'local-dns-failure': dict(verdict='dns.temporary-failure', cause='dns.temporary-failure', phase='dns', reason='networkerror'),
 'lame-delegation': dict(verdict='dns.temporary-failure', cause='dns.temporary-failure', phase='dns', reason='networkerror'),
 'remote-447': dict(verdict='smtp.rcpt.transient', cause='smtp.rcpt.transient'),
 'spf-missing': dict(verdict='spf.none', cause='spf.none'),
 'spf-softfail-deferred': dict(verdict='spf.softfail', cause='spf.softfail'),
 'spf-temperror': dict(verdict='spf.temperror', cause='spf.temperror'),
 'tls-failure': dict(verdict='smtp.tls.cert-untrusted', cause='smtp.tls.cert-untrusted', phase='starttls'),
 # batch 2: variants
 'user-unknown--gmail-one-of-three': dict(verdict='smtp.rcpt.user-unknown', cause='smtp.rcpt.user-unknown'),
 'user-unknown--exchange-online-wording': dict(verdict='smtp.rcpt.user-unknown', cause='smtp.rcpt.user-unknown'),
 'relay-denied--exchange-non-accepted-domain': dict(verdict='smtp.relay-denied', cause='smtp.relay-denied'),
 'policy-rejected--barracuda-blocked': dict(verdict='smtp.policy.rejected', cause='smtp.policy.rejected'),
 'policy-rejected--mimecast-envelope-blocked': dict(verdict='smtp.policy.rejected', cause='smtp.policy.rejected'),
 'spf-fail--policyd-spf-at-rcpt': dict(verdict='spf.fail', cause='spf.fail'),
 'spf-missing--gmail-unauthenticated': dict(verdict='spf.none', cause='spf.none'),
 'too-big--gmail-wording': dict(verdict='smtp.message.too-big', cause='smtp.message.too-big'),
 'tls-required--starttls-broken-454': dict(verdict='smtp.tls.required', cause='smtp.tls.required'),
 'null-mx--mixed-recipients': dict(verdict='dns.mx.null', cause='dns.mx.null', phase='dns'),
 'null-mx--no-address-subdomain': dict(verdict='dns.mx.null', cause='dns.mx.null', phase='dns'),
 'missing-mx--one-of-two-domains': dict(verdict='dns.mx.missing', cause='dns.mx.missing', phase='dns'),
 'single-mailbox--dovecot-quota-permanent': dict(verdict='smtp.rcpt.mailbox-full', cause='smtp.rcpt.mailbox-full'),
 'header-limit--sendmail-wording': dict(verdict='smtp.message.header-limit', cause='smtp.message.header-limit'),
 'spf-permerror--syntax-error': dict(verdict='spf.permerror', cause='spf.permerror'),
 'nxdomain--one-typo-among-three': dict(verdict='dns.mx.nxdomain', cause='dns.mx.nxdomain', phase='dns'),
 'greylisting--postgrey-wording': dict(verdict='smtp.greylisted', cause='smtp.greylisted'),
 'rate-limited--yahoo-tss04': dict(verdict='smtp.rate-limited', cause='smtp.rate-limited'),
 'remote-447--postfix-temporary-lookup-failure': dict(verdict='smtp.rcpt.transient', cause='smtp.rcpt.transient'),
})

# per-notice overrides (reason: Sisimai 5.1.0's answer is kept except here)
LABELS.update({
 'connection-refused-2': dict(reason='networkerror'),   # Sisimai says 'blocked' for "Connection reset by peer"
})
LABELS.update({
 'user-unknown--exchange-online-wording-1': dict(reason='userunknown'),        # Sisimai: notaccept for 5.1.10 RecipientNotFound
 'relay-denied--exchange-non-accepted-domain-1': dict(reason='norelaying'),    # Sisimai: securityerror for 5.7.54 "Unable to relay"
})
