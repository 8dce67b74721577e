#!/usr/bin/env bash
# Self-check of the accuracy tooling: benchmarks/gen_corpus.py and benchmarks/score.py.
# Generates small corpora, checks schema, determinism and label consistency, then
# scores fake reports built from the labels.  Needs python3 only; runs in seconds.
# Prints "gen_corpus: N passed, N failed" and exits non-zero on any failure.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
GEN="$here/benchmarks/gen_corpus.py"
SCORE="$here/benchmarks/score.py"
PY=${PYTHON:-python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen_corpus_test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     /' "$2" | head -20; }
# run NAME CMD...: passes when CMD exits 0 (its output goes to $tmp/out)
run() { local name=$1; shift; if "$@" >"$tmp/out" 2>&1; then ok "$name"; else bad "$name" "$tmp/out"; fi; }

N=4000
run "generate array corpus" $PY "$GEN" --n $N --seed 11 --out "$tmp/c.json" --labels "$tmp/l.json" --quiet
run "generate jsonl corpus" $PY "$GEN" --n $N --seed 11 --format jsonl --out "$tmp/c.jsonl" --labels "$tmp/l2.json" --quiet
run "same seed, same bytes" cmp "$tmp/l.json" "$tmp/l2.json"
run "regenerate deterministic" bash -c "$PY '$GEN' --n $N --seed 11 --out '$tmp/c3.json' --labels '$tmp/l3.json' --quiet && cmp '$tmp/c.json' '$tmp/c3.json' && cmp '$tmp/l.json' '$tmp/l3.json'"
run "other seed, other corpus" bash -c "$PY '$GEN' --n $N --seed 12 --out '$tmp/c4.json' --labels '$tmp/l4.json' --quiet && ! cmp -s '$tmp/c.json' '$tmp/c4.json'"
run "tiny corpus (n=1)" $PY "$GEN" --n 1 --seed 1 --out "$tmp/c1.json" --labels "$tmp/l1.json" --quiet
run "bad arguments rejected" bash -c "! $PY '$GEN' --n 10 --dup-rate 1.5 --out '$tmp/x' --labels '$tmp/y' 2>/dev/null"

# ---- corpus checks: schema, encodings, shuffling, label consistency
cat >"$tmp/check.py" <<'EOF'
import json, re, sys, unicodedata
from collections import defaultdict, Counter
corpus, jsonl, labels = sys.argv[1:4]
recs = json.load(open(corpus, encoding='utf-8'))
recs2 = [json.loads(l) for l in open(jsonl, encoding='utf-8')]
lab = json.load(open(labels, encoding='utf-8'))
gold = lab['cluster']; kinds = lab.get('kinds', {})
res = []
def check(name, cond, detail=''):
    res.append((name, bool(cond), detail))

check('jsonl equals array', recs == recs2)
check('record count', len(recs) == lab['n'] == len(gold), (len(recs), lab['n'], len(gold)))
keys = {'id', 'question', 'options', 'answer', 'explanation', 'image', 'type', 'category'}
sch = [i for i, r in enumerate(recs) if set(r) != keys or r['id'] != i
       or not isinstance(r['question'], str) or not isinstance(r['options'], list)
       or not all(isinstance(o, str) for o in r['options']) or not isinstance(r['answer'], str)
       or not isinstance(r['explanation'], str) or not (r['image'] is None or isinstance(r['image'], str))
       or r['type'] not in ('single', 'multi', 'judge') or not r['category']]
check('schema of every record', not sch, sch[:5])
ans_ok = re.compile(r'^(对|错|正确|错误|√|×|[AB]|[A-D]|[a-d]|[1-4]|[A-D](,[A-D])+|[A-D]{2,4}|[A-D](、[A-D])+|[1-4](,[1-4])+|[1-4]{2,4})$')
badans = [r['answer'] for r in recs if not ans_ok.match(r['answer'])]
check('answer encodings', not badans, badans[:5])
enc = Counter()
for r in recs:
    a = r['answer']
    enc['judge_opts' if r['type'] == 'judge' and r['options'] else
        'letters' if re.fullmatch('[A-D]', a) else 'digits' if re.fullmatch('[1-4,]+', a) else
        'multi_comma' if ',' in a else 'multi_run' if re.fullmatch('[A-D]{2,}', a) else a] += 1
for e in ('letters', 'digits', 'multi_comma', 'multi_run', '对', '错', '正确', '错误', 'judge_opts'):
    check('answer encoding %s occurs' % e, enc[e] > 0, enc)
n_multi = sum(r['type'] == 'multi' for r in recs)
n_img = sum(r['image'] is not None for r in recs)
check('all three types occur', n_multi and sum(r['type'] == 'single' for r in recs) and sum(r['type'] == 'judge' for r in recs))
check('images occur', n_img > 0)
L = [len(r['question']) + sum(len(o) for o in r['options']) for r in recs]
check('average stem+options length 35..90', 35 <= sum(L) / len(L) <= 90, sum(L) / len(L))
adj = sum(gold[i] == gold[i + 1] for i in range(len(gold) - 1))
check('records shuffled (few adjacent duplicates)', adj < len(gold) * 0.01, adj)
seen_k = Counter(k for v in kinds.values() for k in v.split(','))
for k in lab['variant_kinds']:
    check('variant kind %s occurs' % k, seen_k[k] > 0, dict(seen_k))
hk = Counter(h['kind'] for h in lab['hard_negatives'])
for k in lab['hardneg_kinds']:
    check('hard-negative kind %s occurs' % k, hk[k] > 0, dict(hk))
check('conflicts occur', lab['conflicts'])
check('hard negatives in different clusters', all(gold[h['a']] != gold[h['b']] for h in lab['hard_negatives']))
check('conflicts in one cluster', all(gold[c['a']] == gold[c['b']] for c in lab['conflicts']))
sizes = Counter(Counter(gold).values())
check('clusters of size >= 3 exist', any(s >= 3 for s in sizes), sizes)

# Aggressive normaliser: undoes every variation the generator applies.  Records of
# different gold clusters must not collide; members of one cluster must agree.
CN = '零一二两三四五六七八九十百千万'
def cn2int(s):
    v = {c: i for i, c in enumerate('零一二三四五六七八九')}; v['两'] = 2
    tot = cur = 0
    for ch in s:
        if ch in v: cur = v[ch]
        elif ch == '十': tot += (cur or 1) * 10; cur = 0
        elif ch == '百': tot += (cur or 1) * 100; cur = 0
        elif ch == '千': tot += (cur or 1) * 1000; cur = 0
        elif ch == '万': tot = (tot + cur) * 10000; cur = 0
    return str(tot + cur)
SYN = [('驾驶机动车', '驾车'), ('机动车驾驶人', '驾驶人'), ('下列', '以下'), ('公安机关交通管理部门', '交管部门'),
       ('危险报警闪光灯', '双闪灯'), ('高速公路', '高速'), ('怎样', '如何'), ('是何含义', '是什么意思'),
       ('能见度很低', '能见度低'), ('驾驶证', '驾照'), ('应当', '应'), ('周岁', '岁')]
FW = ['做法', '说法', '以下', '首先', '的', '了', '时', '应']
def norm(s, fw=True):
    s = re.sub(r'<[^>]*>', '', s).replace('&nbsp;', '').replace('\\n', '')
    s = unicodedata.normalize('NFKC', s).lower()
    s = re.sub('百分之([%s]+)' % CN, lambda m: cn2int(m.group(1)) + '%', s)
    s = re.sub(r'^\s*(【[^】]*】|[（(][^）)]*题?[）)]|第\d+题|\d+[、.．])*', '', s)
    s = re.sub(r'[\s\W_]+', '', s)
    for a, b in SYN: s = s.replace(a, b)
    if fw:
        for w in FW: s = s.replace(w, '')
    return re.sub('[%s]+' % CN, lambda m: cn2int(m.group()), s)
def opt(o):
    o = unicodedata.normalize('NFKC', re.sub(r'<[^>]*>', '', o).replace('\\n', '')).strip()
    o = re.sub(r'^(\([A-H]\)|[A-H](?=[、.．：: ]|$)[、.．：: ]?)', '', o)
    return norm(o, fw=False)
def ans(r, opts):
    a = unicodedata.normalize('NFKC', r['answer']).strip()
    if r['type'] == 'judge':
        return 'T' if a in ('对', '正确', 'A', '√') else 'F'
    idx = ['ABCDEFGH'.index(x.upper()) if x.isalpha() else int(x) - 1 for x in re.findall(r'[A-Ha-h1-8]', a)]
    return tuple(sorted(opts[i] for i in idx))
def img(r):
    return r['image'].rsplit('/', 1)[-1].rsplit('.', 1)[0] if r['image'] else None
coll = []; disagree = []; sig = {}; bycl = defaultdict(list)
confrec = {c['b'] for c in lab['conflicts']}
for i, r in enumerate(recs):
    os_ = [opt(o) for o in r['options']] if r['type'] != 'judge' else []
    s = (norm(r['question']), tuple(sorted(os_)), ans(r, os_), img(r))
    bycl[gold[i]].append((i, s))
    if r['image'] is None and 'image_drop' in kinds.get(str(i), ''):
        continue
    j = sig.setdefault(s, i)
    if gold[j] != gold[i]:
        coll.append((j, i))
for g, ms in bycl.items():
    base = [s for i, s in ms if i not in confrec]
    for s in base[1:]:
        if s[:3] != base[0][:3] or (s[3] and base[0][3] and s[3] != base[0][3]):
            disagree.append(g)
check('no two gold clusters with the same content', not coll, coll[:3])
check('members of a gold cluster agree (answer remapped)', not disagree, disagree[:3])
byi = {i: s for ms in bycl.values() for i, s in ms}
check('conflict records answer differently', all(byi[c['a']][2] != byi[c['b']][2] for c in lab['conflicts']))
check('hard negatives differ in content', all(byi[h['a']] != byi[h['b']] for h in lab['hard_negatives']))
fails = 0
for name, good, detail in res:
    print(('ok   ' if good else 'FAIL ') + name + ('' if good else '  %r' % (detail,)))
    fails += not good
sys.exit(1 if fails else 0)
EOF
if $PY "$tmp/check.py" "$tmp/c.json" "$tmp/c.jsonl" "$tmp/l.json" >"$tmp/chk" 2>&1; then :; fi
cat "$tmp/chk"
p=$(grep -c '^ok ' "$tmp/chk"); f=$(grep -c '^FAIL ' "$tmp/chk")
pass=$((pass+p)); fail=$((fail+f))
grep -q '^ok ' "$tmp/chk" || { echo "FAIL corpus checker crashed"; fail=$((fail+1)); }

# ---- score.py against fake reports made from the labels
cat >"$tmp/mkrep.py" <<'EOF'
import json, sys
from collections import defaultdict
labels, mode, out = sys.argv[1:4]
lab = json.load(open(labels))
gold = lab['cluster']
cl = defaultdict(list)
for i, g in enumerate(gold):
    cl[g].append(i)
conf = [{"a": c["a"], "b": c["b"], "reason": "answer"} for c in lab['conflicts']]
expect = {}
if mode == 'merge_hn':          # perfect, except the clusters of one hard-negative pair merged
    h = lab['hard_negatives'][int(sys.argv[4])]
    ga, gb = gold[h['a']], gold[h['b']]
    cl[ga] += cl.pop(gb)
    merged = {}
    for x in lab['hard_negatives']:
        if {gold[x['a']], gold[x['b']]} == {ga, gb}:
            merged[x['kind']] = merged.get(x['kind'], 0) + 1
    expect = {"kind": h['kind'], "merged": merged, "extra_pairs": len(cl[ga]) * (len(cl[ga]) - 1) // 2
              - sum(len(v) * (len(v) - 1) // 2 for v in (
                  [i for i in cl[ga] if gold[i] == ga], [i for i in cl[ga] if gold[i] == gb]))}
if mode == 'empty':
    rep = {"clusters": [], "variants": [], "conflicts": []}
elif mode == 'split':           # every gold cluster of size >= 2 loses its last member
    rep = {"clusters": [{"kept": m[0], "members": [{"index": i, "similarity": 1.0, "pass": "exact"}
                                                   for i in m[:-1]]} for m in cl.values() if len(m) > 2],
           "variants": [], "conflicts": []}
else:
    rep = {"clusters": [{"kept": m[0], "members": [{"index": i, "similarity": 1.0, "pass": "exact"}
                                                   for i in m]} for m in cl.values() if len(m) > 1],
           "variants": [], "conflicts": conf}
if mode == 'dupmember':         # one record listed in two clusters
    rep['clusters'][1]['members'].append(rep['clusters'][0]['members'][0])
json.dump(rep, open(out, 'w'))
json.dump(expect, open(out + '.expect', 'w'))
EOF
cat >"$tmp/expect.py" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); what = sys.argv[2]
p = r['pairs']
def eq(a, b): return abs(a - b) < 1e-9
if what == 'perfect':
    ok = eq(p['precision'], 1) and eq(p['recall'], 1) and eq(p['f1'], 1) \
        and r['hard_negatives']['total']['merged'] == 0 and eq(r['conflicts']['recall'], 1) \
        and eq(r['conflicts']['recall_reported'], 1) and eq(r['conflicts']['precision'], 1) \
        and all(d['missed'] == 0 for d in r.get('missed_by_variant_kind', {}).values()) \
        and r.get('missed_by_variant_kind') and eq(r['bcubed']['f1'], 1) and not r['report_problems']
elif what == 'merge_hn':
    e = json.load(open(sys.argv[3]))
    byk = r['hard_negatives']['by_kind']
    ok = all(byk[k]['merged'] == v for k, v in e['merged'].items()) and byk[e['kind']]['merged'] >= 1 \
        and r['hard_negatives']['total']['merged'] == sum(e['merged'].values()) \
        and eq(p['recall'], 1) and p['precision'] < 1 and p['false_positive'] == e['extra_pairs']
elif what == 'empty':
    ok = p['predicted'] == 0 and eq(p['recall'], 0) and eq(r['conflicts']['recall'], 0) \
        and r['hard_negatives']['total']['merged'] == 0
elif what == 'split':
    ok = eq(p['precision'], 1) and 0 < p['recall'] < 1 and sum(
        d['missed'] for d in r['missed_by_variant_kind'].values()) > 0
elif what == 'dupmember':
    ok = r['report_problems'].get('record in more than one cluster (first kept)') == 1
elif what == 'pairs_perfect':
    ok = eq(p['precision'], 1) and eq(p['recall'], 1) and p['pairs'] > 0 and p['fp'] == 0 \
        and set(r['by_kind']) >= {'dup', 'number'}
elif what == 'pairs_empty':
    ok = p['tp'] == 0 and p['fn'] > 0 and eq(p['recall'], 0)
else:
    ok = False
if not ok:
    print(json.dumps(r, indent=1)[:3000])
sys.exit(0 if ok else 1)
EOF
L="$tmp/l.json"
for m in perfect empty split dupmember; do
  $PY "$tmp/mkrep.py" "$L" $m "$tmp/r_$m.json"
  run "score: $m report" bash -c "$PY '$SCORE' --labels '$L' --report '$tmp/r_$m.json' --json >'$tmp/s_$m.json' && $PY '$tmp/expect.py' '$tmp/s_$m.json' $m"
done
# one hard-negative pair of every kind merged -> that kind's false-merge count is 1
nh=$($PY -c "import json;print(len(json.load(open('$L'))['hard_negatives']))")
for k in number negation option image swap; do
  i=$($PY -c "import json;h=json.load(open('$L'))['hard_negatives'];print(next(j for j,x in enumerate(h) if x['kind']=='$k'))")
  $PY "$tmp/mkrep.py" "$L" merge_hn "$tmp/r_hn_$k.json" "$i"
  run "score: merged $k hard negative counted" bash -c "$PY '$SCORE' --labels '$L' --report '$tmp/r_hn_$k.json' --json >'$tmp/s_hn_$k.json' && $PY '$tmp/expect.py' '$tmp/s_hn_$k.json' merge_hn '$tmp/r_hn_$k.json.expect'"
done
run "score: table output" bash -c "$PY '$SCORE' --labels '$L' --report '$tmp/r_perfect.json' | grep -q 'pairwise   precision 100.00%'"
run "score: --min-f1 fails on empty report" bash -c "! $PY '$SCORE' --labels '$L' --report '$tmp/r_empty.json' --min-f1 0.5 >/dev/null"
run "score: --min-f1 passes on perfect report" $PY "$SCORE" --labels "$L" --report "$tmp/r_perfect.json" --min-f1 0.99 --max-hardneg-merge-rate 0
run "score: bad report rejected (exit 2)" bash -c "echo '[1,2]' >'$tmp/bad.json'; $PY '$SCORE' --labels '$L' --report '$tmp/bad.json' >/dev/null 2>&1; [ \$? -eq 2 ]"
# pairs mode: gold pairs = some true duplicates + the hard negatives
$PY - "$L" "$tmp/pairs.jsonl" <<'EOF'
import json, sys
from collections import defaultdict
lab = json.load(open(sys.argv[1])); cl = defaultdict(list)
for i, g in enumerate(lab['cluster']): cl[g].append(i)
with open(sys.argv[2], 'w') as f:
    f.write('# comment lines are skipped\n')
    for m in list(cl.values()):
        if len(m) > 1: f.write(json.dumps({"a": m[0], "b": m[1], "dup": True, "kind": "dup"}) + '\n')
    for h in lab['hard_negatives']:
        f.write(json.dumps({"a": h['a'], "b": h['b'], "dup": False, "kind": h['kind']}) + '\n')
EOF
run "score --pairs: perfect report" bash -c "$PY '$SCORE' --pairs --gold-pairs '$tmp/pairs.jsonl' --report '$tmp/r_perfect.json' --json >'$tmp/sp.json' && $PY '$tmp/expect.py' '$tmp/sp.json' pairs_perfect"
run "score --pairs: empty report" bash -c "$PY '$SCORE' --pairs --gold-pairs '$tmp/pairs.jsonl' --report '$tmp/r_empty.json' --json >'$tmp/sp2.json' && $PY '$tmp/expect.py' '$tmp/sp2.json' pairs_empty"
run "score --pairs: table output" bash -c "$PY '$SCORE' --pairs --gold-pairs '$tmp/pairs.jsonl' --report '$tmp/r_perfect.json' | grep -q 'precision 100.00%'"

echo "gen_corpus: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
