/* Finding symbols in loaded objects from their dynamic sections:
 * amp_elf_symbol must agree with glibc's own dlsym on libc, ld.so and
 * libcurl, and follow its rules (versions, undefined references, IFUNCs)
 * on small objects built here with each hash table style. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "elfsym.h"

#include "scratch.h"

/* ---- helpers ---------------------------------------------------------- */

/* The object already loaded under soname (RTLD_NOLOAD: never loads one). */
static void *loaded(const char *soname)
{
    void *h = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);

    if (!h)
        fail_msg("%s is not loaded: %s", soname, dlerror());
    return h;
}

/* For each name, amp_elf_symbol(inside, name) is what dlsym(handle, name)
 * gives (the handle's own scope, so a sanitizer's malloc does not count). */
static void expect_as_dlsym(void *handle, const void *inside, const char *const *names)
{
    for (; *names; names++) {
        void *want = dlsym(handle, *names), *got = amp_elf_symbol(inside, *names);
        if (!want)
            fail_msg("dlsym found no %s", *names);
        if (got != want)
            fail_msg("%s: %p, dlsym says %p", *names, got, want);
    }
}

static void expect_null(const void *inside, const char *const *names)
{
    for (; *names; names++)
        if (amp_elf_symbol(inside, *names))
            fail_msg("%s: %p, expected NULL", *names, amp_elf_symbol(inside, *names));
}

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- libc, ld.so, libcurl ---------------------------------------------- */

/* An address in libc: its printf. Not (void *)printf, which a sanitizer
 * build binds to the sanitizer's own printf, in its own library. */
static void *libc_handle;
static const void *libc_at;

static void libc_symbols_as_dlsym(void **state)
{
    (void)state;
    expect_as_dlsym(libc_handle, libc_at,
                    NAMES("dlsym", "dlvsym", "dladdr", "dlopen", "dlclose", "malloc", "free",
                          "pthread_create", "getenv", "open", "read", "printf", "fork",
                          "environ", "stdout", "program_invocation_name"));
}

/* The case all this is for: the real dlsym and dlvsym, the default
 * (GLIBC_2.34) versions, as the test's own calls reach them. */
static void libc_dlsym_is_the_real_one(void **state)
{
    void *sym = amp_elf_symbol(libc_at, "dlsym");
    void *vsym = amp_elf_symbol(libc_at, "dlvsym");

    (void)state;
    assert_non_null(sym);
    assert_ptr_equal(sym, (void *)dlsym);
    assert_ptr_equal(sym, dlsym(RTLD_DEFAULT, "dlsym"));
    assert_ptr_equal(sym, dlvsym(RTLD_DEFAULT, "dlsym", "GLIBC_2.34"));
    assert_ptr_equal(vsym, (void *)dlvsym);
    assert_ptr_equal(vsym, dlvsym(RTLD_DEFAULT, "dlvsym", "GLIBC_2.34"));
    /* and they work */
    void *(*real_dlsym)(void *, const char *) = (void *(*)(void *, const char *))sym;
    assert_ptr_equal(real_dlsym(RTLD_DEFAULT, "getenv"), dlsym(RTLD_DEFAULT, "getenv"));
}

/* Any address in the object will do: one inside a function, one in its data. */
static void libc_found_from_any_address(void **state)
{
    void *want = dlsym(RTLD_DEFAULT, "dlsym");
    void *stdout_obj = amp_elf_symbol(libc_at, "stdout");

    (void)state;
    assert_ptr_equal(amp_elf_symbol((const char *)libc_at + 3, "dlsym"), want);
    assert_non_null(stdout_obj);
    assert_ptr_equal(amp_elf_symbol(stdout_obj, "dlsym"), want);
}

/* strlen and memcpy are IFUNCs in libc (x86_64): their value is a resolver,
 * and we call no resolver, so NULL (where dlsym gives the chosen
 * implementation). memcpy also has an old memcpy@GLIBC_2.2.5, a plain
 * function but a hidden version, met first in its hash chain: the default
 * memcpy@@GLIBC_2.14 still wins, so NULL, not the old one. */
static void libc_ifunc_is_null(void **state)
{
    (void)state;
    assert_non_null(dlsym(libc_handle, "strlen"));
    expect_null(libc_at, NAMES("strlen", "memcpy", "strchr", "gettimeofday"));
}

static void libc_unknown_names_null(void **state)
{
    (void)state;
    expect_null(libc_at, NAMES("", "no_such_symbol", "dlsy", "dlsymm", "DLSYM", "GLIBC_2.34",
                               "curl_easy_init", "amp_elf_symbol"));
}

/* ld.so: its dynamic section is relocated in place by its own bootstrap.
 * dlsym on a handle for ld.so finds none of its symbols (it has no search
 * list of its own), so RTLD_DEFAULT, with names only ld.so defines and no
 * sanitizer intercepts. */
static void ldso_symbols_as_dlsym(void **state)
{
    const void *ldso = (const void *)getauxval(AT_BASE);

    (void)state;
    assert_non_null(ldso);
    expect_as_dlsym(RTLD_DEFAULT, ldso,
                    NAMES("__libc_stack_end", "__rseq_offset", "__rseq_size", "_dl_mcount"));
    /* (Not _r_debug: elfsym.c reads it, so this program holds a copy of its
     * own, which RTLD_DEFAULT finds first.) */
    /* _dl_find_object is libc's, and ld.so only refers to it: NULL */
    expect_null(ldso, NAMES("printf", "_dl_find_object", "no_such_symbol"));
}

static void libcurl_symbols_as_dlsym(void **state)
{
    void *curl = loaded("libcurl.so.4");

    (void)state;
    expect_as_dlsym(curl, (void *)curl_easy_init,
                    NAMES("curl_easy_init", "curl_easy_perform", "curl_easy_setopt",
                          "curl_easy_cleanup", "curl_multi_add_handle", "curl_multi_perform",
                          "curl_slist_append", "curl_version_info"));
    /* what libcurl only references: defined elsewhere, so not by it */
    expect_null((void *)curl_easy_init, NAMES("malloc", "free", "printf", "dlsym"));
    expect_null((void *)curl_easy_init, NAMES("curl_no_such_function", "curl_easy"));
    dlclose(curl);
}

static void no_object_null(void **state)
{
    int on_stack = 0;
    void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    (void)state;
    assert_true(anon != MAP_FAILED);
    assert_null(amp_elf_symbol(anon, "dlsym"));
    assert_null(amp_elf_symbol(&on_stack, "dlsym"));
    assert_null(amp_elf_symbol(NULL, "dlsym"));
    assert_null(amp_elf_symbol((void *)1, "dlsym"));
    assert_null(amp_elf_symbol((void *)UINTPTR_MAX, "dlsym"));
    assert_null(amp_elf_symbol(libc_at, NULL));
    munmap(anon, 4096);
}

/* The vDSO's dynamic section is read-only: glibc leaves its entries
 * unrelocated, which is the other half of what must be handled. */
static void vdso_unrelocated(void **state)
{
    const void *vdso = (const void *)getauxval(AT_SYSINFO_EHDR);
    int (*vgettime)(clockid_t, struct timespec *);
    struct timespec a, b;

    (void)state;
    if (!vdso)
        skip();
    *(void **)&vgettime = amp_elf_symbol(vdso, "__vdso_clock_gettime");
    assert_non_null(vgettime);
    assert_true((const char *)vgettime > (const char *)vdso);
    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &a), 0);
    assert_int_equal(vgettime(CLOCK_MONOTONIC, &b), 0);
    assert_true(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
    assert_null(amp_elf_symbol(vdso, "__vdso_no_such"));
}

/* ---- objects built here: versions, IFUNC, TLS, both hash styles ------- */

static const char plug_c[] =
    "#include <stdio.h>\n"
    "int plain(void) { return 1; }\n"
    "int data_obj = 42;\n"
    "int calls(void) { return puts(\"x\"); }\n" /* puts: an undefined reference */
    "int v1(void) { return 1; }\n"
    "int v2(void) { return 2; }\n"
    "__asm__(\".symver v1, versioned@VER_1\");\n"
    "__asm__(\".symver v2, versioned@@VER_2\");\n"
    "int old_impl(void) { return 3; }\n"
    "__asm__(\".symver old_impl, old_only@VER_1\");\n" /* a hidden version only */
    "static int impl(void) { return 4; }\n"
    "static int (*resolve(void))(void) { return impl; }\n"
    "int ifunc_sym(void) __attribute__((ifunc(\"resolve\")));\n"
    "__thread int tls_var = 5;\n"
    "__attribute__((visibility(\"hidden\"))) int hidden_fn(void) { return 6; }\n"
    "int uses_hidden(void) { return hidden_fn(); }\n";
static const char plug_map[] =
    "VER_1 { global: plain; data_obj; calls; ifunc_sym; tls_var; uses_hidden; versioned;\n"
    "        old_only; local: *; };\n"
    "VER_2 { global: versioned; } VER_1;\n";

static int setup(void **state)
{
    (void)state;
    if (!(libc_handle = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD)) ||
        !(libc_at = dlsym(libc_handle, "printf")))
        return -1;
    return scratch_make("elfsym");
}

static int teardown(void **state)
{
    (void)state;
    dlclose(libc_handle);
    rm_tree(scratch);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        fail_msg("cannot write %s", path);
}

/* scratch/libplug-STYLE.so built with --hash-style=STYLE and dlopen'ed;
 * NULL (the test skipped) when there is no C compiler. */
static void *build_plug(const char *style)
{
    char src[256], map[256], so[256], cmd[1024];
    const char *cc = getenv("CC") ? getenv("CC") : "cc";
    void *h;

    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", cc);
    if (system(cmd) != 0)
        return NULL;
    snprintf(src, sizeof(src), "%s/plug.c", scratch);
    snprintf(map, sizeof(map), "%s/plug.map", scratch);
    snprintf(so, sizeof(so), "%s/libplug-%s.so", scratch, style);
    write_file(src, plug_c);
    write_file(map, plug_map);
    snprintf(cmd, sizeof(cmd),
             "%s -shared -fPIC -O0 -o %s %s -Wl,--version-script=%s -Wl,--hash-style=%s", cc,
             so, src, map, style);
    if (system(cmd) != 0)
        fail_msg("cannot build %s", so);
    if (!(h = dlopen(so, RTLD_NOW | RTLD_LOCAL)))
        fail_msg("dlopen %s: %s", so, dlerror());
    return h;
}

/* Which hash table the object has: asserts the build gave the one wanted. */
static int has_dyn(const void *inside, ElfW(Sxword) tag)
{
    Dl_info info;
    struct link_map *map = NULL;

    assert_true(dladdr1(inside, &info, (void **)&map, RTLD_DL_LINKMAP) != 0 && map);
    for (const ElfW(Dyn) *d = map->l_ld; d->d_tag != DT_NULL; d++)
        if (d->d_tag == tag)
            return 1;
    return 0;
}

static void plug_rules(const char *style, int gnu)
{
    void *h = build_plug(style);
    int (*fn)(void);

    if (!h)
        skip();
    void *inside = dlsym(h, "plain");
    assert_non_null(inside);
    assert_int_equal(has_dyn(inside, DT_GNU_HASH), gnu);
    assert_int_equal(has_dyn(inside, DT_HASH), !gnu);
    expect_as_dlsym(h, inside, NAMES("plain", "data_obj", "calls", "uses_hidden", "versioned"));
    assert_int_equal(*(int *)amp_elf_symbol(inside, "data_obj"), 42);
    /* the default version, versioned@@VER_2, over the hidden versioned@VER_1 */
    *(void **)&fn = amp_elf_symbol(inside, "versioned");
    assert_int_equal(fn(), 2);
    assert_ptr_not_equal((void *)fn, dlvsym(h, "versioned", "VER_1"));
    /* only a hidden version: that one (dlsym itself would give NULL) */
    assert_non_null(dlvsym(h, "old_only", "VER_1"));
    assert_ptr_equal(amp_elf_symbol(inside, "old_only"), dlvsym(h, "old_only", "VER_1"));
    /* an IFUNC, a TLS variable, an undefined reference, a hidden symbol, none */
    assert_non_null(dlsym(h, "ifunc_sym"));
    expect_null(inside, NAMES("ifunc_sym", "tls_var", "puts", "hidden_fn", "v1", "impl",
                              "VER_1", "nothing"));
    dlclose(h);
}

static void plug_gnu_hash(void **state)
{
    (void)state;
    plug_rules("gnu", 1);
}

/* No DT_GNU_HASH: the DT_HASH fallback, whose chains also hold undefined
 * references (puts), which must not be taken for definitions. */
static void plug_sysv_hash(void **state)
{
    (void)state;
    plug_rules("sysv", 0);
}

/* ---- threads: no lock of ours, nothing shared ------------------------- */

static void *lookup_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++)
        if (amp_elf_symbol(libc_at, "dlsym") != (void *)dlsym)
            return (void *)1;
    return NULL;
}

static void concurrent_lookups(void **state)
{
    pthread_t t[4];
    void *bad;

    (void)state;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, lookup_many, NULL), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], &bad), 0);
        assert_null(bad);
    }
}

/* By file name, from the loader's own list (what ampshim does to reach
 * glibc's dlsym without asking dladdr, which a preload may define). */
static void by_soname(void **state)
{
    (void)state;
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void *curl = dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD);

    assert_non_null(libc);
    assert_non_null(curl);
    assert_ptr_equal(amp_elf_symbol_in("libc.so.", "dlsym"), dlsym(libc, "dlsym"));
    assert_ptr_equal(amp_elf_symbol_in("libc.so.", "dlvsym"), dlsym(libc, "dlvsym"));
    assert_ptr_equal(amp_elf_symbol_in("libcurl.so.", "curl_easy_perform"),
                     dlsym(curl, "curl_easy_perform"));
    assert_null(amp_elf_symbol_in("libc.so.", "no_such_symbol"));
    assert_null(amp_elf_symbol_in("libnothing-here.so.", "dlsym"));
    dlclose(libc);
    dlclose(curl);
}

/* From dl_iterate_phdr's description of each object, as real.c counts the
 * libcurls: for every object, what dlsym on it gives for a name it defines
 * (libcurl's and libc's), and only the objects that define
 * curl_easy_perform: libcurl, whatever its name (not this program, which
 * only calls it). */
struct walk {
    void *perform, *dlvsym_fn;
    unsigned with_perform, objects;
};

static int each_object(struct dl_phdr_info *info, size_t size, void *data)
{
    struct walk *w = data;
    void *p = amp_elf_symbol_at(info, "curl_easy_perform");

    (void)size;
    w->objects++;
    if (p) {
        w->with_perform++;
        w->perform = p;
    }
    if (!w->dlvsym_fn)
        w->dlvsym_fn = amp_elf_symbol_at(info, "dlvsym");
    return 0;
}

static void from_phdr_info(void **state)
{
    void *curl = loaded("libcurl.so.4"), *libc = loaded("libc.so.6");
    struct walk w = { 0 };

    (void)state;
    dl_iterate_phdr(each_object, &w);
    assert_true(w.objects >= 4); /* this program, the vDSO, libcurl, libc, ld.so... */
    assert_int_equal(w.with_perform, 1);
    assert_ptr_equal(w.perform, dlsym(curl, "curl_easy_perform"));
    assert_ptr_equal(w.dlvsym_fn, dlsym(libc, "dlvsym"));
    assert_null(amp_elf_symbol_at(NULL, "curl_easy_perform"));
    dlclose(curl);
    dlclose(libc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(libc_symbols_as_dlsym),
        cmocka_unit_test(libc_dlsym_is_the_real_one),
        cmocka_unit_test(libc_found_from_any_address),
        cmocka_unit_test(libc_ifunc_is_null),
        cmocka_unit_test(libc_unknown_names_null),
        cmocka_unit_test(ldso_symbols_as_dlsym),
        cmocka_unit_test(libcurl_symbols_as_dlsym),
        cmocka_unit_test(no_object_null),
        cmocka_unit_test(vdso_unrelocated),
        cmocka_unit_test(plug_gnu_hash),
        cmocka_unit_test(plug_sysv_hash),
        cmocka_unit_test(concurrent_lookups),
        cmocka_unit_test(by_soname),
        cmocka_unit_test(from_phdr_info),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
