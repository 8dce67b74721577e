#!/usr/bin/env bash
# Opens a validate --html page in headless Chromium (Debian's `chromium`): takes a
# screenshot, dumps the DOM after scripts ran, and fails unless
#   - the screenshot is a non-empty PNG,
#   - the page's own script ran (body data-rendered = the number of inline SVG charts, >= 4),
#   - the console holds nothing but the page's one "neardup-validate rendered" line
#     (Chromium logs console.error, uncaught exceptions and CSP violations as
#     CONSOLE lines too, all at INFO level, so any other CONSOLE line is an error),
#   - the page loads nothing from outside (no src/href but data: and #anchors).
#   tests/browser/check_html.sh PAGE.html [OUTDIR]     (screenshot: OUTDIR/validate-report.png)
set -u
page=${1:?usage: check_html.sh PAGE.html [OUTDIR]}
out=${2:-$(dirname "$page")}
command -v chromium >/dev/null || { echo "check_html: chromium is not installed (scripts/deps.sh installs it)" >&2; exit 1; }
[ -s "$page" ] || { echo "check_html: $page is missing or empty" >&2; exit 1; }
abs=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile" --enable-logging=stderr --v=0)
shot=$out/validate-report.png
rm -f "$shot"
timeout 90 chromium "${flags[@]}" --window-size=1280,2400 --screenshot="$shot" "file://$abs" \
    >"$out/chromium-shot.log" 2>&1 || { echo "check_html: chromium --screenshot failed" >&2; tail -5 "$out/chromium-shot.log" >&2; exit 1; }
timeout 90 chromium "${flags[@]}" --dump-dom "file://$abs" >"$out/dom.html" 2>"$out/chromium-dom.log" \
    || { echo "check_html: chromium --dump-dom failed" >&2; tail -5 "$out/chromium-dom.log" >&2; exit 1; }
fail=0
if [ ! -s "$shot" ] || [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
  echo "check_html: no PNG screenshot at $shot" >&2; fail=1
fi
n=$(sed -n 's/.*<body[^>]*data-rendered="\([0-9]*\)".*/\1/p' "$out/dom.html" | head -1)
if [ -z "$n" ] || [ "$n" -lt 4 ]; then
  echo "check_html: the page's script did not run or drew fewer than 4 charts (data-rendered='$n')" >&2; fail=1
fi
for log in "$out/chromium-shot.log" "$out/chromium-dom.log"; do
  if ! grep -q 'CONSOLE.*"neardup-validate rendered' "$log"; then
    echo "check_html: the page's console line is missing from $log (logging not captured?)" >&2; fail=1
  fi
  if grep 'CONSOLE' "$log" | grep -v '"neardup-validate rendered' | grep -q .; then
    echo "check_html: console errors in $log:" >&2; grep 'CONSOLE' "$log" | grep -v '"neardup-validate rendered' >&2; fail=1
  fi
done
if grep -Eo '(src|href)="[^"]*"' "$page" | grep -Ev '="(data:[^"]*|#[^"]*)"' | grep -q .; then
  echo "check_html: the page loads something from outside:" >&2
  grep -Eo '(src|href)="[^"]*"' "$page" | grep -Ev '="(data:[^"]*|#[^"]*)"' >&2; fail=1
fi
[ $fail = 0 ] && echo "check_html: ok ($n charts, screenshot $shot, $(wc -c < "$shot") bytes)"
exit $fail
