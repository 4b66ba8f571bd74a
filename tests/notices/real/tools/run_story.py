#!/usr/bin/env python3
"""run_story.py STORY [--ts X] [--max S] [--tls-secure DOMAIN,...]
Serve an mxlab story, inject its messages into the local Postfix, collect the notices."""
import argparse, os, subprocess, sys, time, tomllib, shutil, signal, glob, email.utils, re
p = argparse.ArgumentParser()
p.add_argument('story'); p.add_argument('--ts', type=float, default=1.0)
p.add_argument('--max', type=float, default=170); p.add_argument('--tls-secure', default='')
p.add_argument('--blackhole', default='', help='ip:port to hold with a full listen backlog (SYNs unanswered)')
a = p.parse_args()
MAIN = '/work/main'
custom = a.story.endswith('.toml')
if custom:
    path = os.path.abspath(a.story); a.story = os.path.basename(path)[:-5]
else:
    path = f'{MAIN}/scenarios/{a.story}.toml'
    if not os.path.exists(path): path = f'{MAIN}/scenarios/variants/{a.story}.toml'
sc = tomllib.load(open(path, 'rb'))
OUT = '/work/notices-real/postfix'; RUN = f'/root/runs/{a.story}'
shutil.rmtree(RUN, ignore_errors=True); os.makedirs(RUN)
MD = '/home/taro/Maildir/new'
def sh(c): return subprocess.run(c, shell=True, capture_output=True, text=True)
# fresh Postfix state
sh('postfix stop'); time.sleep(1); sh('postsuper -d ALL'); sh('postsuper -d ALL deferred')
for f in glob.glob(MD + '/*'): os.remove(f)
# TLS policy
with open('/etc/postfix/tls_policy', 'w') as f:
    for d in filter(None, a.tls_secure.split(',')): f.write(f'{d} secure\n')
logstart = os.path.getsize('/var/log/postfix.log')
bh = None
if a.blackhole:
    import socket
    ip, port = a.blackhole.split(':'); bh = socket.socket(); bh.bind((ip, int(port))); bh.listen(0)
    filler = socket.socket(); filler.connect((ip, int(port)))   # fills the backlog; never accepted
mx = subprocess.Popen(['/work/bin/mxlab', 'serve', a.story if path.startswith(f'{MAIN}/scenarios/') and '/variants/' not in path else path, '--dns', '127.0.0.53:53', '--smtp-port', '25',
                       '--time-scale', str(a.ts)], cwd=MAIN, stdout=open(f'{RUN}/serve.out', 'w'),
                      stderr=open(f'{RUN}/serve.err', 'w'))
t0 = time.time()
for _ in range(50):
    time.sleep(0.2)
    txt = open(f'{RUN}/serve.out').read()
    if 'smtp ' in txt or ('dns ' in txt and not sc.get('smtp')): break
time.sleep(0.5)
txt = open(f'{RUN}/serve.out').read()
if mx.poll() is not None or not txt.strip(): sys.exit('mxlab serve failed: ' + open(f'{RUN}/serve.err').read()[:300])
m = re.search(r'^tls-ca - (\S+)', txt, re.M)
if m: shutil.copy(m.group(1), '/etc/postfix/mxlab-ca.pem'); sh("postconf -e 'smtp_tls_CAfile = /etc/postfix/mxlab-ca.pem'")
else: sh("postconf -e 'smtp_tls_CAfile ='")
r = sh('postfix start'); 
time.sleep(1.5)
def dur(s):
    tot = 0
    for n, u in re.findall(r'(\d+)(ms|s|m|h|d)', s): tot += int(n) * {'ms': .001, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}[u]
    return tot
msgs = []
for m in sc['sender']['messages']:
    for i in range(m.get('count', 1)): msgs.append((dur(m.get('at', '0s')) / a.ts, m, i))
msgs.sort(key=lambda x: x[0])
start = time.time()
for at, m, i in msgs:
    while time.time() - start < at: time.sleep(0.2)
    hdr = [f"From: {m['from']}", 'To: ' + ', '.join(m['to']), f"Subject: {m['subject']}" + (f' ({i+1})' if m.get('count', 1) > 1 else ''),
           'Date: ' + email.utils.formatdate(localtime=True), f"Message-ID: <{time.time_ns()}.{i}@mycompany.test>"]
    hdr += m.get('headers', [])
    hdr += ['MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii']
    body = m.get('body') or 'Hello,\n\nplease see the notes below.\n\nRegards\n'
    data = '\n'.join(hdr) + '\n\n' + body.rstrip('\n') + '\n'
    subprocess.run(['/usr/sbin/sendmail', '-f', m['from'], '--'] + m['to'], input=data, text=True)
    print(f'[{time.time()-t0:6.1f}s] injected {m["subject"]} -> {m["to"]}', flush=True)
# wait for the queue to empty
time.sleep(3)
while time.time() - start < a.max:
    q = sh('postqueue -j').stdout.strip()
    if not q: break
    time.sleep(2)
time.sleep(3)
print(f'[{time.time()-t0:6.1f}s] queue: {sh("postqueue -j").stdout.strip()[:300] or "empty"}', flush=True)
mx.send_signal(signal.SIGTERM)
try: mx.wait(10)
except subprocess.TimeoutExpired: mx.kill()
sh('postfix stop'); time.sleep(1)
with open('/var/log/postfix.log') as f: f.seek(logstart); log = f.read()
open(f'{OUT}/logs/{a.story}.log', 'w').write(log)
files = sorted(glob.glob(MD + '/*'), key=lambda f: (os.path.getmtime(f), f))
for old in glob.glob(f'{OUT}/{a.story}-[0-9]*.eml'): os.remove(old)
for n, f in enumerate(files, 1):
    shutil.copy(f, f'{OUT}/{a.story}-{n}.eml')
    subj = re.search(r'^Subject: (.*)$', open(f).read(), re.M)
    print(f'  {a.story}-{n}.eml: {subj.group(1) if subj else "?"}')
print(f'done {a.story} in {time.time()-t0:.0f}s, {len(files)} notices')
