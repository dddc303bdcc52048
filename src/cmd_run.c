/* `ampshim run`: a program run with the library preloaded; and where the
 * library (and the catalog beside it) is found, which `env` shares. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "exekind.h"

/* Given by the Makefile: the install libdir, and the same libdir relative
 * to the install bindir. */
#if !defined(AMPSHIM_LIBDIR) || !defined(AMPSHIM_LIBDIR_REL)
#error "build with the Makefile: AMPSHIM_LIBDIR, AMPSHIM_LIBDIR_REL"
#endif

/* The directory of this program, for what is installed beside it. */
static int self_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);

    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

/* A library found relative to the launcher but not beside it: the file and
 * its folder belong to root or to us, and no one else may write them. */
static int trusted(const char *file, const char *dir)
{
    struct stat f, d;

    return stat(file, &f) == 0 && S_ISREG(f.st_mode) && stat(dir, &d) == 0 &&
           (f.st_uid == 0 || f.st_uid == getuid()) && (d.st_uid == 0 || d.st_uid == getuid()) &&
           !(f.st_mode & 022) && !(d.st_mode & 022);
}

/* The launcher's own folder (a build tree), else the libdir where it lies
 * from the launcher when installed (bin/../lib/ampshim: a DESTDIR tree, an
 * unpacked package), else the install libdir; never the current directory
 * (proxychains-ng's CVE-2015-3887). */
const char *amp_lib_dir(void)
{
    static char dir[PATH_MAX];
    char self[PATH_MAX], rel[2 * PATH_MAX], file[2 * PATH_MAX + 32];

    if (self_dir(self, sizeof(self)) == 0) {
        snprintf(file, sizeof(file), "%s/libampshim.so", self);
        if (access(file, R_OK) == 0) {
            snprintf(dir, sizeof(dir), "%s", self);
            return dir;
        }
        snprintf(rel, sizeof(rel), "%s/%s", self, AMPSHIM_LIBDIR_REL);
        snprintf(file, sizeof(file), "%s/libampshim.so", rel);
        if (*AMPSHIM_LIBDIR_REL && access(file, R_OK) == 0 && realpath(rel, dir) &&
            trusted(file, dir))
            return dir;
    }
    snprintf(dir, sizeof(dir), "%s", AMPSHIM_LIBDIR);
    snprintf(file, sizeof(file), "%s/libampshim.so", dir);
    return access(file, R_OK) == 0 ? dir : NULL;
}

int amp_find_library(char *buf, size_t len)
{
    const char *dir = amp_lib_dir();
    char self[PATH_MAX];

    if (dir) {
        snprintf(buf, len, "%s/libampshim.so", dir);
        return 0;
    }
    if (self_dir(self, sizeof(self)) < 0)
        snprintf(self, sizeof(self), "(the launcher's folder)");
    fprintf(stderr, "ampshim: cannot find libampshim.so in %s, %s/%s or %s\n", self, self,
            AMPSHIM_LIBDIR_REL, AMPSHIM_LIBDIR);
    return -1;
}

/* The length of list's first entry when it is a sanitizer runtime
 * (libasan, libtsan, …), else 0. */
static size_t sanitizer_runtime_prefix(const char *list)
{
    static const char *const runtimes[] = { "libasan", "libtsan", "libubsan", "liblsan", "libhwasan",
                                            "libclang_rt." };
    if (!list)
        return 0;
    size_t n = strcspn(list, ": ");
    const char *base = list;
    for (const char *p = list; p < list + n; p++)
        if (*p == '/')
            base = p + 1;
    for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
        if (strncmp(base, runtimes[i], strlen(runtimes[i])) == 0)
            return n;
    return 0;
}

/* A program LD_PRELOAD cannot route is named (one line), and run all the
 * same: it may make no call worth routing, and the user asked to run it. */
static void warn_unroutable(const char *cmd)
{
    char file[PATH_MAX];

    if (amp_exekind_find(cmd, file, sizeof(file)) < 0)
        return;
    switch (amp_exekind_of(file)) {
    case AMP_EXE_GO:
        amp_cli_say(1, "%s is a Go program: Go makes its HTTP calls itself, never through libcurl, so "
                       "ampshim cannot route them; running it anyway", file);
        break;
    case AMP_EXE_STATIC:
        amp_cli_say(1, "%s is statically linked: no dynamic loader starts it, so LD_PRELOAD cannot put "
                       "ampshim in it and its calls cannot be routed; running it anyway", file);
        break;
    default:
        break;
    }
}

/* The file's own name kept as given, symlink or not (a secret mount swaps
 * one, and the library reads the config again when what the name leads to
 * changes). */
int amp_absolute_config(const char *path, char *abs, size_t len)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
    char *folder = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    int bad = !folder || !realpath(folder, dir);

    free(folder);
    if (bad || snprintf(abs, len, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name) >= (int)len) {
        fprintf(stderr, "ampshim: %s: %s\n", path, bad ? strerror(errno) : "the path is too long");
        return -1;
    }
    return 0;
}

/* COMMAND executed with the library preloaded; returns only when it could
 * not be: 127 when it is not found, 126 when it is found but cannot be
 * executed (as sh and env(1) say). */
static int run(const char *path, char **argv, int dry_run)
{
    char lib[2 * PATH_MAX], abs[PATH_MAX];
    struct amp_config *cfg = amp_cli_load(path, NULL, 0);

    if (!cfg)
        return 2;
    /* Said here once: the library in each process it starts is told so. */
    if (amp_cli_warn_key_files(cfg) && setenv("AMPSHIM_KEY_WARNED", "1", 1) < 0) {
        amp_config_free(cfg);
        return 127;
    }
    amp_config_free(cfg);
    if (amp_absolute_config(path, abs, sizeof(abs)) < 0)
        return 2;
    if (amp_find_library(lib, sizeof(lib)) < 0)
        return 127;
    const char *old = getenv("LD_PRELOAD");
    char *preload = NULL;
    /* A sanitizer's runtime must stay first in the list (it refuses to run
     * otherwise): the library goes right after it, before the rest. */
    size_t keep = sanitizer_runtime_prefix(old);
    if (old && *old && strstr(old, lib))
        preload = strdup(old);
    else if (asprintf(&preload, "%.*s%s%s%s%s", (int)keep, old ? old : "", keep ? ":" : "", lib,
                      old && old[keep] ? ":" : "", old ? old + keep + (keep && old[keep] ? 1 : 0) : "") < 0)
        preload = NULL;
    if (!preload || setenv("LD_PRELOAD", preload, 1) < 0 || setenv("AMPSHIM_CONFIG", abs, 1) < 0 ||
        (dry_run && setenv("AMPSHIM_DRY_RUN", "1", 1) < 0)) {
        fprintf(stderr, "ampshim: out of memory\n");
        return 127;
    }
    free(preload);
    warn_unroutable(argv[0]);
    execvp(argv[0], argv);
    int e = errno;
    fprintf(stderr, "ampshim: cannot run '%s': %s%s\n", argv[0], strerror(e),
            e == ENOENT ? " (is it on PATH?)" : "");
    return e == ENOENT || e == ENOTDIR ? 127 : 126;
}

static const struct option options[] = {
    { "config", required_argument, NULL, 'c' },
    { "dry-run", no_argument, NULL, AMP_OPT_OWN },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int dry_run(int c, struct amp_opts *o)
{
    (void)c;
    *(int *)o->own = 1;
    return 0;
}

int amp_cmd_run(int argc, char **argv)
{
    char path[PATH_MAX], err[512];
    int dry = 0, rc = 0;
    struct amp_opts o = { .own = &dry };

    /* '+': the options end at COMMAND, whose own options are its. */
    if (amp_options(argc, argv, "+:c:h", options, &o, dry_run, &rc) == AMP_OPT_EXIT)
        return rc;
    if (optind >= argc)
        return amp_usage_error(argv[0], "no COMMAND given");
    const char *prog = strrchr(argv[optind], '/');
    prog = prog ? prog + 1 : argv[optind];
    if (amp_cli_find_config(o.config, prog, path, sizeof(path), err, sizeof(err)) < 0) {
        fprintf(stderr, "ampshim: %s\n", err);
        return 2;
    }
    return run(path, argv + optind, dry);
}
