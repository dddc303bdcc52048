/* The loader's own functions, for the first stage and, through it, the
 * core. The first stage exports dlopen, dlsym, dlvsym and dlclose, so a
 * call to them by name comes back to it; the ones after it are asked from
 * glibc's dlsym with RTLD_NEXT, and glibc's dlsym itself is read from
 * libc's symbol table (elfsym.c: glibc 2.34 exports no other way in).
 * Bound without any lock: binding twice is harmless, and dlsym may be
 * called from anywhere, even before any constructor has run (a sanitizer's
 * runtime binds its interceptors so). */
#define _GNU_SOURCE
#include "stage1.h"

#include <dlfcn.h>
#include <stdatomic.h>

#include "elfsym.h"

typedef void *dlsym_fn(void *, const char *);
typedef void *dlvsym_fn(void *, const char *, const char *);

/* glibc's own dlsym (libdl's before 2.34). */
static dlsym_fn *glibc_dlsym(void)
{
    static _Atomic(void *) fn;
    void *f = atomic_load_explicit(&fn, memory_order_acquire);

    if (!f) {
        f = amp_elf_symbol_in("libdl.so.", "dlsym");
        if (!f)
            f = amp_elf_symbol_in("libc.so.", "dlsym");
        atomic_store_explicit(&fn, f, memory_order_release);
    }
    return (dlsym_fn *)f;
}

/* The loader's function called name after this object: glibc's, or
 * another preload's that stands in front of it too (MangoHud, apitrace,
 * VirtualGL chain theirs so). Not a tail call: RTLD_NEXT takes its meaning
 * from the caller, here the first stage. */
static void *after_us(const char *name)
{
    dlsym_fn *sym = glibc_dlsym();
    void *f = sym ? sym(RTLD_NEXT, name) : NULL;

    return f ? f : amp_elf_symbol_in("libc.so.", name);
}

void *amp_stage1_real(enum amp_stage1_fn which)
{
    static const char *const names[] = { "dlopen", "dlclose", "dlsym", "dlvsym" };
    static _Atomic(void *) fns[4];
    void *f = atomic_load_explicit(&fns[which], memory_order_acquire);

    if (!f) {
        f = after_us(names[which]);
        atomic_store_explicit(&fns[which], f, memory_order_release);
    }
    return f;
}

void *amp_stage1_next(const char *name, const char *version)
{
    void *r;

    if (version) {
        dlvsym_fn *f = (dlvsym_fn *)amp_stage1_real(AMP_DLVSYM);
        r = f ? f(RTLD_NEXT, name, version) : NULL;
    } else {
        dlsym_fn *f = (dlsym_fn *)amp_stage1_real(AMP_DLSYM);
        r = f ? f(RTLD_NEXT, name) : NULL;
    }
    /* Not a tail call (RTLD_NEXT is the first stage's): kept so. */
    __asm__ volatile("" ::: "memory");
    return r;
}
