#!/usr/bin/env bash
# make valgrind: the CLI end-to-end tests (tests/cli/cases/*.case) with every tool under
# valgrind memcheck. $BIN points at wrappers that run the real tool as
#   valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite ...
# so a memory error or a definite leak turns into exit 99 and fails its case.
# Usage: ND_BIN=build tests/valgrind.sh [NAME-SUBSTRING ...]
#   no argument: every case except the slow ones (VALGRIND_SKIP, an extended regex of case
#   names: big generated inputs, signals, timing-dependent HTTP cases, the browser check).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
real=$(cd "${ND_BIN:-$top/build}" && pwd)
skip=${VALGRIND_SKIP:-'100mb|sigterm|generated|browser|threads-identical|http|deterministic|seeds|realdata|split-validate|planted|deep-unclosed'}
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/tests/cli/cases"
for t in dedup validate embed; do
	cat >"$work/bin/$t" <<EOF
#!/bin/sh
exec valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \\
  --show-leak-kinds=definite --track-origins=yes --log-file="$work/vg.\$\$.log" "$real/$t" "\$@"
EOF
	chmod +x "$work/bin/$t"
done
# a copy of the case tree whose fixtures are the real ones (run.sh finds them from its own place)
cp "$top/tests/cli/run.sh" "$work/tests/cli/"
ln -s "$top/tests/fixtures" "$work/tests/fixtures"
ln -s "$top/examples" "$work/examples"
n=0
for c in "$top"/tests/cli/cases/*.case; do
	name=$(basename "$c" .case)
	if [ $# -gt 0 ]; then
		hit=0
		for f in "$@"; do [[ "$name" == *"$f"* ]] && hit=1; done
		[ $hit = 1 ] || continue
	elif [[ "$name" =~ $skip ]]; then
		continue
	fi
	cp "$c" "$work/tests/cli/cases/"
	n=$((n + 1))
done
echo "valgrind: $n cases"
ND_BIN="$work/bin" "$work/tests/cli/run.sh"
rc=$?
# every valgrind report that is not empty, whatever the case's expected exit code was
bad=0
for l in "$work"/vg.*.log; do
	[ -s "$l" ] || continue
	bad=$((bad + 1))
	echo "---- $l"; head -40 "$l"
done
echo "valgrind: $bad tool runs with memcheck reports"
[ $rc -eq 0 ] && [ $bad -eq 0 ]
