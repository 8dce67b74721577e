#!/usr/bin/env bash
# make install into a scratch DESTDIR, build a program against the installed
# headers and library through neardup.pc, run it, then make uninstall.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
pass=0; fail=0
check() { if eval "$2" >/dev/null 2>&1; then pass=$((pass+1)); echo "ok   install/$1"; else fail=$((fail+1)); echo "FAIL install/$1"; fi; }
make -s install DESTDIR="$d" PREFIX=/opt/nd >/dev/null
check tools "[ -x '$d/opt/nd/bin/dedup' ] && '$d/opt/nd/bin/dedup' --version"
check headers "[ -f '$d/opt/nd/include/neardup/records.h' ] && [ -f '$d/opt/nd/include/neardup/dedup.h' ]"
check pkgconfig "grep -q '^prefix=/opt/nd' '$d/opt/nd/lib/pkgconfig/neardup.pc'"
cat > "$d/prog.c" <<'C'
#include <neardup/records.h>
#include <stdio.h>
int main(int argc, char **argv) {
	nd_dataset *ds;
	if (nd_dataset_load(&ds, argv[1], NULL)) { fprintf(stderr, "%s\n", nd_error_last()); return 1; }
	printf("%s %zu\n", nd_version(), nd_dataset_count(ds));
	nd_dataset_free(ds);
	return 0;
}
C
flags=$(sed "s|^prefix=.*|prefix=$d/opt/nd|" "$d/opt/nd/lib/pkgconfig/neardup.pc" > "$d/neardup.pc" && \
        PKG_CONFIG_PATH=$d pkg-config --cflags --libs neardup)
check compiles-with-pkg-config "cc -o '$d/prog' '$d/prog.c' $flags"
check runs "[ \"\$(LD_LIBRARY_PATH='$d/opt/nd/lib' '$d/prog' tests/fixtures/exam_choose.json)\" = \"$(sed -n 's/^#define ND_VERSION_STRING "\(.*\)"/\1/p' include/neardup/common.h) 3\" ]"
make -s uninstall DESTDIR="$d" PREFIX=/opt/nd >/dev/null
check uninstall "[ ! -e '$d/opt/nd/bin/dedup' ] && [ ! -e '$d/opt/nd/include/neardup' ] && [ ! -e '$d/opt/nd/lib/pkgconfig/neardup.pc' ]"
echo "install: $pass passed, $fail failed"
[ $fail -eq 0 ]
