/* Finding the real libcurl. The flavour matters: a handle made by
 * libcurl-gnutls passed to libcurl (OpenSSL) crashes the host, and a
 * libcurl that pycurl loaded with RTLD_LOCAL is invisible to
 * dlsym(RTLD_NEXT). So each caller is asked which libcurl it binds to,
 * through its own dependency scope, and the answer is cached by the
 * caller's address range, lock-free on the hot path. */
#define _GNU_SOURCE
#include "real.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "locks.h"
#include "log.h"
#include "stage1.h"

#define MAX_CALLERS 64

struct flavour {
    struct amp_curl api;
    void *base; /* load address of the libcurl */
};

/* Entries are written once and published by bumping ncallers; an entry
 * counts only while its generation is current (a dlclose moves it on).
 * When the table is full it is emptied under a sequence count, and a
 * reader that saw the count move looks again. */
struct caller {
    uintptr_t lo, hi;
    unsigned gen;
    int internal; /* the caller is that libcurl itself */
    const struct amp_curl *api;
};

static struct flavour flavours[AMP_MAX_FLAVOURS];
static atomic_size_t nflavours;
static struct caller callers[MAX_CALLERS];
static atomic_size_t ncallers;
atomic_uint amp_real_generation;
atomic_uint amp_real_resets; /* odd while the table is being emptied */
/* amp_lock_callers (locks.h) is taken only to publish an entry. */

/* What the first stage handed over (stage1.h): the loader's functions
 * after it, and its place. NULL in a test program linking the core's
 * objects without a first stage: glibc's then. */
static _Atomic(const struct amp_stage1 *) stage1;

void amp_real_attach(const struct amp_stage1 *s1)
{
    atomic_store_explicit(&stage1, s1, memory_order_release);
}

static const struct amp_stage1 *s1(void)
{
    return atomic_load_explicit(&stage1, memory_order_acquire);
}

/* Tail calls (built with sibling calls on): glibc gives RTLD_NEXT its
 * meaning from the return address, which stays the caller's. */
void *amp_real_dlsym(void *handle, const char *name)
{
    const struct amp_stage1 *s = s1();

    return s ? s->dlsym(handle, name) : dlsym(handle, name);
}

void *amp_real_dlvsym(void *handle, const char *name, const char *version)
{
    const struct amp_stage1 *s = s1();

    return s ? s->dlvsym(handle, name, version) : dlvsym(handle, name, version);
}

void *amp_real_next(const char *name, const char *version)
{
    const struct amp_stage1 *s = s1();

    if (s)
        return s->next(name, version);
    return version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
}

void *amp_real_dlopen(const char *file, int flags)
{
    const struct amp_stage1 *s = s1();

    return s ? s->dlopen(file, flags) : dlopen(file, flags);
}

int amp_real_dlclose(void *handle)
{
    const struct amp_stage1 *s = s1();

    return s ? s->dlclose(handle) : dlclose(handle);
}

void amp_real_forget_callers(void)
{
    atomic_fetch_add_explicit(&amp_real_generation, 1, memory_order_release);
}

int amp_real_is_ours(const void *p)
{
    const struct amp_stage1 *s = s1();
    Dl_info self, that, first;

    if (!dladdr(p, &that))
        return 0;
    return (dladdr((void *)amp_real_curl, &self) && self.dli_fbase == that.dli_fbase) ||
           (s && dladdr(s->base, &first) && first.dli_fbase == that.dli_fbase);
}

static int bind_flavour(struct flavour *fl, void *lib, const char *name)
{
    struct amp_curl *a = &fl->api;
    int missing = 0;

#define BIND(ret, fn, params, required)                                                  \
    *(void **)&a->fn = amp_real_dlsym(lib, "curl_" #fn);                                 \
    missing |= (required) && !a->fn;
    AMP_CURL_API(BIND)
#undef BIND
    a->name = name;
#ifdef AMPSHIM_TEST_SWITCHES
    /* The tests' library only (build/testswitch): the header callback that
     * stands in for curl_easy_header() on libcurl before 7.84, exercised
     * on a libcurl that has it. */
    const char *no_header_api = secure_getenv("AMPSHIM_NO_HEADER_API");
    if (no_header_api && strcmp(no_header_api, "1") == 0)
        a->easy_header = NULL;
#endif
    return missing ? -1 : 0;
}

_Atomic(const struct amp_curl *) amp_real_single;
atomic_uint amp_real_loads;

/* dlopens counted whose thread has made no hooked call since: one may be
 * counted but not yet inside the loader, its libcurl not yet mapped (the
 * hook tail-calls dlopen, and sees nothing after). A thread's next hooked
 * call (amp_real_single_check) comes after its dlopens mapped everything
 * (it runs code again: a constructor, or after dlopen returned), and takes
 * its own off. Until none is left, the shortcut stays off. */
static atomic_uint loads_pending; /* changed under amp_lock_callers */
static __thread __attribute__((tls_model("initial-exec"))) unsigned loads_mine;

void amp_real_loaded(void)
{
    if (!loads_mine)
        return;
    pthread_mutex_lock(&amp_lock_callers);
    atomic_fetch_sub(&loads_pending, loads_mine);
    loads_mine = 0;
    pthread_mutex_unlock(&amp_lock_callers);
}

void amp_real_loading(void)
{
    /* Counted and emptied under the lock amp_real_single_check sets it
     * under: its setting comes wholly before (and is emptied here) or
     * wholly after (and sees the count changed). This thread's earlier
     * dlopens have returned: only this one is under way. */
    pthread_mutex_lock(&amp_lock_callers);
    atomic_fetch_add(&amp_real_loads, 1);
    atomic_fetch_add(&loads_pending, 1 - loads_mine);
    loads_mine = 1;
    atomic_store(&amp_real_single, NULL);
    pthread_mutex_unlock(&amp_lock_callers);
}

void amp_real_fork_child(void)
{
    /* Only the forking thread is left, out of any dlopen of its own. */
    atomic_store(&loads_pending, 0);
    loads_mine = 0;
}
struct amp_real_inside amp_real_inside;

struct find_range {
    uintptr_t addr, lo, hi;
};

static int segment_of(struct dl_phdr_info *info, size_t size, void *data)
{
    struct find_range *r = data;

    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && r->addr >= lo && r->addr < lo + ph->p_memsz) {
            r->lo = lo;
            r->hi = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

static const struct flavour *known_flavour(const void *base)
{
    size_t n = atomic_load_explicit(&nflavours, memory_order_acquire);

    for (size_t i = 0; i < n; i++)
        if (flavours[i].base == base)
            return &flavours[i];
    return NULL;
}

/* The flavour of the libcurl that defines the function at p; made on
 * first sight. */
static const struct flavour *flavour_of(const void *p)
{
    Dl_info info;
    struct flavour fl;
    const struct flavour *known;

    if (!dladdr(p, &info) || !info.dli_fbase)
        return NULL;
    known = known_flavour(info.dli_fbase);
    if (known)
        return known;
    /* Kept open on purpose: the pointers must outlive any dlclose by the
     * application while its handles live. */
    void *lib = amp_real_dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    memset(&fl, 0, sizeof(fl));
    if (!lib || bind_flavour(&fl, lib, info.dli_fname) < 0) {
        amp_error("%s lacks functions ampshim needs (libcurl 7.84 or later is required)",
                  info.dli_fname);
        return NULL;
    }
    fl.base = info.dli_fbase;
    /* Its code segment, for amp_real_inside should it be the first. */
    struct find_range r = { (uintptr_t)fl.api.easy_perform, 0, 0 };
    if (!dl_iterate_phdr(segment_of, &r))
        r.lo = r.hi = 0;
    pthread_mutex_lock(&amp_lock_callers);
    size_t n = atomic_load_explicit(&nflavours, memory_order_relaxed);
    known = known_flavour(info.dli_fbase);
    if (!known && n < AMP_MAX_FLAVOURS) {
        flavours[n] = fl;
        /* Under amp_lock_callers, as amp_real_single_check's setting. */
        atomic_store(&nflavours, n + 1);
        /* A second libcurl: the one-libcurl shortcut is over (real.h),
         * whatever a look at the loaded objects said meanwhile. */
        if (n > 0)
            atomic_store(&amp_real_single, NULL);
        known = &flavours[n];
        if (n == 0) {
            __atomic_store_n(&amp_real_inside.lo, r.lo, __ATOMIC_RELAXED);
            __atomic_store_n(&amp_real_inside.api, &known->api, __ATOMIC_RELAXED);
            __atomic_store_n(&amp_real_inside.len, r.hi - r.lo, __ATOMIC_RELEASE);
        }
        amp_debug("using %s", info.dli_fname);
    }
    pthread_mutex_unlock(&amp_lock_callers);
    return known;
}

/* A walk of the loaded objects for libcurls: an object is one when it
 * defines curl_easy_perform (whatever its file is called: a program may
 * bundle a copy under another name), read from its own symbol table by
 * the first stage's symbol_at, as no call to the loader may be made from
 * dl_iterate_phdr's callback (it holds the loader's lock). Our own objects
 * are left out: the first stage defines libcurl's names. Without a first
 * stage (a test program linking the core's objects), none is found. */
struct libcurls {
    void *(*symbol_at)(const struct dl_phdr_info *info, const char *name);
    uintptr_t ours[2]; /* the load biases (l_addr, dlpi_addr) of the core and the first stage */
    unsigned n;
    void *first;       /* the first one's curl_easy_perform */
    int all;           /* count them all (else stop at the first) */
};

/* The load bias of the object holding p (0: not found). */
static uintptr_t bias_of(const void *p)
{
    Dl_info info;
    struct link_map *lm = NULL;

    return p && dladdr1(p, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm ? (uintptr_t)lm->l_addr : 0;
}

static void libcurls_start(struct libcurls *l, int all)
{
    const struct amp_stage1 *s = s1();

    memset(l, 0, sizeof(*l));
    l->all = all;
    l->symbol_at = s ? s->symbol_at : NULL;
    l->ours[0] = bias_of((const void *)amp_real_curl_slow);
    l->ours[1] = bias_of(s ? s->base : NULL);
}

static int libcurl_seen(struct dl_phdr_info *info, size_t size, void *data)
{
    struct libcurls *l = data;

    (void)size;
    if (!l->symbol_at ||
        (info->dlpi_addr && (info->dlpi_addr == l->ours[0] || info->dlpi_addr == l->ours[1])))
        return 0;
    void *perform = l->symbol_at(info, "curl_easy_perform");
    if (!perform)
        return 0;
    if (!l->n++)
        l->first = perform;
    return !l->all;
}

/* Which curl_easy_perform does the object at lm bind to? Its own scope
 * first (pycurl's RTLD_LOCAL libcurl), then what follows us in the
 * global scope, then any libcurl that is loaded at all. */
static void *perform_seen_by(const struct link_map *lm)
{
    void *p = NULL;

    if (lm) {
        void *h = amp_real_dlopen(lm->l_name[0] ? lm->l_name : NULL, RTLD_LAZY | RTLD_NOLOAD);
        if (h) {
            p = amp_real_dlsym(h, "curl_easy_perform");
            amp_real_dlclose(h);
        }
    }
    if (!p || amp_real_is_ours(p))
        p = amp_real_next("curl_easy_perform", NULL);
    if (!p || amp_real_is_ours(p)) {
        struct libcurls l;
        libcurls_start(&l, 0);
        dl_iterate_phdr(libcurl_seen, &l);
        p = l.first;
    }
    return p;
}

static const struct amp_curl *resolve_slow(const void *caller, int *internal)
{
    Dl_info info;
    struct link_map *lm = NULL;

    if (!dladdr1(caller, &info, (void **)&lm, RTLD_DL_LINKMAP))
        lm = NULL;
    void *perform = perform_seen_by(lm);
    const struct flavour *fl = perform ? flavour_of(perform) : NULL;
    if (!fl)
        return NULL;
    *internal = lm && (void *)lm->l_addr == fl->base;
    struct find_range r = { (uintptr_t)caller, 0, 0 };
    if (lm && dl_iterate_phdr(segment_of, &r)) {
        pthread_mutex_lock(&amp_lock_callers);
        size_t n = atomic_load_explicit(&ncallers, memory_order_relaxed);
        if (n == MAX_CALLERS) {
            atomic_fetch_add_explicit(&amp_real_resets, 1, memory_order_acq_rel);
            atomic_store_explicit(&ncallers, 0, memory_order_release);
            atomic_fetch_add_explicit(&amp_real_resets, 1, memory_order_acq_rel);
            n = 0;
        }
        struct caller *e = &callers[n];
        __atomic_store_n(&e->lo, r.lo, __ATOMIC_RELAXED);
        __atomic_store_n(&e->hi, r.hi, __ATOMIC_RELAXED);
        __atomic_store_n(&e->gen, atomic_load_explicit(&amp_real_generation, memory_order_acquire),
                         __ATOMIC_RELAXED);
        __atomic_store_n(&e->internal, *internal, __ATOMIC_RELAXED);
        __atomic_store_n(&e->api, &fl->api, __ATOMIC_RELAXED);
        atomic_store_explicit(&ncallers, n + 1, memory_order_release);
        pthread_mutex_unlock(&amp_lock_callers);
    }
    return &fl->api;
}

/* What this thread learnt last of a caller's range: a program calls curl
 * from one place, mostly, and libcurl calls itself from another. Valid
 * while neither a dlclose (generation) nor an emptying of the table
 * (resets) came between. initial-exec: no __tls_get_addr (the library is
 * loaded with the program). */
__thread __attribute__((tls_model("initial-exec"))) struct amp_caller_seen amp_real_last[2];

/* The cached answer for caller, or NULL; *seen says from which entry. */
static const struct amp_curl *cached(uintptr_t a, int *internal, struct amp_caller_seen *seen)
{
    for (;;) {
        unsigned seq = atomic_load_explicit(&amp_real_resets, memory_order_acquire);
        size_t n = atomic_load_explicit(&ncallers, memory_order_acquire);
        unsigned gen = atomic_load_explicit(&amp_real_generation, memory_order_acquire);
        const struct amp_curl *api = NULL;
        int in = 0;
        uintptr_t lo = 0, hi = 0;

        if (seq & 1)
            continue;
        for (size_t i = 0; i < n && !api; i++) {
            /* Acquire loads: the second look at resets stays after them. */
            lo = __atomic_load_n(&callers[i].lo, __ATOMIC_ACQUIRE);
            hi = __atomic_load_n(&callers[i].hi, __ATOMIC_ACQUIRE);
            if (a >= lo && a < hi && __atomic_load_n(&callers[i].gen, __ATOMIC_ACQUIRE) == gen) {
                in = __atomic_load_n(&callers[i].internal, __ATOMIC_ACQUIRE);
                api = __atomic_load_n(&callers[i].api, __ATOMIC_ACQUIRE);
            }
        }
        if (atomic_load_explicit(&amp_real_resets, memory_order_acquire) == seq) {
            *internal = in;
            *seen = (struct amp_caller_seen){ lo, hi, gen, seq, in, api };
            return api;
        }
    }
}

const struct amp_curl *amp_real_curl_slow(const void *caller, int *internal)
{
    struct amp_caller_seen seen;
    const struct amp_curl *api = cached((uintptr_t)caller, internal, &seen);

    if (api) {
        amp_real_last[1] = amp_real_last[0];
        amp_real_last[0] = seen;
        return api;
    }
    *internal = 0;
    return resolve_slow(caller, internal);
}

/* The value of amp_real_loads last checked, plus one (0: never). */
static atomic_uint single_checked;

/* Whether the process has one libcurl, the one flavour made: looked at
 * once after each dlopen (a walk of the loaded objects), by a call that
 * found amp_real_only empty. */
const struct amp_curl *amp_real_single_check(void)
{
    amp_real_loaded();
    unsigned loads = atomic_load_explicit(&amp_real_loads, memory_order_acquire);

    /* Not before the first flavour is made (the caller's FLAVOUR makes it),
     * nor without its code segment: the hooks then tell libcurl's calls to
     * itself from the application's by amp_real_from_inside alone. */
    if (atomic_load_explicit(&single_checked, memory_order_acquire) == loads + 1 ||
        atomic_load_explicit(&nflavours, memory_order_acquire) != 1 ||
        !__atomic_load_n(&amp_real_inside.len, __ATOMIC_ACQUIRE))
        return NULL;
    /* A dlopen under way in another thread: look again later. */
    if (atomic_load(&loads_pending))
        return NULL;
    struct libcurls l;
    libcurls_start(&l, 1);
    dl_iterate_phdr(libcurl_seen, &l);
    atomic_store_explicit(&single_checked, loads + 1, memory_order_release);
    if (l.n != 1 || l.first != (void *)flavours[0].api.easy_perform)
        return NULL;
    /* Set only if no dlopen was counted, nor second flavour made, since
     * loads was read: both empty it under this lock (amp_real_loading). */
    pthread_mutex_lock(&amp_lock_callers);
    if (atomic_load(&amp_real_loads) == loads && !atomic_load(&loads_pending) && atomic_load(&nflavours) == 1)
        atomic_store(&amp_real_single, &flavours[0].api);
    pthread_mutex_unlock(&amp_lock_callers);
    return amp_real_only();
}

const struct amp_curl *amp_real_flavour_at(const void *p, int *index)
{
    const struct flavour *fl = flavour_of(p);

    if (!fl)
        return NULL;
    *index = (int)(fl - flavours);
    return &fl->api;
}

const struct amp_curl *amp_real_flavour(int index)
{
    size_t n = atomic_load_explicit(&nflavours, memory_order_acquire);

    return index >= 0 && (size_t)index < n ? &flavours[index].api : NULL;
}
