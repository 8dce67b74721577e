#!/usr/bin/env bash
# Runs the unit tests and the CLI tests and prints one closing line for both.
set -u
build=${1:-build}
p=0; f=0; s=0
out=$("$build/unit-tests" 2>&1); rc=$?
printf '%s\n' "$out"
line=$(printf '%s\n' "$out" | grep -E '^unit: [0-9]+ passed, [0-9]+ failed' | tail -1)
if [ -z "$line" ]; then echo "unit tests crashed (exit $rc)"; f=$((f+1)); else
  p=$((p + $(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')))
  f=$((f + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
  s=$((s + $(echo "$line" | sed -E 's/.* ([0-9]+) skipped.*/\1/')))
  [ $rc -ne 0 ] && [ "$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')" = 0 ] && f=$((f+1))
fi
if [ -x tests/cli/run.sh ]; then
  out=$(ND_BIN=$build tests/cli/run.sh 2>&1); rc=$?
  printf '%s\n' "$out"
  line=$(printf '%s\n' "$out" | grep -E '^cli: [0-9]+ passed, [0-9]+ failed' | tail -1)
  if [ -z "$line" ]; then echo "cli tests crashed (exit $rc)"; f=$((f+1)); else
    p=$((p + $(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')))
    f=$((f + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
  fi
fi
echo "$p passed, $f failed, $s skipped"
[ $f -eq 0 ]
