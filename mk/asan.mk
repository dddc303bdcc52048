# make asan: the whole `make test` suite (cmocka unit tests and the integration
# tests with real programs) against an ASan+UBSan build of the library, the
# launcher, the test clients and the unit tests, in $(B)/asan; fails on any
# sanitizer report (see tests/asan/run_asan.py for how reports are collected
# and which leaks count).
# make valgrind: the C clients under valgrind's memcheck through the normal
# library (tests/asan/valgrind.py).
# Included by the main Makefile; uses its B, LIB_SRC, CLI_SRC, CORE_SRC,
# CPPFLAGS, WARN, DEPFLAGS, CLI_DEFS, CLI_DEFS_USERS.

ASAN_DIR := $(B)/asan
ASAN_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_CFLAGS := -O1 -g $(ASAN_SAN)

# As in the TSan build: the sanitizer's runtime binds its interceptors through
# our dlsym before it is set up itself (instrumented code there would touch
# shadow memory that is not mapped yet), and RTLD_NEXT and dlopen's RUNPATH
# need our tail calls, which instrumentation takes away. These are built plain
# (and the first stage, the same object in every build: the main Makefile).
ASAN_PLAIN := hooks real

ASAN_LIB_OBJ := $(LIB_SRC:%.c=$(ASAN_DIR)/lib/%.o)
ASAN_CLI_OBJ := $(CLI_SRC:%.c=$(ASAN_DIR)/cli/%.o)
ASAN_CORE_OBJ := $(CORE_SRC:%.c=$(ASAN_DIR)/cli/%.o)
ASAN_UNIT := $(UNIT:$(B)/%=$(ASAN_DIR)/%)
# The test clients of the main Makefile's CLIENTS, built the same way.
ASAN_CLIENTS := $(CLIENTS:$(B)/%=$(ASAN_DIR)/%)
ASAN_EXES := $(filter-out $(ASAN_DIR)/plugins/%,$(ASAN_CLIENTS))
ASAN_PLUGINS := $(filter $(ASAN_DIR)/plugins/%,$(ASAN_CLIENTS))
ASAN_ALL := $(ASAN_DIR)/libampshim.so $(ASAN_DIR)/libampshim-core.so $(ASAN_DIR)/ampshim $(ASAN_DIR)/providers.cfg \
            $(ASAN_DIR)/asan_first.so $(ASAN_UNIT) $(ASAN_CLIENTS) $(ASAN_DIR)/allocfail/libampshim.so \
            $(ASAN_DIR)/allocfail/libampshim-core.so $(ASAN_DIR)/testswitch/libampshim.so \
            $(ASAN_DIR)/testswitch/libampshim-core.so $(ASAN_DIR)/testswitch/providers.cfg

.PHONY: asan asan-build valgrind

asan: deps
	@tests/deps.sh libasan8 libubsan1
	$(MAKE) --no-print-directory all $(ASAN_ALL)
	/usr/bin/python3 tests/asan/run_asan.py $(ASAN_UNIT)

asan-build: $(ASAN_ALL)

$(ASAN_DIR)/lib/%.o: src/%.c | $(ASAN_DIR)/lib
	$(CC) $(CPPFLAGS) -g $(if $(filter $*,$(ASAN_PLAIN)),-O2 -foptimize-sibling-calls,$(ASAN_CFLAGS)) \
	  $(WARN) $(DEPFLAGS) -fPIC -fvisibility=hidden -c $(abspath $<) -o $@
$(ASAN_DIR)/libampshim-core.so: $(ASAN_LIB_OBJ)
	$(CC) $(ASAN_SAN) -shared -Wl,-z,defs -Wl,-z,now $^ -o $@
# The first stage beside each sanitized core: the plain one (never instrumented).
$(ASAN_DIR)/libampshim.so $(ASAN_DIR)/allocfail/libampshim.so $(ASAN_DIR)/testswitch/libampshim.so: \
  $(B)/libampshim.so
	mkdir -p $(@D) && cp $< $@
$(ASAN_DIR)/providers.cfg: conf/providers.cfg | $(ASAN_DIR)/lib
	cp $< $@

# The tests' library (the main Makefile's TESTSWITCH), sanitized.
ASAN_TESTSWITCH_OBJ := $(foreach s,$(LIB_SRC),$(if $(filter $s,$(TESTSWITCH_SRC)),$(ASAN_DIR)/testswitch/$(s:.c=.o),$(ASAN_DIR)/lib/$(s:.c=.o)))
$(ASAN_DIR)/testswitch/%.o: src/%.c | $(ASAN_DIR)/testswitch
	$(CC) $(CPPFLAGS) -g $(if $(filter $*,$(ASAN_PLAIN)),-O2 -foptimize-sibling-calls,$(ASAN_CFLAGS)) \
	  $(WARN) $(DEPFLAGS) -DAMPSHIM_TEST_SWITCHES -fPIC -fvisibility=hidden -c $(abspath $<) -o $@
-include $(TESTSWITCH_SRC:%.c=$(ASAN_DIR)/testswitch/%.d)
$(ASAN_DIR)/testswitch/libampshim-core.so: $(ASAN_TESTSWITCH_OBJ)
	$(CC) $(ASAN_SAN) -shared -Wl,-z,defs -Wl,-z,now $^ -o $@
$(ASAN_DIR)/testswitch/providers.cfg: conf/providers.cfg | $(ASAN_DIR)/testswitch
	cp $< $@

$(ASAN_DIR)/cli/%.o: src/%.c | $(ASAN_DIR)/cli
	$(CC) $(CPPFLAGS) $(ASAN_CFLAGS) $(WARN) $(DEPFLAGS) $(CLI_DEFS) -c $(abspath $<) -o $@
$(CLI_DEFS_USERS:%=$(ASAN_DIR)/cli/%.o): $(B)/cli/defs
-include $(ASAN_LIB_OBJ:.o=.d) $(ASAN_CLI_OBJ:.o=.d)
$(ASAN_DIR)/ampshim: $(ASAN_CLI_OBJ)
	$(CC) $(ASAN_SAN) $^ -o $@ -lcurl -lconfig

# See the file for why it must be first (-z initfirst) and built plain.
$(ASAN_DIR)/asan_first.so: tests/asan/asan_first.c | $(ASAN_DIR)/lib
	$(CC) -O2 -g $(WARN) -shared -fPIC -Wl,-z,initfirst $< -o $@

$(filter-out $(ASAN_DIR)/test_elfsym $(ASAN_DIR)/test_options,$(ASAN_UNIT)): $(ASAN_DIR)/test_%: tests/unit/test_%.c $(ASAN_CORE_OBJ)
	$(CC) $(CPPFLAGS) $(ASAN_CFLAGS) $(WARN) $(abspath $^) -o $@ -lcmocka -lcurl -lconfig
$(ASAN_DIR)/test_config: $(ASAN_DIR)/cli/stage1_env.o
$(ASAN_DIR)/test_options: tests/unit/test_options.c $(filter-out %/hooks.o %/ffi.o,$(ASAN_LIB_OBJ))
	$(CC) $(CPPFLAGS) $(ASAN_CFLAGS) $(WARN) $(abspath $^) -o $@ -lcmocka -lcurl -lpthread -ldl
$(ASAN_DIR)/test_elfsym: tests/unit/test_elfsym.c src/elfsym.c $(wildcard include/*.h)
	$(CC) $(CPPFLAGS) $(ASAN_CFLAGS) $(WARN) $(abspath tests/unit/test_elfsym.c src/elfsym.c) -o $@ -lcmocka -lcurl

# Sources by absolute path, so that a report's frames name this tree's files
# (run_asan.py counts a leak as ours by them). --as-needed: a client that does
# not use curl (no_curl) must not load it.
$(ASAN_EXES): $(ASAN_DIR)/%: tests/clients/%.c | $(ASAN_DIR)/plugins
	$(CC) $(ASAN_CFLAGS) $(WARN) $(abspath $<) -o $@ $(or $(ASAN_LDLIBS_$*),$(ASAN_LDLIBS))
ASAN_LDLIBS := -Wl,--as-needed -lcurl -lpthread
ASAN_LDLIBS_reload_client := -rdynamic $(ASAN_LDLIBS)
ASAN_PLUGLIBS := -Wl,--as-needed -lcurl
ASAN_LDLIBS_runpath_main := -Wl,--enable-new-dtags -Wl,-rpath,'$$ORIGIN/plugins'
$(filter-out %/librenamed_plug.so,$(ASAN_PLUGINS)): $(ASAN_DIR)/plugins/lib%.so: tests/clients/%.c | $(ASAN_DIR)/plugins
	$(CC) $(if $(filter $*,$(ASAN_PLAIN_PLUGINS)),-O2 -g,$(ASAN_CFLAGS)) $(WARN) -shared -fPIC $(abspath $<) -o $@ \
	  $(or $(ASAN_PLUGLIBS_$*),$(ASAN_PLUGLIBS))
# Linked against libcurl-gnutls by file name, as in the main Makefile.
ASAN_PLUGLIBS_flavour_plug := $$(find /usr/lib /lib -name libcurl-gnutls.so.4 | head -n1)
# The plugin bound to a copy of libcurl-gnutls under another name (the main
# Makefile's), the copy beside it.
$(ASAN_DIR)/plugins/librenamed_plug.so: tests/clients/flavour_plug.c $(B)/plugins/xibcurl-gnutls.so.4 | $(ASAN_DIR)/plugins
	cp $(B)/plugins/xibcurl-gnutls.so.4 $(ASAN_DIR)/plugins/
	$(CC) $(ASAN_CFLAGS) $(WARN) -shared -fPIC $(abspath $<) -o $@ $(ASAN_DIR)/plugins/xibcurl-gnutls.so.4 \
	  -Wl,--enable-new-dtags -Wl,-rpath,'$$ORIGIN'
# Another dlsym interposer: called by the sanitizer's runtime before it is set
# up, as our hooks are, so built plain as they are.
ASAN_PLAIN_PLUGINS := dlsym_tracer

# The library with every allocation it makes failable in turn (the main
# Makefile's allocation-failure build), sanitized: the error paths are where
# leaks and use-after-free hide.
$(ASAN_DIR)/allocfail/libampshim-core.so: $(ASAN_LIB_OBJ) tests/allocfail/allocfail.c | $(ASAN_DIR)/allocfail
	$(CC) $(ASAN_CFLAGS) $(WARN) -fPIC -shared -Wl,-z,defs -Wl,-z,now $(ALLOCFAIL_WRAP:%=-Wl,--wrap=%) \
	  $(ASAN_LIB_OBJ) $(abspath tests/allocfail/allocfail.c) -o $@

$(ASAN_DIR)/lib $(ASAN_DIR)/cli $(ASAN_DIR)/plugins $(ASAN_DIR)/allocfail $(ASAN_DIR)/testswitch:
	mkdir -p $@

# valgrind's memcheck over the C clients, through the normal library.
valgrind: deps
	@tests/deps.sh valgrind
	$(MAKE) --no-print-directory all $(B)/easy_client $(B)/multi_client $(B)/lifecycle_client \
	  $(B)/ending_client $(B)/threads_client $(B)/sticky_client $(B)/reset_client
	/usr/bin/python3 tests/asan/valgrind.py
