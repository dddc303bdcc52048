# make fuzz, make fuzz-regress: libFuzzer targets over the parsers of
# untrusted input (tests/fuzz/README.md). Included by the Makefile.
#
#   make fuzz-regress            every target over its seeds and regressions, once
#   make fuzz FUZZ_SECONDS=60    that, then fuzz each target for FUZZ_SECONDS
#                                (make -j2 fuzz: two targets at a time)
#
# Findings are left in $(B)/fuzz/findings/<target>/ and fail the run.

FUZZ_TARGETS := route retry state config
FUZZ_SECONDS ?= 60
# Seconds one input may take (all take milliseconds), and memory per target.
FUZZ_TIMEOUT ?= 5
FUZZ_RSS_MB ?= 2048
# clang and its libFuzzer/sanitizer runtimes (not even a Recommends of
# clang-14), and llvm-symbolizer for readable stacks.
FUZZ_PKGS := clang-14 libclang-rt-14-dev llvm-14
FUZZ_CC := clang-14

FB := $(B)/fuzz
# -fno-sanitize-recover: a UBSan report stops the run like a crash.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN)
# The same sources the unit tests link (CORE_SRC), built with clang and
# coverage for the fuzzer; never mixed with the gcc objects of $(B)/cli.
FUZZ_OBJ := $(CORE_SRC:%.c=$(FB)/obj/%.o) $(FB)/obj/fuzz_common.o
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FB)/fuzz_%)

.PHONY: fuzz fuzz-regress fuzz-build fuzz-deps
fuzz-deps:
	@tests/deps.sh $(FUZZ_PKGS)

$(FB)/obj:
	mkdir -p $@

# Order-only on fuzz-deps: the compiler is installed first, but installing
# it again (a no-op) does not rebuild anything.
$(FB)/obj/%.o: src/%.c | $(FB)/obj fuzz-deps
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN) $(DEPFLAGS) -c $< -o $@
$(FB)/obj/fuzz_common.o: tests/fuzz/common.c | $(FB)/obj fuzz-deps
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN) $(DEPFLAGS) -c $< -o $@
-include $(FUZZ_OBJ:.o=.d)

$(FB)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/common.h $(FUZZ_OBJ) | fuzz-deps
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz -DAMP_FUZZ_CATALOG='"$(CURDIR)/conf/providers.cfg"' \
	  $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARN) $< $(FUZZ_OBJ) -o $@ -lcurl -lconfig

fuzz-build: $(FUZZ_BIN)

# The environment run.sh reads.
FUZZ_ENV = FUZZ_BUILD=$(FB) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TIMEOUT=$(FUZZ_TIMEOUT) \
           FUZZ_RSS_MB=$(FUZZ_RSS_MB)

fuzz-regress: fuzz-build
	@$(FUZZ_ENV) tests/fuzz/run.sh regress $(FUZZ_TARGETS)

# One rule a target, so that make -j runs them side by side.
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)
	@echo "fuzz: no finding in $(FUZZ_SECONDS)s for each of: $(FUZZ_TARGETS)"
fuzz-run-%: fuzz-regress
	@$(FUZZ_ENV) tests/fuzz/run.sh fuzz $*

# The state target's seeds, made by state.c itself: run when the layout
# changes, and commit tests/fuzz/corpus/state/.
$(FB)/seed_state: tests/fuzz/seed_state.c tests/fuzz/common.h $(FUZZ_OBJ) | fuzz-deps
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz $(FUZZ_CFLAGS) $(WARN) $< $(FUZZ_OBJ) -o $@ -lcurl -lconfig
.PHONY: fuzz-seed-state
fuzz-seed-state: $(FB)/seed_state
	$(FB)/seed_state tests/fuzz/corpus/state
