/* Loading the configuration on first use, never in a constructor: a
 * program that never calls curl must not even read the file. What the
 * config keeps lives in an arena of its own (arena.h), its routes are read
 * from the text into one too (routelist.h), and when libconfig must parse
 * the whole file it does so on a short-lived thread of ours (aside.h):
 * neither the routes nor the parse shape the application's malloc heap,
 * whose long-lived clients would otherwise pay for the holes on every
 * request. */
#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "aside.h"
#include "catalog.h"
#include "forksafe.h"
#include "libconfig_dl.h"
#include "log.h"

static struct amp_shim shim;
static atomic_int loaded;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

AMP_FORK_SAFE(lock)

struct load_job {
    const char *path;
    const struct amp_curl *c;
    int flags;
    int rc;
};

static void load_config(void *arg)
{
    struct load_job *job = arg;

    job->rc = amp_config_load_ex(job->path, job->c, job->flags, &shim.cfg, shim.error,
                                 sizeof(shim.error));
}

/* AMPSHIM_NO_CONFIG_ARENA=1: the way it was, for the tests of what happens
 * anyway when no thread can be made (parsed on the caller's thread) and
 * nothing can be mapped (kept in the malloc heap). */
static int load_on_heap(void)
{
    const char *v = secure_getenv("AMPSHIM_NO_CONFIG_ARENA");

    return v && strcmp(v, "1") == 0;
}

static void load(const struct amp_curl *c, int libconfig_ok, const char *libconfig_error)
{
    const char *path = secure_getenv("AMPSHIM_CONFIG");
    char found[4096];

    if (!path || !*path) {
        if (amp_config_discover(program_invocation_short_name, found, sizeof(found)) < 0) {
            shim.mode = AMP_OFF;
            amp_debug("no config (AMPSHIM_CONFIG unset, no %s.cfg or ampshim.cfg found): "
                      "staying out of the way", program_invocation_short_name);
            return;
        }
        path = found;
    }
    if (!libconfig_ok)
        snprintf(shim.error, sizeof(shim.error), "%s", libconfig_error);
    /* The catalog is installed beside the library. */
    Dl_info self;
    if (dladdr((void *)amp_shim_get, &self) && self.dli_fname && strrchr(self.dli_fname, '/')) {
        char catalog[4096];
        snprintf(catalog, sizeof(catalog), "%.*s/providers.cfg",
                 (int)(strrchr(self.dli_fname, '/') - self.dli_fname), self.dli_fname);
        amp_catalog_set_path(catalog);
    }
    /* Here when its routes are read from the text; else libconfig parses
     * all of it, aside (when no thread can be made, here too). */
    int on_heap = load_on_heap();
    struct load_job job = { path, c, (on_heap ? AMP_CONFIG_ON_HEAP : 0) | AMP_CONFIG_PLAIN_ONLY,
                            -1 };
    if (libconfig_ok)
        load_config(&job);
    if (job.rc == 1) {
        job.flags = (job.flags & ~AMP_CONFIG_PLAIN_ONLY) | AMP_CONFIG_LIBCONFIG_ONLY;
        if (on_heap || amp_aside_run(load_config, &job) < 0)
            load_config(&job);
    }
    if (libconfig_ok && job.rc == 0) {
        shim.mode = AMP_ON;
        const char *dry = secure_getenv("AMPSHIM_DRY_RUN");
        shim.cfg->dry_run = dry && *dry && strcmp(dry, "0") != 0;
        amp_debug("config %s: %zu routes to %s", path, shim.cfg->routes.n, shim.cfg->proxy_url);
        return;
    }
    shim.mode = AMP_BROKEN;
    amp_error("%s; every curl transfer in this process will fail until it is fixed",
              shim.error);
}

/* Is there a config to read at all? Asked before libconfig is loaded. */
static int wanted(void)
{
    const char *path = secure_getenv("AMPSHIM_CONFIG");
    char found[4096];

    return (path && *path) ||
           amp_config_discover(program_invocation_short_name, found, sizeof(found)) == 0;
}

const struct amp_shim *amp_shim_get(const struct amp_curl *c)
{
    char why[256] = "";

    if (atomic_load_explicit(&loaded, memory_order_acquire))
        return &shim;
    /* libconfig is loaded before the lock is taken: never a lock across
     * the dynamic loader (see libconfig_dl.c). */
    int libconfig_ok = wanted() && amp_libconfig_load(why, sizeof(why)) == 0;
    pthread_mutex_lock(&lock);
    if (!atomic_load_explicit(&loaded, memory_order_relaxed)) {
        load(c, libconfig_ok, why);
        atomic_store_explicit(&loaded, 1, memory_order_release);
    }
    pthread_mutex_unlock(&lock);
    return &shim;
}
