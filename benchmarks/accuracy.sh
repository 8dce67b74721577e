#!/usr/bin/env bash
# Accuracy tables for docs/accuracy.md: the generated labelled corpus (seeded) and
# the hand-labelled real dev set, across the settings the defaults were chosen from.
#   benchmarks/accuracy.sh [BUILD_DIR]        (needs ../shared/data for the real set)
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$build/accuracy
mkdir -p "$out"
make -s "$build/dedup" >/dev/null
n=${ND_ACC_N:-20000}
seed=${ND_ACC_SEED:-7}
python3 benchmarks/gen_corpus.py --n "$n" --seed "$seed" --out "$out/gen.json" --labels "$out/gen-labels.json" --quiet
real=0
if python3 benchmarks/realdev/build_combined.py --out "$out/real.jsonl" >/dev/null 2>&1; then real=1; fi

row() { # name, dedup args...
  local name=$1; shift
  "$build/dedup" -q --dry-run --report "$out/g.json" "$@" "$out/gen.json"
  python3 benchmarks/score.py --labels "$out/gen-labels.json" --report "$out/g.json" --json > "$out/g.score"
  local r="n/a"
  if [ $real = 1 ]; then
    "$build/dedup" -q --dry-run --report "$out/r.json" "$@" "$out/real.jsonl"
    python3 benchmarks/score.py --pairs --gold-pairs benchmarks/realdev/labels.jsonl --report "$out/r.json" --json > "$out/r.score"
    r=$(python3 -c "
import json; s = json.load(open('$out/r.score'))
p = s['pairs']
print('%.1f%% | %.1f%% | %.1f%%' % (100*p['precision'], 100*p['recall'], 100*p['f1']))")
  fi
  python3 - "$name" "$out/g.score" "$r" <<'PY'
import json, sys
name, f, real = sys.argv[1], sys.argv[2], sys.argv[3]
s = json.load(open(f))
pw = s["pairs"]
hn = s["hard_negatives"]["by_kind"]
merged = sum(v["merged"] for v in hn.values())
total = sum(v["pairs"] for v in hn.values())
print(f"| {name} | {100*pw['precision']:.2f}% | {100*pw['recall']:.2f}% | {100*pw['f1']:.2f}% | "
      f"{merged}/{total} ({100*merged/max(total,1):.2f}%) | {real} |")
PY
}

echo "Generated corpus: benchmarks/gen_corpus.py --n $n --seed $seed; real: benchmarks/realdev ($(wc -l < benchmarks/realdev/labels.jsonl) labelled pairs)"
echo
echo "| setting | gen precision | gen recall | gen F1 | hard negatives merged | real precision | real recall | real F1 |"
echo "|---|---|---|---|---|---|---|---|"
row "defaults (both passes: Jaccard 0.85, cosine 0.99)"
row "--no-semantic (lexical pass only)" --no-semantic
row "--semantic-threshold 0.98" --semantic-threshold 0.98
row "--semantic-threshold 0.995" --semantic-threshold 0.995
row "--semantic-knn 0 (every pair above the cosine)" --semantic-knn 0
# the lexical pass's settings, measured without the second pass
for g in 1 2 3; do row "--ngram $g --no-semantic" --ngram $g --no-semantic; done
for t in 0.95 0.9 0.8; do row "--threshold $t --no-semantic" --threshold $t --no-semantic; done
row "--method simhash --simhash-bits 9 --no-semantic" --method simhash --simhash-bits 9 --no-semantic
for g in number negation options image swap; do row "--no-guard $g --no-semantic" --no-guard $g --no-semantic; done
row "no guards at all, --no-semantic" --no-guard number --no-guard negation --no-guard options --no-guard image --no-guard swap --no-semantic
