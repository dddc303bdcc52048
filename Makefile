# ampshim: `make` builds build/libampshim.so and build/ampshim.
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
CPPFLAGS += -Iinclude
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/ampshim
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/ampshim
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
# The version is written once, in the top entry of debian/changelog (bump it
# with `dch -v X.Y.Z`): the launcher, the manual pages and the package read it
# from there (a native package: no Debian revision to strip).
VERSION := $(shell sed -n '1{s/^[^(]*(\([^)]*\)).*/\1/;s/^[0-9]*://;s/-[^-]*$$//;p;q}' debian/changelog)
$(if $(VERSION),,$(error cannot read the version from debian/changelog))
# The libdir as seen from the bindir (../lib/ampshim): the launcher looks for
# its library there too, so a DESTDIR tree or an unpacked package runs as is.
LIBDIR_REL := $(shell realpath -m --relative-to='$(BINDIR)' '$(LIBDIR)')
# What the launcher has built in (main.c).
CLI_DEFS = -DAMPSHIM_VERSION='"$(VERSION)"' -DAMPSHIM_LIBDIR='"$(LIBDIR)"' \
           -DAMPSHIM_LIBDIR_REL='"$(LIBDIR_REL)"'
# Each object depends on the headers it includes (build/**/*.d), no more.
DEPFLAGS = -MMD -MP
B := build

# The preload is two objects (include/stage1.h says why): the first stage,
# libampshim.so, which LD_PRELOAD names and every process loads, and the
# core, libampshim-core.so beside it, which the first stage loads only where
# libcurl is. Both link nothing but libc: libcurl is found in the
# application at run time, libconfig is dlopen'ed on first need.
STAGE1_SRC := stage1.c stage1_hooks.c stage1_real.c stage1_env.c deepbind.c elfsym.c
LIB_SRC := hooks.c ffi.c global.c easy.c multi.c transfer.c redirect.c options.c confine.c trace.c ratelimit.c \
           respond.c handles.c headers.c route.c block.c config.c config_settings.c config_key.c \
           config_routes.c config_discover.c catalog.c suggest.c libconfig_dl.c \
           state.c real.c settings.c log.c safefile.c locks.c counts.c tally.c \
           arena.c routeindex.c origins.c hostaddr.c urlsplit.c routelist.c cookies.c cookiejar.c env.c
# The launcher: main.c, its table of commands, and each command in the file
# of its job (src/cmd_*.c, every one of them).
CLI_SRC := main.c commands.c cli_report.c cli_config.c known.c $(notdir $(wildcard src/cmd_*.c)) nearhost.c suggest.c \
           state_fork.c exekind.c wire.c explain.c json.c stats.c places.c rescue.c config.c config_settings.c config_key.c config_routes.c config_discover.c catalog.c route.c \
           headers.c block.c state.c counts.c log.c curlapi_linked.c safefile.c arena.c routeindex.c origins.c hostaddr.c \
           urlsplit.c routelist.c env.c
CORE_SRC := state_fork.c config.c config_settings.c config_key.c config_routes.c config_discover.c catalog.c suggest.c route.c headers.c block.c state.c counts.c log.c curlapi_linked.c \
            safefile.c json.c arena.c routeindex.c origins.c hostaddr.c urlsplit.c routelist.c cookiejar.c env.c

STAGE1_OBJ := $(STAGE1_SRC:%.c=$(B)/stage1/%.o)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/lib/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/cli/%.o)
CORE_OBJ := $(CORE_SRC:%.c=$(B)/cli/%.o)

UNIT := $(B)/test_route $(B)/test_config $(B)/test_headers $(B)/test_block $(B)/test_state \
        $(B)/test_elfsym $(B)/test_confine $(B)/test_options $(B)/test_counts $(B)/test_json \
        $(B)/test_urlsplit $(B)/test_arena $(B)/test_catalog $(B)/test_routelist $(B)/test_cookiejar \
        $(B)/test_suggest $(B)/test_hostaddr
CLIENTS := $(B)/easy_client $(B)/no_curl $(B)/runpath_main $(B)/plugins/libplug.so \
           $(B)/two_flavours $(B)/plugins/libflavour_plug.so $(B)/multi_client \
           $(B)/lifecycle_client $(B)/threads_client $(B)/fork_client $(B)/dl_race \
           $(B)/plugins/libctor_plug.so $(B)/ending_client $(B)/plugins/libdlsym_tracer.so \
           $(B)/sticky_client $(B)/plugins/libno_threads.so $(B)/reload_client $(B)/flavour_race \
           $(B)/plugins/librenamed_plug.so $(B)/reset_client $(B)/refused_client $(B)/hdrcb_client

# The same library and two threaded clients under ThreadSanitizer: the
# integration tests run them and fail on any report.
TSAN_OBJ := $(LIB_SRC:%.c=$(B)/tsan/lib/%.o)
TSAN := $(B)/tsan/libampshim.so $(B)/tsan/libampshim-core.so $(B)/tsan/threads_client $(B)/tsan/multi_client \
        $(B)/tsan/reload_client

.PHONY: all test unit integration demo install uninstall deb clean deps tsan checksrc
all: $(B)/libampshim.so $(B)/libampshim-core.so $(B)/ampshim $(B)/providers.cfg $(B)/man/ampshim.1 \
     $(B)/man/ampshim.cfg.5 $(B)/man/ampshim-json.7

# The provider catalog lives beside the library (and the launcher).
$(B)/providers.cfg: conf/providers.cfg | $(B)/lib
	cp $< $@

# The core is optimised whole, at link time: a request's path crosses its
# files (hook, adapter, transfer, options), and the calls between them were
# ~15 % of ampshim's own instructions a request (docs/cost.md). Every link of
# its objects (the core, and the tests' builds of it) says so too. Fat
# objects: their plain symbol tables are what make checksrc reads.
CORE_LTO := -flto=auto -ffat-lto-objects
$(B)/lib/%.o: src/%.c | $(B)/lib
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CORE_LTO) $(SIBCALLS_$*) $(WARN) $(DEPFLAGS) -fPIC -fvisibility=hidden -c $< -o $@
$(B)/cli/%.o: src/%.c | $(B)/cli
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(DEPFLAGS) $(CLI_DEFS) -c $< -o $@
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(STAGE1_OBJ:.o=.d)

# The first stage is built once for every build (sanitizers, tests'
# switches, allocation failures): each has a copy beside its own core. Its
# exported functions end in tail calls (see stage1.c), whatever CFLAGS say,
# and it is never instrumented: a sanitizer's runtime calls its dlsym
# before it is set up itself.
$(B)/stage1/%.o: src/%.c | $(B)/stage1
	$(CC) $(CPPFLAGS) $(CFLAGS) -O2 -foptimize-sibling-calls $(WARN) $(DEPFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

# The loader's hooks must reach glibc by tail calls (see hooks.c), whatever CFLAGS say
# (a variable of its own, so that `make CFLAGS=-O0` cannot take it away).
SIBCALLS_hooks := -O2 -foptimize-sibling-calls
SIBCALLS_real := -O2 -foptimize-sibling-calls

# Bound lazily, whatever LDFLAGS say (Debian's bindnow), so that a program
# that never calls curl binds none of the library's imports: -z now cost
# every process ~50,000 instructions at start (make bench, target e).
# Every import is libc's or the loader's, objects loaded at start, and
# glibc binds those lazily without the loader's lock (it takes it only for
# objects dlopen'ed later): a first call from a dlopen constructor, from a
# sanitizer's early dlsym or from two threads at once binds as at start.
# The relative relocations are packed (DT_RELR, read by glibc 2.36 and
# later): ~2,000 instructions less at every start.
# The core is loaded with dlopen, so only in processes that use libcurl; it
# is bound lazily too. The first stage is linked without the build's flags:
# it is the same object in every build.
LIB_LDFLAGS := -Wl,-z,lazy -Wl,-z,pack-relative-relocs
# The first stage names no library it needs and has no start files: every
# process it is loaded into has libc in its global scope, where its lazily
# bound calls find their functions (each at its default version), and a
# NEEDED entry with its version needs, and the start files' weak look-ups,
# cost more than the whole first stage does (make bench, target e). A link
# with libc checks that each of its references is libc's.
$(B)/libampshim.so: $(STAGE1_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-z,defs $^ -o $(B)/stage1/linked-with-libc.so
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -nostdlib $(LIB_LDFLAGS) $^ -lgcc -o $@
$(B)/libampshim-core.so: $(LIB_OBJ)
	$(CC) $(CFLAGS) $(CORE_LTO) $(LDFLAGS) -shared -Wl,-z,defs $(LIB_LDFLAGS) $^ -o $@
# The other builds' copies of the first stage, each beside its core.
$(B)/tsan/libampshim.so $(B)/allocfail/libampshim.so $(B)/testswitch/libampshim.so: $(B)/libampshim.so
	mkdir -p $(@D) && cp $< $@
# The launcher has the version and the libdir built in: rebuilt when they
# change (debian/changelog, PREFIX, BINDIR or LIBDIR): the objects that use them.
CLI_DEFS_USERS := main commands cmd_run
$(CLI_DEFS_USERS:%=$(B)/cli/%.o): $(B)/cli/defs
$(B)/cli/defs: FORCE | $(B)/cli
	@echo '$(CLI_DEFS)' | cmp -s - $@ || echo '$(CLI_DEFS)' > $@
FORCE:

$(B)/ampshim: $(CLI_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ -lcurl -lconfig

# The manual pages as installed: the version and the libdirs filled in.
$(B)/man/%: man/% $(B)/cli/defs | $(B)/man
	sed -e '1s/"ampshim"/"ampshim $(VERSION)"/' -e 's|/usr/local/lib/ampshim|$(LIBDIR)|g' \
	  -e 's|\.\./lib/ampshim|$(LIBDIR_REL)|g' $< > $@

# The sanitizer's runtime binds its interceptors through our dlsym before it
# is set up itself, and RTLD_NEXT needs our tail calls (which instrumenting
# function entries would take away): the hooks and the real calls are
# built plain.
TSAN_PLAIN := hooks real
$(B)/tsan/lib/%.o: src/%.c | $(B)/tsan/lib
	$(CC) $(CPPFLAGS) -g $(if $(filter $*,$(TSAN_PLAIN)),-O2 -foptimize-sibling-calls,-O1 -fsanitize=thread) \
	  $(WARN) $(DEPFLAGS) -fPIC -fvisibility=hidden -c $< -o $@
-include $(TSAN_OBJ:.o=.d)
$(B)/tsan/libampshim-core.so: $(TSAN_OBJ)
	$(CC) -fsanitize=thread -shared $^ -o $@
$(B)/tsan/%: tests/clients/%.c | $(B)/tsan/lib
	$(CC) -O1 -g -fsanitize=thread $(WARN) $(RDYNAMIC_$*) $< -o $@ -lcurl -lpthread
tsan: $(TSAN)

# The library with every allocation it makes countable, and failable one at
# a time (tests/allocfail): the allocation-failure test.
ALLOCFAIL_WRAP := malloc calloc realloc strdup strndup asprintf vasprintf fmemopen
$(B)/allocfail/libampshim-core.so: $(LIB_OBJ) tests/allocfail/allocfail.c | $(B)/allocfail
	$(CC) $(CFLAGS) $(CORE_LTO) $(WARN) -fPIC -shared -Wl,-z,defs -Wl,-z,now $(ALLOCFAIL_WRAP:%=-Wl,--wrap=%) \
	  $(LIB_OBJ) tests/allocfail/allocfail.c -o $@

# The library with the tests' switches compiled in (AMPSHIM_TEST_SWITCHES:
# AMPSHIM_NO_HEADER_API in real.c, AMPSHIM_NO_CONFIG_ARENA in settings.c),
# its catalog beside it: the integration tests preload it where they turn a
# switch on. The installed library has none.
TESTSWITCH_SRC := real.c settings.c
TESTSWITCH_OBJ := $(foreach s,$(LIB_SRC),$(if $(filter $s,$(TESTSWITCH_SRC)),$(B)/testswitch/$(s:.c=.o),$(B)/lib/$(s:.c=.o)))
TESTSWITCH := $(B)/testswitch/libampshim.so $(B)/testswitch/libampshim-core.so $(B)/testswitch/providers.cfg
$(B)/testswitch/%.o: src/%.c | $(B)/testswitch
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SIBCALLS_$*) $(WARN) $(DEPFLAGS) -DAMPSHIM_TEST_SWITCHES -fPIC -fvisibility=hidden \
	  -c $< -o $@
-include $(TESTSWITCH_SRC:%.c=$(B)/testswitch/%.d)
$(B)/testswitch/libampshim-core.so: $(TESTSWITCH_OBJ)
	$(CC) $(CFLAGS) $(CORE_LTO) $(LDFLAGS) -shared -Wl,-z,defs $(LIB_LDFLAGS) $^ -o $@
$(B)/testswitch/providers.cfg: conf/providers.cfg | $(B)/testswitch
	cp $< $@

$(B)/lib $(B)/stage1 $(B)/cli $(B)/man $(B)/plugins $(B)/tsan/lib $(B)/allocfail $(B)/testswitch:
	mkdir -p $@

# Unit tests (cmocka): plain functions, linked against the real libcurl/libconfig.
$(B)/test_%: tests/unit/test_%.c $(CORE_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $^ -o $@ -lcmocka -lcurl -lconfig
# The environment as the first stage copies it at start, and the core reads it.
$(B)/test_config: $(B)/cli/stage1_env.o

# The in-memory symbol look-up stands alone (the library's, not the launcher's).
# (One command compiles two sources here, and gcc's -MMD then keeps only the
# last one's headers: every header stays a prerequisite.)
$(B)/test_elfsym: tests/unit/test_elfsym.c src/elfsym.c $(wildcard include/*.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) tests/unit/test_elfsym.c src/elfsym.c -o $@ -lcmocka -lcurl

# The option table drives the library's own objects (not its exported
# hooks), through a recording libcurl.
$(B)/test_options: tests/unit/test_options.c $(filter-out $(B)/lib/hooks.o $(B)/lib/ffi.o,$(LIB_OBJ))
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CORE_LTO) $(WARN) $^ -o $@ -lcmocka -lcurl -lpthread -ldl

# Programs the integration tests run.
$(B)/easy_client $(B)/multi_client $(B)/lifecycle_client $(B)/ending_client $(B)/sticky_client \
  $(B)/reset_client $(B)/refused_client $(B)/hdrcb_client: $(B)/%: tests/clients/%.c
	$(CC) $(CFLAGS) $(WARN) $< -o $@ -lcurl
$(B)/plugins/libctor_plug.so: tests/clients/ctor_plug.c | $(B)/plugins
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@ -lcurl
$(B)/threads_client $(B)/fork_client $(B)/dl_race $(B)/flavour_race: $(B)/%: tests/clients/%.c
	$(CC) $(CFLAGS) $(WARN) $< -o $@ -lcurl -lpthread
# Its time() is the clock the library reads (see the file): exported.
RDYNAMIC_reload_client := -rdynamic
$(B)/reload_client: tests/clients/reload_client.c
	$(CC) $(CFLAGS) $(WARN) -rdynamic $< -o $@ -lcurl -lpthread
$(B)/no_curl: tests/clients/no_curl.c
	$(CC) $(CFLAGS) $(WARN) $< -o $@
$(B)/plugins/libdlsym_tracer.so: tests/clients/dlsym_tracer.c | $(B)/plugins
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@
$(B)/plugins/libno_threads.so: tests/clients/no_threads.c | $(B)/plugins
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@
$(B)/plugins/libplug.so: tests/clients/plug.c | $(B)/plugins
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@
# Linked against libcurl-gnutls by file name: Debian ships no -dev symlink for it.
$(B)/plugins/libflavour_plug.so: tests/clients/flavour_plug.c | $(B)/plugins
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@ $$(find /usr/lib /lib -name libcurl-gnutls.so.4 | head -n1)
# The same plugin linked against a copy of libcurl-gnutls whose name does
# not begin with "libcurl" (found beside it: RUNPATH $ORIGIN).
$(B)/plugins/xibcurl-gnutls.so.4: tests/clients/rename_soname.py | $(B)/plugins
	/usr/bin/python3 $< $$(find /usr/lib /lib -name libcurl-gnutls.so.4 | head -n1) xibcurl-gnutls.so.4 $@
$(B)/plugins/librenamed_plug.so: tests/clients/flavour_plug.c $(B)/plugins/xibcurl-gnutls.so.4
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@ $(B)/plugins/xibcurl-gnutls.so.4 -Wl,--enable-new-dtags -Wl,-rpath,'$$ORIGIN'
$(B)/two_flavours: tests/clients/two_flavours.c
	$(CC) $(CFLAGS) $(WARN) $< -o $@ -lcurl
$(B)/runpath_main: tests/clients/runpath_main.c
	$(CC) $(CFLAGS) $(WARN) $< -o $@ -Wl,--enable-new-dtags -Wl,-rpath,'$$ORIGIN/plugins'

deps:
	@tests/deps.sh

unit: $(UNIT)
	@for t in $(UNIT); do $$t || exit 1; done

integration: all $(CLIENTS) $(TSAN) $(TESTSWITCH)
	/usr/bin/python3 tests/integration/run.py

test: deps
	$(MAKE) --no-print-directory all $(UNIT) $(CLIENTS) $(TSAN) $(TESTSWITCH) $(B)/allocfail/libampshim.so \
	  $(B)/allocfail/libampshim-core.so
	/usr/bin/python3 tools/checksrc.py $(B)
	/usr/bin/python3 tests/run_all.py $(UNIT)

# The mechanical style rules (tools/checksrc.py says which): banned calls,
# assignments in conditions, long lines, file header comments, functions
# that should be static (read from the objects, so the build comes first).
checksrc: all
	/usr/bin/python3 tools/checksrc.py $(B)

demo: deps
	$(MAKE) --no-print-directory all
	@tests/demo.sh

# The benchmark (not part of `make test`): direct, native and through ampshim,
# time and callgrind instructions per request, start-up and /bin/true, each
# target printed as met or MISSED; see tests/bench/bench.py.
.PHONY: bench bench-build
bench: deps
	@tests/deps.sh valgrind
	$(MAKE) --no-print-directory bench-build
	/usr/bin/python3 tests/bench/bench.py
bench-build: all $(B)/bench/upstream $(B)/bench/bench_client
$(B)/bench/upstream: tests/bench/upstream.c | $(B)/bench
	$(CC) -O2 -g $(WARN) $< -o $@ -lpthread
$(B)/bench/bench_client: tests/bench/bench_client.c | $(B)/bench
	$(CC) -O2 -g $(WARN) $< -o $@ -lcurl
$(B)/bench:
	mkdir -p $@

# Installed: (source, destination, mode) triples, one list for install and
# uninstall. DESTDIR is prefixed to each destination.
INSTALL_FILES := \
  $(B)/ampshim:$(BINDIR)/ampshim:755 \
  $(B)/libampshim.so:$(LIBDIR)/libampshim.so:644 \
  $(B)/libampshim-core.so:$(LIBDIR)/libampshim-core.so:644 \
  conf/providers.cfg:$(LIBDIR)/providers.cfg:644 \
  $(B)/man/ampshim.1:$(MANDIR)/man1/ampshim.1:644 \
  $(B)/man/ampshim.cfg.5:$(MANDIR)/man5/ampshim.cfg.5:644 \
  $(B)/man/ampshim-json.7:$(MANDIR)/man7/ampshim-json.7:644 \
  conf/example.cfg:$(DOCDIR)/examples/example.cfg:644 \
  completion/ampshim:$(BASHCOMPDIR)/ampshim:644
# The folders that are ampshim's own, removed by uninstall when empty.
INSTALL_OWN_DIRS := $(LIBDIR) $(DOCDIR)/examples $(DOCDIR)
# Every other folder install makes (bin/, share/bash-completion/..., under
# DESTDIR or not) is written down in the build tree, one path a line, and
# uninstall removes those that are empty: never a folder that was there
# before (an empty /usr/local/share/man/man5 stays). Kept in the build tree
# and not in the install, so that nothing of it goes into a package;
# `make clean` forgets it (uninstall then removes only the folders above).
INSTALL_MADE := $(B)/installed-folders
INSTALL_ROOT = $(if $(DESTDIR),$(abspath $(DESTDIR)))

install: all
	@set -e; for f in $(INSTALL_FILES); do \
	  src=$${f%%:*}; rest=$${f#*:}; dst='$(INSTALL_ROOT)'$${rest%:*}; mode=$${rest##*:}; \
	  d=$${dst%/*}; while [ -n "$$d" ] && [ ! -d "$$d" ]; do echo "$$d" >> $(INSTALL_MADE); d=$${d%/*}; done; \
	  echo "install $$src $$dst"; install -D -m $$mode $$src $$dst; \
	done

uninstall:
	@for f in $(INSTALL_FILES); do \
	  rest=$${f#*:}; dst='$(INSTALL_ROOT)'$${rest%:*}; \
	  if [ -e "$$dst" ] || [ -L "$$dst" ]; then echo "rm $$dst"; rm -f "$$dst"; fi; \
	done
	@for d in $(INSTALL_OWN_DIRS); do \
	  [ ! -d '$(INSTALL_ROOT)'$$d ] || rmdir --ignore-fail-on-non-empty '$(INSTALL_ROOT)'$$d; \
	done
	@# Deepest first (a folder sorts after its parent); those still there kept in the list.
	@if [ -f $(INSTALL_MADE) ]; then \
	  sort -ru $(INSTALL_MADE) | while IFS= read -r d; do \
	    [ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d"; [ ! -d "$$d" ] || echo "$$d"; \
	  done > $(INSTALL_MADE).new; mv $(INSTALL_MADE).new $(INSTALL_MADE); \
	fi

# The Debian package (debian/: debhelper), built from a copy of this tree
# in $(B)/deb, so that the package's own build (its flags, its libdir, its
# `make clean`) never touches this one; the .deb is left in $(B)/. The unit
# tests run in it; the integration tests do not (DEB_BUILD_OPTIONS=nocheck:
# none). Needs debhelper and dpkg-dev (tests/deps.sh installs them).
DEB_ARCH = $(shell dpkg-architecture -qDEB_HOST_ARCH)
DEB_FILE = $(B)/ampshim_$(VERSION)_$(DEB_ARCH).deb
deb:
	@tests/deps.sh
	rm -rf $(B)/deb && mkdir -p $(B)/deb/ampshim-$(VERSION)
	tar -c --exclude=./build --exclude=./.git --exclude=__pycache__ . | tar -x -C $(B)/deb/ampshim-$(VERSION)
	cd $(B)/deb/ampshim-$(VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	  dpkg-buildpackage -b -us -uc -jauto
	cp $(B)/deb/ampshim_$(VERSION)_$(DEB_ARCH).deb $(DEB_FILE)
	@echo "built $(DEB_FILE) (lintian $(DEB_FILE) checks it)"

clean:
	rm -rf $(B)

# Sanitizer, valgrind and fuzzing targets (make asan, make fuzz) live in mk/.
-include $(wildcard mk/*.mk)
