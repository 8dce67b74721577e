#!/usr/bin/env bash
# Installs what neardup needs on Debian 12 and builds FAISS's C API into the
# build tree (Debian ships the C API headers but not its implementation).
# Idempotent: a second run with everything present takes well under a second.
#
#   scripts/deps.sh [BUILD_DIR]      (default: build)
set -euo pipefail

build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
faiss_dir="$build/faiss-capi"
stamp="$faiss_dir/libfaiss_c.a"

pkgs=(build-essential pkg-config libicu-dev libcjson-dev libfaiss-dev libopenblas-dev
      liblapack-dev libcurl4-openssl-dev libssl-dev clang libclang-rt-14-dev python3 dpkg-dev
      valgrind chromium)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ -f "$stamp" ] && [ -f "$faiss_dir/include/faiss/c_api/index_factory_c.h" ]; then
  exit 0
fi

# Fetch Debian's faiss source package through a private sources list so the
# system's apt configuration is left untouched.
src_work="$build/faiss-src"
mkdir -p "$src_work/lists/partial" "$faiss_dir"
uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$uri" ] || uri=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$uri" ] || uri=http://deb.debian.org/debian
cat > "$src_work/sources.list" <<SRC
deb-src $uri bookworm main
SRC
aptopts=(-o Dir::Etc::SourceList="$src_work/sources.list" -o Dir::Etc::SourceParts=/dev/null
         -o Dir::State::Lists="$src_work/lists" -o APT::Sandbox::User=root)
if ! ls "$src_work"/faiss_*.dsc >/dev/null 2>&1; then
  echo "deps: fetching Debian's faiss source package" >&2
  apt-get "${aptopts[@]}" update -qq
  (cd "$src_work" && apt-get "${aptopts[@]}" source --download-only -qq faiss)
fi
srcdir=$(find "$src_work" -mindepth 1 -maxdepth 1 -type d -name 'faiss-*' | head -n1)
if [ -z "$srcdir" ]; then
  (cd "$src_work" && dpkg-source -x --skip-patches faiss_*.dsc >/dev/null)
  srcdir=$(find "$src_work" -mindepth 1 -maxdepth 1 -type d -name 'faiss-*' | head -n1)
fi

echo "deps: building FAISS C API from $srcdir" >&2
obj="$faiss_dir/obj"
mkdir -p "$obj"
objs=()
for f in "$srcdir"/c_api/*.cpp "$srcdir"/c_api/impl/*.cpp; do
  [ -f "$f" ] || continue
  case "$f" in *gpu*) continue ;; esac
  o="$obj/$(basename "${f%.cpp}").o"
  objs+=("$o")
done
# compile two at a time (the machine has 2 cores)
printf '%s\n' "$srcdir"/c_api/*.cpp "$srcdir"/c_api/impl/*.cpp | grep -v gpu | grep '\.cpp$' |
  xargs -P "$(nproc)" -I{} sh -c 'f={}; b=$(basename "${f%.cpp}"); g++ -O2 -fPIC -fopenmp -w -I"'"$srcdir"'" -c "$f" -o "'"$obj"'/$b.o"'
rm -f "$stamp.tmp"
ar rcs "$stamp.tmp" "${objs[@]}"
mkdir -p "$faiss_dir/include/faiss"
rm -rf "$faiss_dir/include/faiss/c_api"
cp -r "$srcdir/c_api" "$faiss_dir/include/faiss/c_api"
find "$faiss_dir/include/faiss/c_api" -type f ! -name '*.h' -delete
mv "$stamp.tmp" "$stamp"
echo "deps: FAISS C API ready in $faiss_dir" >&2
