/* The two stages of the preload and what they hand each other.
 *
 * libampshim.so, the file LD_PRELOAD names, is the first stage: small, so
 * that the many programs that never call curl pay little for it (make bench,
 * target e). It exports the hooked libcurl functions (hooked.h) and dlopen,
 * dlsym, dlvsym and dlclose, so that the program's references bind to it
 * from the start, and it copies the environment at start (env.h). The core,
 * libampshim-core.so beside it, is everything else; the first stage loads it
 * only where libcurl is: at start when libcurl is linked, before a dlopen of
 * a libcurl or of an RTLD_DEEPBIND object needing one, at a look-up of a
 * hooked function by name, or at the first call of a hooked function (and at
 * start in any process when AMPSHIM_LOG asks for info: stage1.c). Until then,
 * and for good when the core cannot be loaded, every call goes where it
 * would go without ampshim. */
#ifndef AMPSHIM_STAGE1_H
#define AMPSHIM_STAGE1_H

#include <link.h>

#include "env.h"
#include "hooked.h"

#define AMP_CORE_FILE "libampshim-core.so"
/* The core's one export. Its name carries the version of the structures
 * below: a first stage and a core that do not match (an upgrade half done)
 * do not attach, and the program runs as without ampshim. */
#define AMP_CORE_ATTACH "amp_core_attach_2"

#define AMP_COUNT_ONE(...) +1
#define AMP_NHOOKED (0 AMP_HOOKED(AMP_COUNT_ONE, AMP_COUNT_ONE, AMP_COUNT_ONE, AMP_COUNT_ONE))

/* What the first stage hands the core. The loader's functions are the ones
 * after the first stage (glibc's, or another preload's standing in front of
 * glibc's); called from the core, dlsym(RTLD_NEXT) would mean "after the
 * core", so next() asks it from the first stage. */
struct amp_stage1 {
    struct amp_env_captured env;
    const void *base; /* the first stage's load address */
    void *(*dlopen)(const char *file, int flags);
    int (*dlclose)(void *handle);
    void *(*dlsym)(void *handle, const char *name);
    void *(*dlvsym)(void *handle, const char *name, const char *version);
    /* dlsym(RTLD_NEXT, name), or dlvsym when version is not NULL, as seen
     * from the first stage. */
    void *(*next)(const char *name, const char *version);
    /* The symbol called name that the object dl_iterate_phdr describes
     * with info defines, read from its symbol table (elfsym.h), without a
     * call to the loader: the core's walks of the loaded objects. */
    void *(*symbol_at)(const struct dl_phdr_info *info, const char *name);
};

/* What the core hands back: its entries, which the first stage's exported
 * functions reach by tail jumps (so the caller's return address, which the
 * core reads, stays the application's). hooks[] in the order of AMP_HOOKED. */
struct amp_core {
    void *hooks[AMP_NHOOKED];
    void *(*dlopen)(const char *file, int flags);
    int (*dlclose)(void *handle);
    void *(*dlsym)(void *handle, const char *name);
    void *(*dlvsym)(void *handle, const char *name, const char *version);
};

/* The core's one exported function (AMP_CORE_ATTACH), looked up by the
 * first stage after it loaded the core. May be called more than once (two threads loading at
 * once): the same answer each time. */
typedef void amp_core_attach_fn(const struct amp_stage1 *s1, struct amp_core *out);

/* Within the first stage. */

/* The constructor's copy of the environment and program name
 * (stage1_env.c), with main's arguments; then what it copied, and the
 * working directory at start when LD_PRELOAD named a relative path (else
 * NULL). */
void amp_stage1_capture(int argc, char **argv, char **envp);
const struct amp_env_captured *amp_stage1_env(void);
const char *amp_stage1_start_dir(void);

/* The loader's functions after the first stage (stage1_real.c): glibc's,
 * or another preload's in front of them. NULL when none is found. */
enum amp_stage1_fn { AMP_DLOPEN, AMP_DLCLOSE, AMP_DLSYM, AMP_DLVSYM };
void *amp_stage1_real(enum amp_stage1_fn which);
/* dlsym(RTLD_NEXT, name) (dlvsym with a version) from the first stage. */
void *amp_stage1_next(const char *name, const char *version);

/* 1 when the core is loaded and attached (it is loaded then if it was
 * not, and never tried again after a failure). */
int amp_stage1_load_core(void);

/* The first stage's exported functions reach the core's, or the real
 * ones, through these (stage1_hooks.c): the slot of each hooked function,
 * in the order of AMP_HOOKED, and its name. */
extern void **const amp_stage1_slots[AMP_NHOOKED];
extern const char *const amp_stage1_names[AMP_NHOOKED];

#endif
