# ampshim: `make` builds build/libampshim.so and build/ampshim.
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
CPPFLAGS += -Iinclude
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib/ampshim
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
VERSION := 0.1.0
B := build

# The preload library links nothing but libc: libcurl is found in the
# application at run time, libconfig is dlopen'ed on first need.
LIB_SRC := hooks.c ffi.c easy.c multi.c transfer.c redirect.c options.c confine.c trace.c ratelimit.c \
           respond.c handles.c headers.c route.c retry.c config.c catalog.c libconfig_dl.c \
           throttle.c real.c elfsym.c shim.c deepbind.c log.c safefile.c \
           arena.c routeindex.c urlsplit.c routelist.c aside.c
CLI_SRC := main.c explain.c config.c catalog.c route.c headers.c retry.c throttle.c log.c \
           curlapi_linked.c safefile.c arena.c routeindex.c urlsplit.c routelist.c
CORE_SRC := config.c catalog.c route.c headers.c retry.c throttle.c log.c curlapi_linked.c \
            safefile.c confine.c arena.c routeindex.c urlsplit.c routelist.c aside.c

LIB_OBJ := $(LIB_SRC:%.c=$(B)/lib/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/cli/%.o)
CORE_OBJ := $(CORE_SRC:%.c=$(B)/cli/%.o)

UNIT := $(B)/test_route $(B)/test_config $(B)/test_headers $(B)/test_retry $(B)/test_throttle \
        $(B)/test_elfsym $(B)/test_confine $(B)/test_urlsplit $(B)/test_arena \
        $(B)/test_catalog $(B)/test_routelist $(B)/test_aside
CLIENTS := $(B)/easy_client $(B)/no_curl $(B)/runpath_main $(B)/plugins/libplug.so \
           $(B)/two_flavours $(B)/plugins/libflavour_plug.so $(B)/multi_client \
           $(B)/lifecycle_client $(B)/threads_client $(B)/fork_client $(B)/dl_race \
           $(B)/plugins/libctor_plug.so $(B)/ending_client $(B)/plugins/libdlsym_tracer.so

# The same library and two threaded clients under ThreadSanitizer: the
# integration tests run them and fail on any report.
TSAN_OBJ := $(LIB_SRC:%.c=$(B)/tsan/lib/%.o)
TSAN := $(B)/tsan/libampshim.so $(B)/tsan/threads_client $(B)/tsan/multi_client

.PHONY: all test unit integration demo install clean deps tsan
all: $(B)/libampshim.so $(B)/ampshim $(B)/providers.cfg

# The provider catalog lives beside the library (and the launcher).
$(B)/providers.cfg: conf/providers.cfg | $(B)/lib
	cp $< $@

$(B)/lib/%.o: src/%.c $(wildcard include/*.h) | $(B)/lib
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SIBCALLS_$*) $(WARN) -fPIC -fvisibility=hidden -c $< -o $@
$(B)/cli/%.o: src/%.c $(wildcard include/*.h) | $(B)/cli
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -DAMPSHIM_VERSION='"$(VERSION)"' \
	  -DAMPSHIM_LIBDIR='"$(LIBDIR)"' -c $< -o $@

# The dlopen hook must reach glibc by tail calls (see hooks.c), whatever CFLAGS say
# (a variable of its own, so that `make CFLAGS=-O0` cannot take it away).
SIBCALLS_hooks := -O2 -foptimize-sibling-calls
SIBCALLS_real := -O2 -foptimize-sibling-calls

# Bound lazily (no -z now), so that a program that never calls curl binds
# none of the library's imports: -z now cost every process ~60,000
# instructions at start. Every import is libc's or the loader's, objects
# loaded at start, and glibc binds those lazily without the loader's lock
# (it takes it only for objects dlopen'ed later): a first call from a
# dlopen constructor, from a sanitizer's early dlsym or from two threads at
# once binds as at start. The relative relocations are packed (DT_RELR,
# read by glibc 2.36 and later): ~2,000 instructions less at every start.
LIB_LDFLAGS := -Wl,-z,pack-relative-relocs
$(B)/libampshim.so: $(LIB_OBJ)
	$(CC) $(CFLAGS) -shared -Wl,-z,defs $(LIB_LDFLAGS) $^ -o $@
# The launcher has the libdir built in: rebuilt when PREFIX or LIBDIR change.
$(B)/cli/main.o: $(B)/cli/libdir
$(B)/cli/libdir: FORCE | $(B)/cli
	@echo '$(LIBDIR)' | cmp -s - $@ || echo '$(LIBDIR)' > $@
FORCE:

$(B)/ampshim: $(CLI_OBJ)
	$(CC) $(CFLAGS) $^ -o $@ -lcurl -lconfig

# The sanitizer's runtime binds its interceptors through our dlsym before it
# is set up itself, and RTLD_NEXT needs our tail calls (which instrumenting
# function entries would take away): the hooks and the real calls are
# built plain.
TSAN_PLAIN := hooks real elfsym
$(B)/tsan/lib/%.o: src/%.c $(wildcard include/*.h) | $(B)/tsan/lib
	$(CC) $(CPPFLAGS) -g $(if $(filter $*,$(TSAN_PLAIN)),-O2 -foptimize-sibling-calls,-O1 -fsanitize=thread) \
	  $(WARN) -fPIC -fvisibility=hidden -c $< -o $@
$(B)/tsan/libampshim.so: $(TSAN_OBJ)
	$(CC) -fsanitize=thread -shared $^ -o $@
$(B)/tsan/%: tests/clients/%.c | $(B)/tsan/lib
	$(CC) -O1 -g -fsanitize=thread $(WARN) $< -o $@ -lcurl -lpthread
tsan: $(TSAN)

# The library with every allocation it makes countable, and failable one at
# a time (tests/allocfail): the allocation-failure test.
ALLOCFAIL_WRAP := malloc calloc realloc strdup strndup asprintf vasprintf fmemopen
$(B)/allocfail/libampshim.so: $(LIB_OBJ) tests/allocfail/allocfail.c | $(B)/allocfail
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared -Wl,-z,defs -Wl,-z,now $(ALLOCFAIL_WRAP:%=-Wl,--wrap=%) \
	  $(LIB_OBJ) tests/allocfail/allocfail.c -o $@

$(B)/lib $(B)/cli $(B)/plugins $(B)/tsan/lib $(B)/allocfail:
	mkdir -p $@

# Unit tests (cmocka): plain functions, linked against the real libcurl/libconfig.
$(B)/test_%: tests/unit/test_%.c $(CORE_OBJ)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $^ -o $@ -lcmocka -lcurl -lconfig

# The in-memory symbol look-up stands alone (the library's, not the launcher's).
$(B)/test_elfsym: tests/unit/test_elfsym.c src/elfsym.c $(wildcard include/*.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) tests/unit/test_elfsym.c src/elfsym.c -o $@ -lcmocka -lcurl

# Programs the integration tests run.
$(B)/easy_client $(B)/multi_client $(B)/lifecycle_client $(B)/ending_client: $(B)/%: tests/clients/%.c
	$(CC) $(CFLAGS) $(WARN) $< -o $@ -lcurl
$(B)/plugins/libctor_plug.so: tests/clients/ctor_plug.c | $(B)/plugins
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@ -lcurl
$(B)/threads_client $(B)/fork_client $(B)/dl_race: $(B)/%: tests/clients/%.c
	$(CC) $(CFLAGS) $(WARN) $< -o $@ -lcurl -lpthread
$(B)/no_curl: tests/clients/no_curl.c
	$(CC) $(CFLAGS) $(WARN) $< -o $@
$(B)/plugins/libdlsym_tracer.so: tests/clients/dlsym_tracer.c | $(B)/plugins
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@
$(B)/plugins/libplug.so: tests/clients/plug.c | $(B)/plugins
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@
# Linked against libcurl-gnutls by file name: Debian ships no -dev symlink for it.
$(B)/plugins/libflavour_plug.so: tests/clients/flavour_plug.c | $(B)/plugins
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC $< -o $@ $$(find /usr/lib /lib -name libcurl-gnutls.so.4 | head -n1)
$(B)/two_flavours: tests/clients/two_flavours.c
	$(CC) $(CFLAGS) $(WARN) $< -o $@ -lcurl
$(B)/runpath_main: tests/clients/runpath_main.c
	$(CC) $(CFLAGS) $(WARN) $< -o $@ -Wl,--enable-new-dtags -Wl,-rpath,'$$ORIGIN/plugins'

deps:
	@tests/deps.sh

unit: $(UNIT)
	@for t in $(UNIT); do $$t || exit 1; done

integration: all $(CLIENTS) $(TSAN)
	/usr/bin/python3 tests/integration.py

test: deps
	$(MAKE) --no-print-directory all $(UNIT) $(CLIENTS) $(TSAN) $(B)/allocfail/libampshim.so
	/usr/bin/python3 tests/run_all.py $(UNIT)

demo: deps
	$(MAKE) --no-print-directory all
	@tests/demo.sh

# The benchmark (not part of `make test`): direct vs through ampshim, time and
# callgrind instructions per request; see tests/bench/bench.py.
.PHONY: bench
bench: all
	mkdir -p $(B)/bench
	$(CC) -O2 -g $(WARN) tests/bench/upstream.c -o $(B)/bench/upstream -lpthread
	$(CC) -O2 -g $(WARN) tests/bench/bench_client.c -o $(B)/bench/bench_client -lcurl
	/usr/bin/python3 tests/bench/bench.py

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)
	install -m 755 $(B)/ampshim $(DESTDIR)$(BINDIR)/ampshim
	install -m 644 $(B)/libampshim.so $(DESTDIR)$(LIBDIR)/libampshim.so
	install -m 644 conf/providers.cfg $(DESTDIR)$(LIBDIR)/providers.cfg
	install -m 644 conf/example.cfg $(DESTDIR)$(LIBDIR)/example.cfg
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/ampshim.1 $(DESTDIR)$(MANDIR)/man1/ampshim.1
	install -m 644 man/ampshim.cfg.5 $(DESTDIR)$(MANDIR)/man5/ampshim.cfg.5

clean:
	rm -rf $(B)

# Sanitizer, valgrind and fuzzing targets (make asan, make fuzz) live in mk/.
-include $(wildcard mk/*.mk)
