/* The first stage (stage1.h): the loader's functions as it exports them,
 * and the loading of the core. The core is loaded where libcurl is (at
 * start when libcurl is linked; before a dlopen of a libcurl or of an
 * RTLD_DEEPBIND object that needs one; at a look-up of a hooked function by
 * name; at the first call of one) and nowhere else but where the log asks
 * for info; from the folder this file was loaded from, not from anything
 * the environment says (the program may have cleared it). */
#define _GNU_SOURCE
#include "stage1.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "deepbind.h"
#include "elfsym.h"

#define HOOK __attribute__((visibility("default")))

typedef void *dlopen_fn(const char *, int);
typedef int dlclose_fn(void *);
typedef void *dlsym_fn(void *, const char *);
typedef void *dlvsym_fn(void *, const char *, const char *);

/* 0: not tried; 1: attached (core is filled in); -1: could not be. */
static atomic_int state;
static struct amp_core core;
static struct amp_stage1 handed;

static int attached(void)
{
    return atomic_load_explicit(&state, memory_order_acquire) > 0;
}

/* "libcurl.so.4", "libcurl-gnutls.so.4": the file name of a libcurl. */
static int is_libcurl(const char *path)
{
    const char *base = strrchr(path, '/');

    base = base ? base + 1 : path;
    return strncmp(base, "libcurl", 7) == 0 && (base[7] == '.' || base[7] == '-');
}

/* The core's path: beside this file, which the loader knows by the path
 * it was given (relative ones from the directory at start). */
static int core_path(char *buf, size_t len)
{
    Dl_info self;
    const char *dir = amp_stage1_start_dir();

    if (!dladdr((void *)amp_stage1_load_core, &self) || !self.dli_fname)
        return 0;
    const char *slash = strrchr(self.dli_fname, '/');
    const char *folder = slash ? self.dli_fname : ".";
    int n = slash ? (int)(slash - self.dli_fname) : 1;
    int w = folder[0] != '/' && dir ? snprintf(buf, len, "%s/%.*s/%s", dir, n, folder, AMP_CORE_FILE)
                                    : snprintf(buf, len, "%.*s/%s", n, folder, AMP_CORE_FILE);
    return w > 0 && (size_t)w < len;
}

/* Said only when the log is asked for (AMPSHIM_LOG): the program runs on,
 * as without ampshim. */
static void warn(const char *path, const char *why)
{
    const struct amp_env_captured *env = amp_stage1_env();
    char line[PATH_MAX + 256];
    const char *level = "";
    int configured = 0;

    /* As the core's log would: a warning at its default level (warn) where
     * the process is configured (AMPSHIM_CONFIG) or the log asked for, not
     * at AMPSHIM_LOG=error, and never in a process nobody configured. */
    for (int i = 0; i < env->nvars; i++) {
        if (strncmp(env->vars[i], "AMPSHIM_LOG=", 12) == 0)
            level = env->vars[i] + 12;
        configured |= strncmp(env->vars[i], "AMPSHIM_CONFIG=", 15) == 0;
    }
    if (*level ? strcmp(level, "error") == 0 : !configured)
        return;
    int n = snprintf(line, sizeof(line), "ampshim[%s %ld]: warning: cannot load %s (%s): curl calls are not "
                     "routed\n", env->program, (long)getpid(), path, why ? why : "not found");
    /* One write, as log.c's lines; nothing to do if stderr is gone. */
    if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
        return;
}

int amp_stage1_load_core(void)
{
    int st = atomic_load_explicit(&state, memory_order_acquire);
    char path[PATH_MAX] = "";
    void *h = NULL;
    amp_core_attach_fn *attach = NULL;

    if (st)
        return st > 0;
    /* Two threads may both get here: the loader hands both the same core,
     * which attaches both the same way. No lock of ours: a dlopen may be
     * calling curl from a constructor, under the loader's lock. */
    dlopen_fn *open = (dlopen_fn *)amp_stage1_real(AMP_DLOPEN);
    dlsym_fn *sym = (dlsym_fn *)amp_stage1_real(AMP_DLSYM);
    dlclose_fn *close = (dlclose_fn *)amp_stage1_real(AMP_DLCLOSE);
    if (open && sym && core_path(path, sizeof(path)))
        h = open(path, RTLD_LAZY | RTLD_LOCAL);
    if (h)
        attach = (amp_core_attach_fn *)sym(h, AMP_CORE_ATTACH);
    if (!attach) {
        warn(path, h ? "no " AMP_CORE_ATTACH : dlerror());
        if (h && close)
            close(h);
        atomic_store_explicit(&state, -1, memory_order_release);
        return 0;
    }
    handed.env = *amp_stage1_env();
    handed.base = &state; /* any address in this object */
    handed.dlopen = open;
    handed.dlclose = close;
    handed.dlsym = sym;
    handed.dlvsym = (dlvsym_fn *)amp_stage1_real(AMP_DLVSYM);
    handed.next = amp_stage1_next;
    handed.symbol_at = amp_elf_symbol_at;
    attach(&handed, &core);
    for (int i = 0; i < AMP_NHOOKED; i++)
        atomic_store_explicit((_Atomic(void *) *)amp_stage1_slots[i], core.hooks[i], memory_order_release);
    atomic_store_explicit(&state, 1, memory_order_release);
    return 1;
}

/* AMPSHIM_LOG, as the process started, asks for info or debug. */
static int info_logged(void)
{
    const struct amp_env_captured *env = amp_stage1_env();

    for (int i = 0; i < env->nvars; i++) {
        const char *v = env->vars[i], *n = "AMPSHIM_LOG=";
        while (*n && *v == *n)
            v++, n++;
        if (*n)
            continue;
        for (const char *const *w = (const char *const[]){ "info", "debug", NULL }; *w; w++) {
            const char *a = v, *b = *w;
            while (*b && (*a | 0x20) == *b)
                a++, b++;
            if (!*a && !*b)
                return 1;
        }
    }
    return 0;
}

/* Is a libcurl loaded? Read from the loader's own list (the debuggers'
 * interface, which elfsym.c reads too) with plain loops: no call to bind
 * in a process that has none. */
static int libcurl_loaded(void)
{
    for (const struct link_map *lm = _r_debug.r_map; lm; lm = lm->l_next) {
        const char *base = lm->l_name;
        for (const char *p = lm->l_name; *p; p++)
            if (*p == '/')
                base = p + 1;
        if (base[0] == 'l' && base[1] == 'i' && base[2] == 'b' && base[3] == 'c' && base[4] == 'u' &&
            base[5] == 'r' && base[6] == 'l' && (base[7] == '.' || base[7] == '-'))
            return 1;
    }
    return 0;
}

/* glibc calls a shared object's constructors with main's arguments and
 * environment. When the log asks for info, the core is loaded in any
 * process: one given a config that never calls libcurl says so at exit
 * (settings.c), which a core loaded then, while the loader runs the
 * destructors, could not do safely. */
__attribute__((constructor)) static void start(int argc, char **argv, char **envp)
{
    amp_stage1_capture(argc, argv, envp);
    if (libcurl_loaded() || info_logged())
        amp_stage1_load_core();
}

/* The exported loader functions. glibc reads the caller's RUNPATH and
 * $ORIGIN from dlopen's return address, and RTLD_NEXT's meaning from
 * dlsym's: every path ends in a tail call, so that address stays the
 * application's (the Makefile builds this file with sibling calls on). */
HOOK void *dlopen(const char *file, int flags)
{
    if (file && !attached() && is_libcurl(file))
        amp_stage1_load_core();
    /* RTLD_DEEPBIND (PHP loads its extensions so) would bind an object to
     * its own libcurl ahead of our hooks; one that needs libcurl is loaded
     * without it, so the preload comes first as it does elsewhere. */
    if ((flags & RTLD_DEEPBIND) && file && amp_deepbind_needs_libcurl(file) && amp_stage1_load_core())
        flags &= ~RTLD_DEEPBIND;
    if (attached())
        return core.dlopen(file, flags);
    dlopen_fn *f = (dlopen_fn *)amp_stage1_real(AMP_DLOPEN);
    return f ? f(file, flags) : NULL;
}

HOOK int dlclose(void *handle)
{
    if (attached())
        return core.dlclose(handle);
    dlclose_fn *f = (dlclose_fn *)amp_stage1_real(AMP_DLCLOSE);
    return f ? f(handle) : -1;
}

/* Whether name is a hooked function's: most names fail at their first
 * letters (Python's imports, plugins). */
static int hooked(const char *name)
{
    if (!name || name[0] != 'c' || strncmp(name, "curl_", 5) != 0)
        return 0;
    for (int i = 0; i < AMP_NHOOKED; i++)
        if (strcmp(name, amp_stage1_names[i]) == 0)
            return 1;
    return 0;
}

/* FFI bindings (ctypes, Ruby's ffi, LuaJIT) take libcurl's functions by
 * name: the core hands out its own for the hooked ones. */
HOOK void *dlsym(void *handle, const char *name)
{
    if (hooked(name) && amp_stage1_load_core())
        return core.dlsym(handle, name);
    dlsym_fn *f = (dlsym_fn *)amp_stage1_real(AMP_DLSYM);
    return f ? f(handle, name) : NULL;
}

HOOK void *dlvsym(void *handle, const char *name, const char *version)
{
    if (hooked(name) && amp_stage1_load_core())
        return core.dlvsym(handle, name, version);
    dlvsym_fn *f = (dlvsym_fn *)amp_stage1_real(AMP_DLVSYM);
    return f ? f(handle, name, version) : NULL;
}
