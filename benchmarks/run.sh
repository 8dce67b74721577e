#!/usr/bin/env bash
# make bench: throughput and memory of reading and of the first pass, on generated
# exam-style corpora (benchmarks/gen_corpus.py, seeded). Prints one table; every
# figure in docs/performance.md comes from this script.
#   benchmarks/run.sh [BUILD_DIR]      ND_BENCH_SIZES="10000 100000 1000000" to choose sizes,
#                                      ND_BENCH_RUNS=3 runs of each first-pass size (this VM's
#                                      speed drifts: the table gives every run, then best and median)
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sizes=${ND_BENCH_SIZES:-"10000 100000 1000000"}
runs=${ND_BENCH_RUNS:-3}
data=$build/bench
mkdir -p "$data"
make -s "$build/bench-read" "$build/bench-minhash" "$build/bench-normalize" "$build/dedup" >/dev/null

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
for n in $sizes; do
  f=$data/corpus-$n.jsonl
  [ -f "$f" ] || python3 benchmarks/gen_corpus.py --n "$n" --seed 1 --format jsonl --out "$f" \
      --labels "$data/labels-$n.json" --no-kinds --quiet
done

echo "== read + map + normalise (bench-read)"
big=$(for n in $sizes; do echo "$n"; done | sort -n | tail -1)
for t in 1 2; do "$build/bench-read" "$data/corpus-$big.jsonl" "$t"; done
echo

echo "== first pass, whole command: dedup --no-semantic --dry-run --timings (read to written report)"
printf '%-9s %8s %9s %12s %9s  %s\n' records MB wall_s records/s peak_MB "stages (s)"
for n in $sizes; do
  f=$data/corpus-$n.jsonl
  : > "$data/walls-$n"
  for r in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$data/time-$n" "$build/dedup" -q --no-semantic --timings --dry-run \
        --report "$data/report-$n.json" "$f"
    read -r wall kb < "$data/time-$n"
    echo "$wall" >> "$data/walls-$n"
    python3 - "$n" "$f" "$wall" "$kb" "$data/report-$n.json" <<'PY'
import json, os, sys
n, f, wall, kb, rep = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
t = json.load(open(rep))["timings"]
stages = " ".join(f"{k[:-2]} {v:.2f}" for k, v in t.items())
print(f"{n:<9} {os.path.getsize(f)/1e6:8.1f} {wall:9.2f} {n/wall:12.0f} {kb/1024:9.0f}  {stages}")
PY
  done
done
for n in $sizes; do
  sort -n "$data/walls-$n" | awk -v n="$n" '{w[NR] = $1} END {printf "%-9s best %.2f s, median %.2f s of %d runs\n", n, w[1], w[int((NR + 1) / 2)], NR}'
done
echo

echo "== MinHash kernel (bench-minhash, scalar reference vs AVX2) and the lexical pass alone"
"$build/bench-minhash" 100000 | sed 's/^/  /'
echo
echo "== normalisation alone (bench-normalize)"
"$build/bench-normalize" | sed 's/^/  /'
