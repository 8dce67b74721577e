# neardup — build, test, install.  See README.md for the two commands a newcomer needs.
#
#   make            library + tools (build/)
#   make deps       Debian packages + FAISS C API (idempotent; scripts/deps.sh)
#   make check      unit + CLI tests (fast)
#   make test       deps, a -Werror build, check, the real-data test, then the suite under ASan+UBSan
#   make asan       the suite under ASan+UBSan (build/asan/)
#   make bench      benchmarks (benchmarks/README.md)
#   make demo       dedup on the bundled sample
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
# pkg-config runs when a rule needs the flags (=, not :=), so a first "make" on a
# fresh machine sees the packages scripts/deps.sh has just installed.
# where scripts/deps.sh put FAISS's C API (always the top build dir: built once)
FAISS_C ?= build/faiss-capi

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla
OPT     ?= -O2 -g
PKGS    := icu-uc icu-i18n icu-io libcjson libcurl libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fPIC -Iinclude -Icore -I$(FAISS_C)/include \
              $(PKG_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LIBS    = $(FAISS_C)/libfaiss_c.a -lfaiss -lopenblas -llapack $(PKG_LIBS) -lgomp -lstdc++ -lpthread -lm
LDFLAGS_ALL := $(LDFLAGS) $(EXTRA_LDFLAGS)

LIB_SRC  := $(sort $(wildcard core/*.c dedup/*.c embed/*.c validate/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_COMMON := cli/common.c
CLI_TOOLS  := dedup validate embed
TEST_SRC := $(sort $(wildcard tests/unit/*.c)) tests/harness.c
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)

TOOLS := $(foreach t,$(CLI_TOOLS),$(if $(wildcard cli/$(t).c),$(BUILD)/$(t)))

.PHONY: all deps lib tools check test unit cli-test realdata asan werror bench demo install uninstall clean
all: lib tools

deps:
	@scripts/deps.sh

$(FAISS_C)/libfaiss_c.a:
	@scripts/deps.sh

lib: $(BUILD)/libneardup.a $(BUILD)/libneardup.so $(BUILD)/neardup.pc
tools: $(TOOLS)

$(BUILD)/obj/%.o: %.c | $(FAISS_C)/libfaiss_c.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DND_BUILDING_LIBRARY -fvisibility=hidden -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c | $(FAISS_C)/libfaiss_c.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -MMD -MP -c $< -o $@

$(BUILD)/obj/cli/%.o: cli/%.c | $(FAISS_C)/libfaiss_c.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libneardup.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libneardup.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libneardup.so.0 -o $@ $^ $(LDFLAGS_ALL) $(LIBS)

VERSION := $(shell sed -n 's/^\#define ND_VERSION_STRING "\(.*\)"/\1/p' include/neardup/common.h)

$(BUILD)/neardup.pc: neardup.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(BUILD)/%: $(BUILD)/obj/cli/%.o $(BUILD)/obj/cli/common.o $(BUILD)/libneardup.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(LIBS)

$(BUILD)/unit-tests: $(TEST_OBJ) $(BUILD)/libneardup.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(LIBS)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

cli-test: tools
	ND_BIN=$(BUILD) tests/cli/run.sh

check: all $(BUILD)/unit-tests
	@ND_BIN=$(BUILD) tests/run-all.sh $(BUILD)

realdata: all
	ND_BIN=$(BUILD) tests/realdata.sh

werror:
	$(MAKE) BUILD=build/werror EXTRA_CFLAGS=-Werror all build/werror/unit-tests

asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" check

test: deps
	$(MAKE) werror
	$(MAKE) check
	$(MAKE) realdata
	tests/install.sh
	ASAN_OPTIONS=detect_leaks=1 $(MAKE) asan

bench: all
	benchmarks/run.sh $(BUILD)

demo: deps
	@$(MAKE) -s all >/dev/null
	$(BUILD)/dedup --threshold 0.9 examples/sample.json -o $(BUILD)/demo-out.json --report $(BUILD)/demo-report.json
	@python3 scripts/show-report.py $(BUILD)/demo-report.json
	@echo "kept records: $(BUILD)/demo-out.json; every decision: $(BUILD)/demo-report.json (docs/report-schema.md)"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib/neardup \
	  $(DESTDIR)$(PREFIX)/include/neardup
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libneardup.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libneardup.so $(DESTDIR)$(PREFIX)/lib/libneardup.so.0
	ln -sf libneardup.so.0 $(DESTDIR)$(PREFIX)/lib/libneardup.so
	# FAISS's C API (built from Debian's source, not packaged): static users link it
	install -m 644 $(FAISS_C)/libfaiss_c.a $(DESTDIR)$(PREFIX)/lib/neardup/
	install -m 644 include/neardup/*.h $(DESTDIR)$(PREFIX)/include/neardup/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' neardup.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/neardup.pc

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(CLI_TOOLS))
	rm -f $(DESTDIR)$(PREFIX)/lib/libneardup.a $(DESTDIR)$(PREFIX)/lib/libneardup.so $(DESTDIR)$(PREFIX)/lib/libneardup.so.0
	rm -rf $(DESTDIR)$(PREFIX)/include/neardup
	rm -f $(DESTDIR)$(PREFIX)/lib/pkgconfig/neardup.pc
	rm -rf $(DESTDIR)$(PREFIX)/lib/neardup

clean:
	rm -rf build/obj build/werror build/asan build/*.a build/*.so build/unit-tests build/neardup.pc $(addprefix build/,$(CLI_TOOLS))

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# benchmark programs: benchmarks/bench_NAME.c -> build/bench-NAME
$(BUILD)/obj/benchmarks/%.o: benchmarks/%.c | $(FAISS_C)/libfaiss_c.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/bench-%: $(BUILD)/obj/benchmarks/bench_%.o $(BUILD)/libneardup.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(LIBS)

# ---------------------------------------------------------------------------------
# Reliability (issue 7, docs/reliability.md): fuzz targets, their corpus replay,
# faults, determinism, valgrind. Everything of issue 7 in the Makefile is in this block.
#
#   make fuzz-replay   every tests/fuzz/fuzz_*.c over tests/fuzz/corpora/<target>/ with
#                      the project's compiler and a replay driver (part of make check,
#                      so make asan replays the corpus under ASan+UBSan too)
#   make fuzz          libFuzzer + ASan + UBSan, FUZZ_SECONDS per target (default 600),
#                      FUZZ_TARGETS="fuzz_records ..." to pick; needs clang
#   make reliability   tests/faults.sh and tests/determinism.sh (part of make check)
#   make valgrind      memcheck on the CLI end-to-end tests (VALGRIND_CASES selects)
FUZZ_TARGETS ?= $(patsubst tests/fuzz/%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SECONDS ?= 600
FUZZ_CC      ?= clang
VALGRIND_CASES ?=
.PHONY: fuzz fuzz-bins fuzz-replay reliability valgrind
# the targets' objects are kept between runs (not deleted as intermediates)
.SECONDARY: $(FUZZ_TARGETS:%=$(BUILD)/obj/tests/fuzz/%.o) $(BUILD)/obj/tests/fuzz/replay.o

$(BUILD)/fuzz-replay/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay.o $(BUILD)/libneardup.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(LIBS)

fuzz-replay: $(FUZZ_TARGETS:%=$(BUILD)/fuzz-replay/%)
	@for t in $(FUZZ_TARGETS); do \
	  $(BUILD)/fuzz-replay/$$t tests/fuzz/corpora/$$t 2>$(BUILD)/fuzz-replay/$$t.log || \
	  { tail -n 30 $(BUILD)/fuzz-replay/$$t.log; echo "fuzz-replay: $$t FAILED (log: $(BUILD)/fuzz-replay/$$t.log)"; exit 1; }; \
	done

# libFuzzer binaries (only in the build/fuzz tree that `make fuzz` configures)
$(BUILD)/fuzz-bin/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/libneardup.a
	@mkdir -p $(dir $@)
	$(CC) -fsanitize=fuzzer -o $@ $^ $(LDFLAGS_ALL) $(LIBS)

fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz-bin/%)

fuzz:
	$(MAKE) BUILD=build/fuzz CC=$(FUZZ_CC) OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined,float-cast-overflow" FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz-bins
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh build/fuzz/fuzz-bin $(FUZZ_TARGETS)

reliability: tools
	ND_BIN=$(BUILD) tests/faults.sh
	ND_BIN=$(BUILD) tests/determinism.sh

valgrind: all
	ND_BIN=$(BUILD) tests/valgrind.sh $(VALGRIND_CASES)

check: fuzz-replay reliability
