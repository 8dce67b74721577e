#!/usr/bin/env bash
# CLI tests as data: tests/cli/cases/*.case, one case per file:
#   cmd: <shell command; $BIN is the tools' folder, $FIX the fixtures, $TMP a scratch dir>
#   exit: <expected exit code>
#   stderr: <a fixed string stderr must contain>        (optional, repeatable)
#   stdout: <a fixed string stdout must contain>        (optional, repeatable)
#   absent: <a path, relative to $TMP, that must not exist afterwards> (optional, repeatable)
#   check: <a shell command that must succeed afterwards> (optional, repeatable)
# Prints one line per case and "cli: N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=$(cd "${ND_BIN:-$top/build}" && pwd)
FIX=$top/tests/fixtures
export BIN FIX
pass=0; fail=0
filter=${1:-}
for case in "$here"/cases/*.case; do
  name=$(basename "$case" .case)
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && continue
  TMP=$(mktemp -d); export TMP
  cmd=$(sed -n 's/^cmd: //p' "$case")
  want=$(sed -n 's/^exit: //p' "$case")
  (cd "$TMP" && eval "$cmd") >"$TMP/.stdout" 2>"$TMP/.stderr" </dev/null
  got=$?
  ok=1; why=""
  [ "$got" = "$want" ] || { ok=0; why="exit $got, expected $want"; }
  while IFS= read -r s; do
    grep -qF -- "$s" "$TMP/.stderr" || { ok=0; why="$why; stderr lacks '$s'"; }
  done < <(sed -n 's/^stderr: //p' "$case")
  while IFS= read -r s; do
    grep -qF -- "$s" "$TMP/.stdout" || { ok=0; why="$why; stdout lacks '$s'"; }
  done < <(sed -n 's/^stdout: //p' "$case")
  while IFS= read -r p; do
    [ -e "$TMP/$p" ] && { ok=0; why="$why; $p exists"; }
    # no temporary left beside it either
    ls "$TMP/$(dirname "$p")" 2>/dev/null | grep -q "^$(basename "$p")\.tmp\." && { ok=0; why="$why; temporary of $p left"; }
  done < <(sed -n 's/^absent: //p' "$case")
  while IFS= read -r c; do
    (cd "$TMP" && eval "$c") >/dev/null 2>&1 || { ok=0; why="$why; check failed: $c"; }
  done < <(sed -n 's/^check: //p' "$case")
  if [ $ok = 1 ]; then pass=$((pass+1)); echo "ok   cli/$name"; else
    fail=$((fail+1)); echo "FAIL cli/$name: $why"; sed 's/^/    stderr: /' "$TMP/.stderr" | head -5; fi
  rm -rf "$TMP"
done
echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
