#!/usr/bin/env bash
# Runs libFuzzer targets one after another (make fuzz builds them with ASan + UBSan):
#   tests/fuzz/run.sh BINDIR [TARGET ...]      FUZZ_SECONDS per target (default 600)
# Each target starts from tests/fuzz/corpora/<target>/ (read only: new coverage goes to
# build/fuzz/work/<target>/corpus). It runs in libFuzzer's fork mode (one worker) and
# keeps going after a crash, timeout or OOM, so one run finds several bugs; every
# crashing input is copied into the corpus as crash-<target>-<sha1> so corpus replay
# keeps it forever. FUZZ_FORK=0 stops at the first crash instead.
# Prints, per target, the exec count and speed libFuzzer reported (docs/reliability.md).
set -u
bindir=${1:?usage: tests/fuzz/run.sh BINDIR [TARGET ...]}; shift
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-600}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=($(cd "$top/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//'))
work=${FUZZ_WORK:-$top/build/fuzz/work}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  log=$work/$t/fuzz.log
  fork=()
  [ "${FUZZ_FORK:-1}" = 1 ] && fork=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  dict=()
  [ -f "$top/tests/fuzz/$t.dict" ] && dict=(-dict="$top/tests/fuzz/$t.dict")
  "$bindir/$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=4096 -max_len=65536 \
    -print_final_stats=1 "${fork[@]}" "${dict[@]}" -artifact_prefix="$work/$t/artifacts/" \
    "$work/$t/corpus" "$top/tests/fuzz/corpora/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ -z "$execs" ]; then # fork mode: the last "#N: cov: ... exec/s: S" line
    execs=$(grep -oE '^#[0-9]+: cov' "$log" | tail -1 | tr -dc 0-9)
    [ -n "$execs" ] && speed=$((execs / secs))
  fi
  otc=$(grep -oE 'oom/timeout/crash: [0-9/]+' "$log" | tail -1 | sed 's|.*: ||') # fork mode
  crashes=${otc##*/}
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  if [ $rc -ne 0 ] || [ "${crashes:-0}" != 0 ] || [ -n "$(ls "$work/$t/artifacts")" ]; then
    status=1
    for a in "$work/$t/artifacts"/*; do
      [ -f "$a" ] || continue
      sum=$(sha1sum "$a" | cut -c1-16)
      kind=$(basename "$a" | cut -d- -f1) # crash, timeout, oom, leak, slow-unit
      cp "$a" "$top/tests/fuzz/corpora/$t/$kind-$t-$sum"
      echo "$t: input kept as tests/fuzz/corpora/$t/$kind-$t-$sum"
      rm -f "$a"
    done
    grep -m3 -E 'ERROR|runtime error|invariant failed|SUMMARY' "$log"
  fi
  echo "$t: ${execs:-?} execs in ${secs}s (${speed:-?}/s), ${cov:-cov: ?}, oom/timeout/crash ${otc:-0/0/0}, exit $rc (log: $log)"
done
exit $status
