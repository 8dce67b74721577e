#!/usr/bin/env bash
# Fault injection for the three tools (docs/reliability.md, docs/exit-codes.md):
#   - a full device (/dev/full) for every output of dedup, validate and embed, and stdout;
#   - an unwritable directory: a read-only tmpfs in a private mount namespace (EROFS) and,
#     because root ignores permission bits, a 0555 directory written as user nobody (EACCES);
#   - SIGINT / SIGTERM mid-run on a large generated input, early (while reading) and late
#     (once a temporary output exists): exit 130 / 143, no output, no temporary left;
#   - an absurd --num-perm and a memory limit (ulimit -v): a clear error, never a crash;
#   - an HTTP embedder that accepts connections and never answers, and one that closes
#     them at once: exit 6 within the timeout and retries, a message naming the batch.
# Usage: ND_BIN=build tests/faults.sh [NAME-FILTER]. Prints one line per fault and
# "faults: N passed, N failed, N skipped" (a fault the machine cannot stage is skipped).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${ND_BIN:-$top/build}" && pwd)
FIX=$top/tests/fixtures
filter=${1:-}
work=$(mktemp -d)
log=$work/log # stdout/stderr of the tool under test, outside the directory it runs in
mkdir -p "$log" "$work/run"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
pass=0; fail=0; skip=0

ok() { pass=$((pass + 1)); echo "ok   faults/$1"; }
bad() { fail=$((fail + 1)); echo "FAIL faults/$1: $2"; [ -f "$log/err" ] && sed 's/^/    stderr: /' "$log/err" | head -5; }
skipped() { skip=$((skip + 1)); echo "skip faults/$1: $2"; }
want() { [ -z "$filter" ] || [[ "$1" == *"$filter"* ]]; }

# expect NAME CODE STDERR-SUBSTRING DIR -- command...: exit code, message, and no output or
# temporary file left in DIR (every file there must have existed before the run)
expect() {
	local name=$1 code=$2 msg=$3 dir=$4
	shift 5
	want "$name" || return 0
	local before after got
	before=$(ls -A "$dir" 2>/dev/null | sort)
	"$@" >"$log/out" 2>"$log/err" </dev/null
	got=$?
	after=$(ls -A "$dir" 2>/dev/null | sort)
	if [ "$got" != "$code" ]; then bad "$name" "exit $got, expected $code"
	elif ! grep -qF -- "$msg" "$log/err"; then bad "$name" "stderr lacks '$msg'"
	elif [ "$before" != "$after" ]; then bad "$name" "files left: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')"
	else ok "$name"; fi
}

cd "$work/run" || exit 1
cp "$FIX/exam_choose.json" in.json
# exact and near duplicates, so --removed and --pairs have something to write
python3 -c '
import json
recs = [{"question": "第%d题：机动车在道路上行驶不得超过限速标志标明的最高时速" % (i % 50), "answer": "对"} for i in range(200)]
json.dump(recs, open("dups.json", "w"), ensure_ascii=False)'

# ------------------------------------------------------------- full device --
expect full-dedup-output 4 "/dev/full: write failed" . -- "$BIN/dedup" -q in.json -o /dev/full
expect full-dedup-report 4 "/dev/full" . -- "$BIN/dedup" -q in.json -o /dev/null --report /dev/full
expect full-dedup-removed 4 "/dev/full" . -- "$BIN/dedup" -q dups.json -o /dev/null --removed /dev/full
expect full-dedup-stdout 4 "write" . -- sh -c "'$BIN/dedup' -q in.json > /dev/full"
expect full-validate-json 4 "/dev/full" . -- "$BIN/validate" -q in.json --json /dev/full
expect full-validate-html 4 "/dev/full" . -- "$BIN/validate" -q in.json --html /dev/full
expect full-validate-stdout 4 "stdout" . -- sh -c "'$BIN/validate' -q in.json > /dev/full"
expect full-embed-output 4 "/dev/full" . -- "$BIN/embed" -q in.json -o /dev/full
expect full-embed-pairs 4 "/dev/full" . -- "$BIN/embed" -q dups.json -o /dev/null --pairs /dev/full

# ---------------------------------------------------- unwritable directory --
if want readonly && unshare -m true 2>/dev/null; then
	mkdir -p ro
	# private mount namespace: the read-only tmpfs exists only for this command
	ro_run() { unshare -m sh -c 'mount -t tmpfs -o ro,size=1m tmpfs ro && exec "$@"' sh "$@"; }
	expect readonly-dedup-output 4 "ro/out.json" ro -- ro_run "$BIN/dedup" -q in.json -o ro/out.json
	expect readonly-dedup-report 4 "ro/r.json" ro -- ro_run "$BIN/dedup" -q in.json -o out.json --report ro/r.json
	# outputs are renamed into place one by one; when a later one fails, dedup removes
	# the ones it already put in place
	if [ -e out.json ]; then bad readonly-dedup-report-rollback "out.json left when the report failed"; rm -f out.json
	else ok readonly-dedup-report-rollback; fi
	expect readonly-validate-json 4 "ro/v.json" ro -- ro_run "$BIN/validate" -q in.json --json ro/v.json
	expect readonly-embed-output 4 "ro/v.npy" ro -- ro_run "$BIN/embed" -q in.json -o ro/v.npy
	grep -q "Read-only file system" "$log/err" 2>/dev/null || echo "     (note: the message did not say 'Read-only file system')"
else
	want readonly && skipped readonly "cannot make a private mount namespace (unshare -m)"
fi
if want eacces && [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/dedup" --version >/dev/null 2>&1; then
	mkdir -p noperm && chmod 0555 noperm && chmod 0755 "$work" && chmod 0644 in.json
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	expect eacces-dedup-output 4 "Permission denied" noperm -- nobody "$BIN/dedup" -q in.json -o noperm/out.json
	expect eacces-validate-html 4 "Permission denied" noperm -- nobody "$BIN/validate" -q in.json --html noperm/v.html
	expect eacces-embed-output 4 "Permission denied" noperm -- nobody "$BIN/embed" -q in.json -o noperm/v.npy
	chmod 0000 in.json
	expect eacces-dedup-input 4 "in.json: cannot open: Permission denied" . -- nobody "$BIN/dedup" -q in.json -o /dev/null
	chmod 0644 in.json
elif want eacces; then
	[ "$(id -u)" = 0 ] && skipped eacces "setpriv cannot run the tools as nobody" ||
		{ mkdir -p noperm && chmod 0555 noperm &&
		  expect eacces-dedup-output 4 "Permission denied" noperm -- "$BIN/dedup" -q in.json -o noperm/out.json; }
fi

# -------------------------------------------------------------- signals --
# A large input: 150000 exam records (~17 MB) keeps each tool busy for a few seconds.
if want signal; then
	python3 -c '
import json, sys
recs = [{"question": "题%d：驾驶机动车在高速公路上行驶，最高车速不得超过每小时多少公里？" % i,
         "options": ["A、%d" % (i % 97), "B、120", "C、100", "D、90"], "answer": "B"} for i in range(150000)]
json.dump(recs, open("big.json", "w"), ensure_ascii=False)'
fi
# signal NAME SIG CODE WHEN -- command: WHEN "early" = 0.3 s in; "late" = as soon as a
# temporary output (*.tmp.*) appears (tried 3 times: a fast run may finish first)
signal_case() {
	local name=$1 sig=$2 code=$3 when=$4
	shift 5
	want "$name" || return 0
	local try got caught=0
	for try in 1 2 3; do
		mkdir -p sig && rm -rf sig/*
		(cd sig && exec "$@") >"$log/out" 2>"$log/err" </dev/null &
		local pid=$!
		if [ "$when" = early ]; then
			sleep 0.3
		else
			for _ in $(seq 1 3000); do
				ls sig 2>/dev/null | grep -q '\.tmp\.' && break
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.005
			done
		fi
		kill -0 "$pid" 2>/dev/null && kill -"$sig" "$pid" 2>/dev/null && caught=1
		wait "$pid"; got=$?
		[ $caught = 1 ] && break
	done
	local left tmps
	left=$(ls -A sig | tr '\n' ' ')
	tmps=$(ls -A sig | grep '\.tmp\.' | tr '\n' ' ')
	if [ $caught = 0 ]; then skipped "$name" "the run ended before the signal (3 tries)"
	elif [ -n "$tmps" ]; then bad "$name" "temporary files left: $tmps"
	elif [ "$got" = 0 ] && [ "$when" = late ]; then ok "$name (the signal came after the last rename: exit 0, outputs complete)"
	elif [ "$got" != "$code" ]; then bad "$name" "exit $got, expected $code"
	elif [ -n "$left" ] && [ "$when" = early ]; then bad "$name" "left behind: $left"
	elif [ -n "$left" ]; then
		# known (docs/reliability.md): outputs are renamed into place one by one, so those
		# renamed before the signal stay (complete); the one being written is removed
		for f in $left; do
			case $f in
			*.json) python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "sig/$f" 2>/dev/null ||
				{ bad "$name" "$f left incomplete"; rm -rf sig; return; } ;;
			esac
		done
		ok "$name (known: complete outputs renamed before the signal stay: $left)"
	else ok "$name"; fi
	rm -rf sig
}
signal_case signal-dedup-term-early TERM 143 early -- "$BIN/dedup" -q ../big.json -o out.json --report r.json --removed rm.jsonl
signal_case signal-dedup-int-early INT 130 early -- "$BIN/dedup" -q ../big.json -o out.json --report r.json --removed rm.jsonl
signal_case signal-dedup-term-late TERM 143 late -- "$BIN/dedup" -q ../big.json -o out.json --report r.json --removed rm.jsonl
signal_case signal-dedup-int-late INT 130 late -- "$BIN/dedup" -q ../big.json -o out.json --report r.json --removed rm.jsonl
signal_case signal-validate-term-early TERM 143 early -- "$BIN/validate" -q ../big.json --json v.json --html v.html
signal_case signal-validate-int-early INT 130 early -- "$BIN/validate" -q ../big.json --json v.json --html v.html
signal_case signal-embed-term-early TERM 143 early -- "$BIN/embed" -q ../big.json -o v.npy
signal_case signal-embed-int-late INT 130 late -- "$BIN/embed" -q ../big.json -o v.npy
rm -f big.json

# ------------------------------------------------------------ memory --
expect absurd-num-perm 2 "--num-perm needs a whole number from 1 to 4096, got '1000000000000'" . -- \
	"$BIN/dedup" -q in.json -o out.json --num-perm 1000000000000
expect absurd-num-perm-overflow 2 "--num-perm needs a whole number from 1 to 4096" . -- \
	"$BIN/dedup" -q in.json -o out.json --num-perm 99999999999999999999999
expect absurd-bands-rows 2 "bands" . -- "$BIN/dedup" -q in.json -o out.json --num-perm 16 --bands 4096 --rows 4096
expect absurd-dim 2 "--dim needs a whole number from 1 to 4096" . -- "$BIN/embed" -q in.json -o v.npy --dim 100000000
# the largest --num-perm under an address-space limit: ND_ENOMEM (exit 5) or success, never a crash
if want ulimit && grep -qa __asan_init "$BIN/dedup"; then
	# ASan reserves terabytes of address space for its shadow: ulimit -v cannot apply
	skipped ulimit "an ASan build cannot run under ulimit -v"
elif want ulimit; then
	python3 -c '
import json
json.dump([{"question": "题%d 驾驶机动车在道路上行驶不得超过限速标志标明的最高时速" % i, "answer": "对"} for i in range(50000)],
          open("mid.json", "w"), ensure_ascii=False)'
	for lim in 300000; do
		name=ulimit-num-perm-4096-${lim}k
		# OpenBLAS (linked for the semantic pass, started at load) can loop forever on
		# mmap in its own threads once the address space is gone (OpenMathLib/OpenBLAS
		# issue 5289; seen once here under load): one BLAS thread, and a time limit so
		# a hang fails this case instead of stalling the suite
		(ulimit -v $lim; OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 exec timeout -k 5 300 \
			"$BIN/dedup" -q --no-semantic mid.json -o out.json --num-perm 4096) >"$log/out" 2>"$log/err" </dev/null
		got=$?
		if [ $got = 0 ]; then ok "$name (ran within the limit)"; rm -f out.json
		elif [ $got = 5 ] && grep -q "out of memory" "$log/err" && [ ! -e out.json ]; then ok "$name (exit 5: $(head -c 100 "$log/err"))"
		elif [ $got = 6 ] && [ ! -e out.json ]; then ok "$name (exit 6: a backend could not start: $(head -c 100 "$log/err"))"
		elif [ $got = 124 ] || [ $got = 137 ]; then bad "$name" "no exit within 300 s (hung; stderr: $(head -c 200 "$log/err"))"
		else bad "$name" "exit $got"; fi
	done
	rm -f mid.json
fi

# ------------------------------------------------------------ HTTP --
# a server that accepts and never answers; one that closes every connection at once
if want http; then
	cat >srv.py <<'EOF'
import socket, sys, time, threading
mode = sys.argv[1]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    if mode == "close":
        c.close()
    else:
        held.append(c)  # read nothing, answer nothing
EOF
	for mode in silent close; do
		python3 srv.py $mode >port.$mode &
		pids+=($!)
		for _ in $(seq 1 100); do [ -s port.$mode ] && break; sleep 0.05; done
	done
	port=$(cat port.silent)
	t0=$(date +%s)
	expect http-never-answers 6 "the batch starting at text 0" . -- "$BIN/embed" -q in.json -o out.npy --no-cache \
		--embed-url "http://127.0.0.1:$port/v1" --embed-model m --timeout 1 --retries 1
	t1=$(date +%s)
	if want http-never-answers && [ $((t1 - t0)) -gt 10 ]; then bad http-never-answers-time "took $((t1 - t0)) s with --timeout 1 --retries 1"; fi
	grep -qi "timed out\|timeout" "$log/err" || echo "     (note: the message does not say it timed out: $(head -c 150 "$log/err"))"
	expect http-closes-at-once 6 "the batch starting at text 0" . -- "$BIN/embed" -q in.json -o out.npy --no-cache \
		--embed-url "http://127.0.0.1:$(cat port.close)/v1" --embed-model m --timeout 2 --retries 1
	# with a cache path the run leaves the (empty) cache only, never out.npy
	want http-never-answers-cache && {
		"$BIN/embed" -q in.json -o out.npy --embed-url "http://127.0.0.1:$port/v1" --embed-model m --timeout 1 \
			--retries 0 >/dev/null 2>"$log/err"
		got=$?
		if [ $got = 6 ] && [ ! -e out.npy ]; then ok http-never-answers-cache; else bad http-never-answers-cache "exit $got"; fi
		rm -f out.npy.cache
	}
fi

echo "faults: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
