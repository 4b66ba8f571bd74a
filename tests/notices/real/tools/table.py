import glob, os, tomllib, re, collections, sys
MTA = sys.argv[1]; D = f'/work/notices-real/{MTA}'
rows = collections.OrderedDict()
def real(story):
    for p in (f'/work/main/scenarios/{story}.toml', f'/work/main/scenarios/variants/{story}.toml', f'/work/notices-real/tools/scenarios/{story}.toml'):
        if os.path.exists(p): return tomllib.load(open(p, 'rb')).get('expect', {}).get('verdict', '?')
    return '?'
for t in sorted(glob.glob(f'{D}/*.toml')):
    name = os.path.basename(t)[:-5]; story = re.sub(r'-\d+$', '', name)
    d = tomllib.load(open(t, 'rb'))
    subj = re.search(r'^Subject: (.*)$', open(t[:-5] + '.eml').read(), re.M).group(1)
    kind = 'delay warning' if subj.startswith('Delayed') else 'bounce'
    rs = '; '.join(f"{r['address']} {r['outcome']} {r['status']}" + (f" ({r['reply_code']})" if 'reply_code' in r else '') + f" {r['reason']}/{r.get('phase','-')}" for r in d['recipients'])
    rows.setdefault(story, []).append((name, kind, d['verdict'], rs))
print('| story | notice | kind | verdict (label) | story cause | recipients (outcome status (code) reason/phase) |')
print('|---|---|---|---|---|---|')
for s, lst in rows.items():
    for name, kind, v, rs in lst: r = real(s); print(f'| {s} | {name}.eml | {kind} | `{v}` | ' + ('same' if r == v else f'`{r}`') + f' | {rs} |')
c = collections.Counter(v for lst in rows.values() for _, _, v, _ in lst)
print(); print('Notices per verdict: ' + ', '.join(f'`{k}` {n}' for k, n in sorted(c.items())))
