#!/usr/bin/env bash
# validate on 1M generated exam records, with the residual near-duplicate scan.
#   benchmarks/bench_validate.sh [BUILD_DIR]        (ND_BENCH_N=1000000 to change the size)
# Prints wall time, peak RSS and validate's own stage timings for:
#   1. the raw corpus (37% duplicates: the residual scan is a whole dedup pass),
#   2. the same without the stricter probe and with the checks only (--no-residual),
#   3. the dedup output of it (what a CI gate validates) and its report.
# The figures in docs/validate.md come from this script.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
n=${ND_BENCH_N:-1000000}
data=$build/bench
mkdir -p "$data"
make -s "$build/validate" "$build/dedup" >/dev/null
f=$data/c1m.jsonl
[ "$n" = 1000000 ] || f=$data/corpus-$n.jsonl
if [ ! -f "$f" ]; then
  python3 benchmarks/gen_corpus.py --n "$n" --seed 1 --format jsonl --out "$f" --labels "${f%.jsonl}.labels.json" \
      --no-kinds --quiet
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "corpus: $f ($n records, $(( $(stat -c %s "$f") / 1000000 )) MB)"
run() {
  local label=$1; shift
  local t=$data/validate-time
  /usr/bin/time -f '%e %U %S %M' -o "$t" "$build/validate" -q --timings "$@" > /dev/null 2> "$data/validate-err" || true
  read -r wall user sys kb < <(tail -1 "$t")  # "Command exited with non-zero status 1" comes first
  printf '%-42s wall %6.2f s  cpu %6.2f s  %5d MB\n    %s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)" \
      "$((kb / 1024))" "$(grep -o 'timings: .*' "$data/validate-err" | sed 's/timings: //')"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (wall times stretch with it; cpu = user + sys)"
run "raw corpus (default: residual scan)" "$f" --json "$data/validate-raw.json"
run "raw corpus, --max-bucket 32" --max-bucket 32 "$f"
run "raw corpus, --no-residual (checks only)" --no-residual "$f"
if [ ! -f "$data/c1m-dedup-report.json" ] || [ "$data/c1m-dedup-report.json" -ot "$f" ]; then
  "$build/dedup" -q "$f" -o "$data/c1m-dedup.jsonl" --report "$data/c1m-dedup-report.json"
fi
run "dedup output (default)" "$data/c1m-dedup.jsonl"
run "dedup report (input SHA-256 + output)" "$data/c1m-dedup-report.json"
