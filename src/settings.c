/* What the process runs with: the configuration, loaded on first use (at
 * the latest when libcurl is initialised: global.c), never in a constructor
 * (a program that never calls curl must not even read the file), and
 * loaded again when its file or its key file changes, or, while one of
 * them cannot be opened, once a second.
 * What the config keeps lives in an arena of its own (arena.h), not in the
 * application's malloc heap, whose long-lived clients would otherwise pay
 * for the holes on every request. It is loaded on the caller's thread,
 * never on one of ours: a thread makes glibc treat the process as threaded
 * for the rest of its life, which costs every later request more
 * (cancellable system calls, atomic malloc) than any hole. */
#define _GNU_SOURCE
#include "settings.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "config_key.h"
#include "env.h"
#include "hash.h"
#include "locks.h"
#include "libconfig_dl.h"
#include "log.h"

struct amp_settings amp_settings_now;
atomic_int amp_settings_loaded;

/* What the config was read from, as it was then: the config file (through
 * any symlink: a Kubernetes secret mount swaps one) and its key file. */
struct seen_file {
    char path[4096];
    int exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int summed;                 /* sum holds its bytes' digest */
    uint64_t sum;
};
/* Read and written only by the thread that holds `looking` (and by the
 * first load, before amp_settings_loaded publishes it). */
static struct {
    char path[4096];            /* the config's path, as found at start */
    struct seen_file files[2];
    int nfiles;
    _Atomic int looking;        /* one thread looks, the others go on */
    /* The last load failed on a file it could not open (missing, no
     * permission): tried again every second, whatever its stat says (a
     * chown or chmod changes neither its size nor its mtime). */
    int unopened;
    int said;                   /* that failure was said while a config is in use */
} watch;

/* AMPSHIM_NO_CONFIG_ARENA=1, read by the tests' library only
 * (build/testswitch): the config kept in the malloc heap, the way taken
 * when nothing can be mapped. */
static int load_on_heap(void)
{
#ifdef AMPSHIM_TEST_SWITCHES
    const char *v = amp_env("AMPSHIM_NO_CONFIG_ARENA");

    return v && strcmp(v, "1") == 0;
#else
    return 0;
#endif
}

/* A digest (FNV-1a) of the file's bytes into *sum; -1 when it cannot be
 * read. Two contents that differ in one byte never have the same one; any
 * other pair, one time in 2^64. The key file's bytes pass through the
 * stack, wiped after. */
static int sum_of(const char *path, uint64_t *sum)
{
    unsigned char buf[4096];
    uint64_t h = AMP_FNV1A64_BASIS;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0)
        return -1;
    for (n = read(fd, buf, sizeof(buf)); n > 0 || (n < 0 && errno == EINTR);
         n = read(fd, buf, sizeof(buf)))
        if (n > 0) /* not an interrupted read */
            h = amp_fnv1a_more(h, buf, (size_t)n);
    close(fd);
    explicit_bzero(buf, sizeof(buf));
    *sum = h;
    return n < 0 ? -1 : 0;
}

static void see_stat(struct seen_file *f, const struct stat *st)
{
    f->dev = f->exists ? st->st_dev : 0;
    f->ino = f->exists ? st->st_ino : 0;
    f->size = f->exists ? st->st_size : 0;
    f->mtime = f->exists ? st->st_mtim : (struct timespec){ 0, 0 };
}

static void see(struct seen_file *f, const char *path)
{
    struct stat st;

    snprintf(f->path, sizeof(f->path), "%s", path);
    f->exists = stat(path, &st) == 0;
    see_stat(f, &st);
    f->summed = f->exists && sum_of(path, &f->sum) == 0;
}

/* A file changed() whose bytes are the same as when it was seen (touched,
 * written again with the same text, a secret mount swapped to the same
 * key): its new stat is noted, and 1 returned; nothing to load for it. */
static int same_bytes(struct seen_file *f)
{
    struct stat st;
    uint64_t sum;

    /* Looked at before it is read: a change while it is read is seen next time. */
    if (!f->exists || !f->summed || stat(f->path, &st) != 0 || sum_of(f->path, &sum) < 0 ||
        sum != f->sum)
        return 0;
    see_stat(f, &st);
    return 1;
}

static int changed(const struct seen_file *f)
{
    struct stat st;
    int exists = stat(f->path, &st) == 0;

    /* A folder this process may not enter (a worker that dropped the
     * privileges its parent read the config with) hides whether the file
     * changed: the config read stays, and nothing is said. */
    if (!exists && errno != ENOENT && errno != ENOTDIR)
        return 0;
    return exists != f->exists ||
           (exists && (st.st_dev != f->dev || st.st_ino != f->ino || st.st_size != f->size ||
                       st.st_mtim.tv_sec != f->mtime.tv_sec || st.st_mtim.tv_nsec != f->mtime.tv_nsec));
}

/* The files path's config was read from, as they are now: the config
 * file before it is read (cfg NULL), so that a change while it is read is
 * seen next time; its key file once the config names it. */
static void note_files(const char *path, const struct amp_config *cfg)
{
    if (!cfg)
        see(&watch.files[0], path);
    watch.nfiles = 1;
    const char *key = cfg && cfg->api_key_origin ? cfg->api_key_origin : "";
    if (strncmp(key, "api_key_file ", 13) == 0)
        see(&watch.files[watch.nfiles++], key + 13);
}

/* path loaded (into an arena of ours); NULL with the reason in err when it
 * cannot be. */
static struct amp_config *load_file(const struct amp_curl *c, const char *path, char *err,
                                    size_t errlen)
{
    struct amp_config *cfg = NULL;
    /* A reload that fails keeps watching the key file it had (gone for a
     * moment, half written): its next change is tried again. */
    struct seen_file key = watch.files[1];
    int had_key = watch.nfiles > 1;

    note_files(path, NULL);
    enum amp_load_status st = amp_config_load_ex(path, c, load_on_heap() ? AMP_CONFIG_ON_HEAP : 0,
                                                 &cfg, err, errlen);
    /* The bytes of a file that did not load, or that libconfig read whole
     * (an @include), do not say all it depends on: touching it reads it
     * (and what it includes) again, as the README says. */
    watch.files[0].summed = watch.files[0].summed && st == AMP_LOAD_OK && !cfg->read_whole;
    watch.unopened = st == AMP_LOAD_UNOPENED;
    if (st != AMP_LOAD_OK) {
        if (had_key)
            see(&watch.files[watch.nfiles++], key.path);
        return NULL;
    }
    note_files(path, cfg);
    amp_cfg_key_warn_once(cfg);
    const char *dry = amp_env("AMPSHIM_DRY_RUN");
    cfg->dry_run = dry && *dry && strcmp(dry, "0") != 0;
    return cfg;
}

static void load(const struct amp_curl *c, int libconfig_ok, const char *libconfig_error)
{
    const char *path = amp_env("AMPSHIM_CONFIG");
    char found[4096];

    if (!path || !*path) {
        if (amp_config_discover(amp_env_program(), found, sizeof(found)) < 0) {
            amp_settings_now.mode = AMP_OFF;
            amp_debug("no config (AMPSHIM_CONFIG unset, no %s.cfg or ampshim.cfg found): "
                      "staying out of the way", amp_env_program());
            return;
        }
        path = found;
    }
    if (!libconfig_ok)
        snprintf(amp_settings_now.error, sizeof(amp_settings_now.error), "%s", libconfig_error);
    /* The catalog is installed beside the library. */
    Dl_info self;
    if (dladdr((void *)amp_settings_get, &self) && self.dli_fname && strrchr(self.dli_fname, '/')) {
        char catalog[4096];
        snprintf(catalog, sizeof(catalog), "%.*s/providers.cfg",
                 (int)(strrchr(self.dli_fname, '/') - self.dli_fname), self.dli_fname);
        amp_catalog_set_path(catalog);
    }
    snprintf(watch.path, sizeof(watch.path), "%s", path);
    if (libconfig_ok) {
        struct amp_config *cfg = load_file(c, path, amp_settings_now.error, sizeof(amp_settings_now.error));
        if (cfg) {
            atomic_store_explicit(&cfg->refs, 1, memory_order_relaxed); /* the settings' */
            amp_settings_now.cfg = cfg;
            amp_settings_now.mode = AMP_ON;
            amp_debug("config %s: %zu routes to %s", path, cfg->routes.n, cfg->proxy_url);
            return;
        }
    }
    amp_settings_now.mode = AMP_BROKEN;
    amp_error("%s; every curl transfer in this process will fail until it is fixed",
              amp_settings_now.error);
}

/* The config this process is meant to read (in buf when found by
 * discovery), or NULL. */
static const char *wanted_config(char *buf, size_t len)
{
    const char *path = amp_env("AMPSHIM_CONFIG");

    if (path && *path)
        return path;
    return amp_config_discover(amp_env_program(), buf, len) == 0 ? buf : NULL;
}

/* Is there a config to read at all? Asked before libconfig is loaded. */
static int wanted(void)
{
    char found[4096];

    return wanted_config(found, sizeof(found)) != NULL;
}

/* The UTC second the config's files were last looked at (settings.h). */
_Atomic int64_t amp_settings_looked_at;

__attribute__((noinline)) const struct amp_settings *
amp_settings_look(const struct amp_curl *c, const struct amp_settings *s, int64_t now)
{
    /* watch is looked at only by the thread that holds `looking`. */
    if (atomic_exchange_explicit(&watch.looking, 1, memory_order_acquire))
        return s;
    atomic_store_explicit(&amp_settings_looked_at, now, memory_order_relaxed);
    int any = watch.unopened, same = !watch.unopened;
    for (int i = 0; i < watch.nfiles; i++) {
        if (changed(&watch.files[i])) {
            any = 1;
            same = same && same_bytes(&watch.files[i]);
        }
    }
    if (any && !same) {
        char err[sizeof(amp_settings_now.error)];
        struct amp_config *cfg = load_file(c, watch.path, err, sizeof(err)), *old = NULL;
        pthread_mutex_lock(&amp_lock_settings);
        if (cfg) {
            /* The old config is freed once no handle holds it (transfers
             * under way, and the entries that decided with it, point into
             * it): amp_settings_release. */
            atomic_store_explicit(&cfg->refs, 1, memory_order_relaxed); /* the settings' */
            old = atomic_exchange(&amp_settings_now.cfg, cfg);
            amp_settings_now.mode = AMP_ON;
            watch.said = 0;
            amp_info("config %s read again: %zu routes to %s", watch.path, cfg->routes.n,
                     cfg->proxy_url);
        } else if (amp_settings_now.mode == AMP_ON) {
            /* Once while it fails: a file this process may not open (a
             * worker that dropped the privileges its parent read it with)
             * is tried every second. */
            if (!watch.said)
                amp_warn("%s; the configuration read before stays in use%s", err,
                         watch.unopened ? " (tried again every second; not said again)" : "");
            watch.said = watch.unopened;
        } else {
            memcpy(amp_settings_now.error, err, sizeof(err));
        }
        pthread_mutex_unlock(&amp_lock_settings);
        amp_settings_release(old);
    }
    atomic_store_explicit(&watch.looking, 0, memory_order_release);
    return s;
}

const struct amp_config *amp_settings_hold(void)
{
    /* Under the lock a reload swaps the config under: the one read here
     * still has the settings' reference while this one is taken. */
    pthread_mutex_lock(&amp_lock_settings);
    struct amp_config *cfg = atomic_load_explicit(&amp_settings_now.cfg, memory_order_relaxed);
    if (cfg)
        atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&amp_lock_settings);
    return cfg;
}

void amp_settings_release(const struct amp_config *cfg)
{
    /* The count is the one part of a config that changes once it is loaded. */
    struct amp_config *mine = (struct amp_config *)cfg;

    if (mine && atomic_fetch_sub_explicit(&mine->refs, 1, memory_order_acq_rel) == 1) {
        amp_debug("a config read before is no longer used: freed");
        amp_config_free(mine);
    }
}

const struct amp_settings *amp_settings_load(const struct amp_curl *c)
{
    char why[256] = "";

    if (atomic_load_explicit(&amp_settings_loaded, memory_order_acquire))
        return &amp_settings_now;
    /* libconfig is loaded before the lock is taken: never a lock across
     * the dynamic loader (see libconfig_dl.c). */
    int libconfig_ok = wanted() && amp_libconfig_load(why, sizeof(why)) == 0;
    pthread_mutex_lock(&amp_lock_settings);
    if (!atomic_load_explicit(&amp_settings_loaded, memory_order_relaxed)) {
        load(c, libconfig_ok, why);
        atomic_store_explicit(&amp_settings_loaded, 1, memory_order_release);
    }
    pthread_mutex_unlock(&amp_lock_settings);
    return &amp_settings_now;
}

/* At exit: a process that was given a config but never called libcurl (a
 * static binary, a Go program, one that does its HTTP some other way) was
 * not routed at all; said at info, since the library is in every process
 * of the tree. Costs a process at the default level two loads. */
__attribute__((destructor)) static void said_at_exit(void)
{
    char found[4096];
    const char *path;

    if (atomic_load_explicit(&amp_settings_loaded, memory_order_acquire) ||
        !amp_env_set("AMPSHIM_LOG") || !amp_log_enabled(AMP_LOG_INFO))
        return;
    path = wanted_config(found, sizeof(found));
    if (!path)
        return;
    amp_info("config %s: this process never called libcurl, so nothing it sent went through "
             "ampshim (a statically linked program, a Go binary, or one that does not use libcurl)",
             path);
}
