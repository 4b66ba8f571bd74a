#!/usr/bin/env python3
"""gen_toml.py MTA LABELS.py : write <eml>.toml beside each notice from the DSN + labels."""
import sys, glob, os, re, email, subprocess, json
from email import policy
MTA = sys.argv[1]; labels = {}
exec(open(sys.argv[2]).read())   # defines LABELS, SOURCE
OUT = f'/work/notices-real/{MTA}'
def sis(f):
    r = subprocess.run(['perl', '/root/sis5.pl', f], capture_output=True, text=True).stdout
    d = {}
    for l in r.splitlines():
        m = re.search(r'rcpt=(\S+) .*reason=(\S+)', l)
        if m: d[m.group(1).lower()] = m.group(2)
    return d
def phase_of(t):
    t = ' '.join(t.split())
    for pat, ph in [(r'initial server greeting|before server greeting|in reply to (?:initial|banner)|421.*(?:greeting)', 'banner'),
                    (r'in reply to end of DATA|after end of data|after end-of-data|sending end of data', 'end-of-data'),
                    (r'while sending message body|in reply to DATA|sending data|while sending data', 'data'),
                    (r'in reply to RCPT TO|after RCPT TO|while sending RCPT', 'rcpt'),
                    (r'in reply to MAIL FROM|after MAIL FROM|while sending MAIL', 'mail'),
                    (r'STARTTLS|TLS', 'starttls'),
                    (r'in reply to (?:EHLO|HELO)', 'ehlo'),
                    (r'connect to|Connection refused|Connection timed out|No route', 'connect'),
                    (r'Host or domain name not found|Name service error|null MX|nullmx|DNS|lookup', 'dns')]:
        if re.search(pat, t, re.I): return ph
    return None
for f in sorted(glob.glob(f'{OUT}/*.eml')):
    name = os.path.basename(f)[:-4]; story = re.sub(r'-\d+$', '', name)
    if story not in LABELS: print('no label for', name); continue
    L = dict(LABELS[story]); L.update(LABELS.get(name, {}))
    msg = email.message_from_bytes(open(f, 'rb').read(), policy=policy.compat32)
    text = ''; recips = []
    for part in msg.walk():
        ct = part.get_content_type()
        if ct == 'text/plain' and not text: text = part.get_payload(decode=True).decode('utf-8', 'replace')
        if ct == 'message/delivery-status':
            blocks = part.get_payload()
            for b in blocks[1:]:
                if b.get('Final-Recipient'): recips.append(b)
    reasons = sis(f)
    lines = [f"source = \"{SOURCE.format(story=story)}\""]
    per = L.get('per', {})
    verdict = L['verdict']
    lines.append(f'verdict = "{verdict}"')
    for b in recips:
        addr = b['Final-Recipient'].split(';', 1)[1].strip()
        action = b['Action'].strip().lower(); status = b['Status'].strip()
        diag = ' '.join((b.get('Diagnostic-Code') or '').split())
        outcome = {'delayed': 'delayed', 'relayed': 'relayed', 'delivered': 'delivered', 'expanded': 'delivered'}.get(action)
        if action == 'failed': outcome = 'expired' if status.startswith('4') or L.get('expired') else 'failed'
        rc = None
        m = re.match(r'smtp;\s*(\d{3})[ -]', diag)
        if m: rc = int(m.group(1))
        o = dict(L); o.update(per.get(addr, {}))
        para = next((p for p in re.split(r'\n\s*\n', text) if p.strip().lower().startswith('<' + addr.lower() + '>')), '')
        ph = o.get('phase') or phase_of(para or diag)
        reason = o.get('reason') or reasons.get(addr.lower(), 'undefined')
        lines += ['', '[[recipients]]', f'address = "{addr}"', f'outcome = "{o.get("outcome", outcome)}"', f'status = "{status}"']
        if rc: lines.append(f'reply_code = {rc}')
        lines += [f'reason = "{reason}"', f'cause = "{o["cause"]}"']
        if ph: lines.append(f'phase = "{ph}"')
    open(f'{OUT}/{name}.toml', 'w').write('\n'.join(lines) + '\n')
    print(f'{name}: ' + ' | '.join(l for l in lines[1:] if not l.startswith('[[') and l))
