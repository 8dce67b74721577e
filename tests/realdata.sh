#!/usr/bin/env bash
# Reads the two real question banks in ../shared/data when they are there (they are
# not part of the project), and checks what is known about them. Says it skipped
# when they are absent.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BIN=${ND_BIN:-$top/build}
data=${ND_REAL_DATA:-$top/../shared/data}
a=$data/rosersn_c1_subject1.json
b=$data/trllm_structqa_text.json
if [ ! -f "$a" ] || [ ! -f "$b" ]; then
  echo "realdata: skipped (no $data)"
  echo "realdata: 0 passed, 0 failed, 1 skipped"
  exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   realdata/$1"; else fail=$((fail+1)); echo "FAIL realdata/$1"; fi; }

"$BIN/dedup" "$a" -o "$tmp/a.json" --report "$tmp/ra.json" 2>"$tmp/a.err"
check rosersn-reads "grep -q 'JSON array of 1590 records wrapped in object member \"questions\"' '$tmp/a.err'"
check rosersn-preset "grep -q 'preset exam' '$tmp/a.err'"
"$BIN/dedup" "$b" -o "$tmp/b.json" --report "$tmp/rb.json" 2>"$tmp/b.err"
check trllm-reads "grep -q 'JSON array of 1646 records' '$tmp/b.err'"
python3 - "$a" "$b" "$tmp/ab.jsonl" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["questions"]
b = json.load(open(sys.argv[2]))
with open(sys.argv[3], "w") as f:
    for r in a + b:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
PY
"$BIN/dedup" -q "$tmp/ab.jsonl" -o "$tmp/ab.out.jsonl" --report "$tmp/rab.json"
check combined-runs "[ -s '$tmp/rab.json' ]"
python3 - "$tmp/ab.jsonl" "$tmp/rab.json" > "$tmp/facts" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
rep = json.load(open(sys.argv[2]))
def img(r):
    i = r.get("image")
    return i.rsplit("/", 1)[-1].split("?")[0].rsplit(".", 1)[0].lower() if i else None
# 1. no cluster holds two records with different images (the 185 "这个标志是何含义？" questions)
bad_img = sum(1 for c in rep["clusters"]
              if len({img(recs[m["index"]]) for m in c["members"]} - {None}) > 1)
# 2. judge answers of the two banks (对 / "A" over 正确,错误) agree inside clusters unless reported
print("bad_image_clusters", bad_img)
print("clusters", len(rep["clusters"]))
print("cross_bank", sum(1 for c in rep["clusters"]
      if any(m["index"] < 1590 for m in c["members"]) and any(m["index"] >= 1590 for m in c["members"])))
print("kept", rep["stats"]["kept"])
PY
cat "$tmp/facts" | sed 's/^/    /'
check no-cluster-mixes-images "grep -q '^bad_image_clusters 0$' '$tmp/facts'"
# the banks share most questions: far more than a few hundred clusters cross them
check finds-cross-bank-duplicates "[ \$(awk '/^cross_bank/ {print \$2}' '$tmp/facts') -ge 600 ]"
echo "realdata: $pass passed, $fail failed"
[ $fail -eq 0 ]
