#!/usr/bin/env bash
# Scale limits (docs/reliability.md "Scale"): wall time and peak RSS (/usr/bin/time -v) of
#   1. dedup, validate and embed on 10M tiny records (JSON Lines, ~20 bytes of text each);
#   2. one 500 MB record: as a 500 MB stem (refused at once: over --max-record-bytes, and
#      over the 64 MiB normalisation limit when that is raised: exit 5, memory bounded), and
#      as a small question carrying a 500 MB member no preset reads (accepted with
#      --max-record-bytes 600000000; written back byte for byte).
# Usage: benchmarks/bench_scale.sh [BUILD_DIR]
#   ND_SCALE_N=10000000 records (default), ND_SCALE_MB=500 (default), ND_SCALE_TOOLS="dedup validate embed"
# Needs ~2 GB of disk in BUILD_DIR/scale and python3. Prints one table.
set -uo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
n=${ND_SCALE_N:-10000000}
mb=${ND_SCALE_MB:-500}
tools=${ND_SCALE_TOOLS:-"dedup validate embed"}
data=$build/scale
mkdir -p "$data"
make -s "$build/dedup" "$build/validate" "$build/embed" >/dev/null || exit 1

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
tiny=$data/tiny-$n.jsonl
# tiny records: a short question, two options, an answer; 1 in 10 is an exact copy and 1 in
# 10 a one-character variant, so every stage has work
[ -f "$tiny" ] || python3 - "$n" "$tiny" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w", encoding="utf-8", buffering=1 << 20) as f:
    for i in range(n):
        k = i if i % 10 else i - 7 if i >= 7 else i
        q = "q%d 多少 米" % k if i % 10 != 5 else "q%d 多少 米 吗" % (i - 1)
        f.write('{"question":"%s","options":["%d","%d"],"answer":"A"}\n' % (q, k % 7, k % 11))
PY
big=$data/one-${mb}mb-stem.json
side=$data/one-${mb}mb-member.json
[ -f "$big" ] || python3 - "$mb" "$big" "$side" <<'PY'
import sys
mb, big, side = int(sys.argv[1]), sys.argv[2], sys.argv[3]
chunk = "驾驶机动车" * 20000  # 300 KB of UTF-8
reps = mb * 1000000 // len(chunk.encode())
with open(big, "w", encoding="utf-8") as f:
    f.write('[{"question":"')
    for _ in range(reps): f.write(chunk)
    f.write('","answer":"对"}]')
with open(side, "w", encoding="utf-8") as f:
    f.write('[{"question":"一个小问题","answer":"对","attachment":"')
    for _ in range(reps): f.write(chunk)
    f.write('"},{"question":"另一个问题","answer":"错"}]')
PY

printf '\n%-52s %6s %9s %9s  %s\n' case exit wall_s peak_MB "first line of stderr"
run() { # run LABEL CMD...: one table row
	local label=$1; shift
	/usr/bin/time -v -o "$data/time" "$@" >/dev/null 2>"$data/err"
	local rc=$?
	local wall kb
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$data/time")
	kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$data/time")
	printf '%-52s %6s %9s %9.0f  %s\n' "$label" "$rc" "$wall" "$(echo "${kb:-0} / 1024" | bc -l)" \
		"$(grep -v '^\s*Command' "$data/err" | head -1 | cut -c1-90)"
}
for t in $tools; do
	case $t in
	dedup) run "dedup $n tiny records (--no-semantic)" "$build/dedup" -q --no-semantic "$tiny" -o "$data/out.jsonl" --report "$data/report.json" ;;
	validate) run "validate $n tiny records" "$build/validate" -q "$tiny" --json "$data/validation.json" ;;
	embed) run "embed $n tiny records (built-in, dim 64)" "$build/embed" -q --dim 64 "$tiny" -o "$data/vectors.npy" ;;
	esac
done
run "dedup one ${mb} MB stem (default limits)" "$build/dedup" -q "$big" -o "$data/out-big.json"
run "dedup one ${mb} MB stem (--max-record-bytes 6e8)" "$build/dedup" -q --max-record-bytes 600000000 "$big" -o "$data/out-big.json"
run "dedup one ${mb} MB member (--max-record-bytes 6e8)" "$build/dedup" -q --max-record-bytes 600000000 "$side" -o "$data/out-side.json"
cmp -s "$side" "$data/out-side.json" && echo "  the ${mb} MB record was written back byte for byte"
run "validate one ${mb} MB member (default limits)" "$build/validate" -q "$side" --json "$data/v-side.json"
rm -f "$data/out.jsonl" "$data/vectors.npy" "$data/out-big.json" "$data/out-side.json"
