/* The Ampersand API key: given one way only (proxy.api_key, api_key_env or
 * api_key_file, or the systemd credential in its place), checked to be
 * one, and wiped from memory when the config is freed. */
#define _GNU_SOURCE
#include "config_load.h"
#include "config_key.h"
#include "log.h"
#include "arena.h"
#include "env.h"
#include "safefile.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longer than any API key: a file or variable holding something else. */
#define AMP_MAX_KEY 1024
#define AMP_MAX_KEY_TEXT "1024"

/* Memory that held a key, cleared so that the compiler cannot drop the
 * store (explicit_bzero's job, without its newer symbol version). */
void amp_cfg_wipe(void *p, size_t n)
{
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

/* Relative api_key_file paths are taken from the config file's folder. */
static char *resolve_beside(struct amp_arena *a, const char *cfgpath, const char *file)
{
    const char *slash = strrchr(cfgpath, '/');

    if (file[0] == '/' || !slash)
        return amp_arena_strdup(a, file);
    return amp_arena_printf(a, "%.*s/%s", (int)(slash - cfgpath), cfgpath, file);
}

/* A key is visible ASCII, of a length a key has: what is not (empty after
 * trimming, a NUL byte, control characters, a whole file of something
 * else) must not quietly become an empty or broken x-api-key. NULL, or
 * what is wrong. Trims key in place. */
static const char *key_problem(char *key, size_t len)
{
    if (memchr(key, '\0', len))
        return "holds a NUL byte";
    char *start = key, *end = key + len;
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    memmove(key, start, (size_t)(end - start));
    key[end - start] = '\0';
    if (end == start)
        return "is empty";
    if ((size_t)(end - start) > AMP_MAX_KEY)
        return "is longer than any API key (" AMP_MAX_KEY_TEXT " characters at most)";
    for (const char *p = key; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return "must be one line of visible ASCII characters";
    return NULL;
}

/* Under systemd a unit hands the key file over with
 * LoadCredential=ampshim-api-key:PATH (`ampshim env --systemd` prints it):
 * systemd reads PATH as root and puts a copy only the service's user may
 * read in $CREDENTIALS_DIRECTORY. That copy, when there is one, is read
 * instead of api_key_file's path, so one config serves the service and
 * its operator's `ampshim check`. NULL when there is none. */
static char *key_credential(struct amp_arena *a)
{
    const char *dir = secure_getenv("CREDENTIALS_DIRECTORY");
    char *path;

    if (!dir || dir[0] != '/')
        return NULL;
    path = amp_arena_printf(a, "%s/%s", dir, AMP_KEY_CREDENTIAL);
    if (!path)
        return NULL;
    return access(path, F_OK) == 0 ? path : NULL;
}

static int read_key_file(struct loader *ld, const config_setting_t *s, const char *file)
{
    char *path = key_credential(ld->arena), *buf = NULL, why[512];
    size_t len = 0;
    const char *bad;

    if (!path)
        path = resolve_beside(ld->arena, ld->path, file);
    if (!path)
        return amp_cfg_fail(ld, s, "out of memory");
    int rc = amp_safefile_read(path, 4 * AMP_MAX_KEY, &buf, &len, why, sizeof(why));
    if (rc < 0) {
        ld->unopened = rc == -2;
        return amp_cfg_fail(ld, s, "cannot read proxy.api_key_file %s", why);
    }
    ld->cfg->api_key_origin = amp_cfg_join(ld->arena, "api_key_file ", path, NULL);
    bad = key_problem(buf, len);
    if (bad) {
        rc = amp_cfg_fail(ld, s, "proxy.api_key_file '%s' %s", file, bad);
    } else {
        ld->cfg->api_key = amp_arena_strdup(ld->arena, buf);
        if (!ld->cfg->api_key)
            rc = amp_cfg_fail(ld, s, "out of memory");
    }
    amp_cfg_wipe(buf, len);
    free(buf);
    return rc;
}

int amp_cfg_load_key(struct loader *ld, const config_setting_t *proxy)
{
    static const char *const ways[] = { "api_key", "api_key_env", "api_key_file" };
    const config_setting_t *given = NULL;
    char *value = NULL;

    for (int i = 0; i < 3; i++) {
        const config_setting_t *s = config_setting_get_member(proxy, ways[i]);
        if (!s)
            continue;
        if (given)
            return amp_cfg_fail(ld, s, "give the key one way only: proxy.%s and proxy.%s are both set",
                        config_setting_name(given), ways[i]);
        given = s;
    }
    if (!given)
        return amp_cfg_fail(ld, proxy,
                            "proxy needs the Ampersand API key: api_key, api_key_env or api_key_file");
    const char *way = config_setting_name(given);
    struct amp_rsetting v;
    if (amp_cfg_take_nonempty(ld, amp_cfg_view(ld, given, &v), way, "proxy", &value) < 0)
        return -1;
    if (strcmp(way, "api_key") == 0) {
        const char *bad = key_problem(value, strlen(value));
        if (bad)
            return amp_cfg_fail(ld, given, "proxy.api_key %s", bad);
        ld->cfg->api_key = value;
        ld->cfg->api_key_origin = "api_key";
        return 0;
    }
    if (strcmp(way, "api_key_env") == 0) {
        const char *v = amp_env(value), *bad = NULL;
        char *key = NULL;
        if (!v || !*v)
            return amp_cfg_fail(ld, given, "proxy.api_key_env: environment variable %s is not set", value);
        key = amp_arena_strdup(ld->arena, v);
        if (!key)
            return amp_cfg_fail(ld, given, "out of memory");
        bad = key_problem(key, strlen(key));
        if (bad)
            return amp_cfg_fail(ld, given, "proxy.api_key_env: %s %s", value, bad);
        ld->cfg->api_key_origin = amp_cfg_join(ld->arena, "api_key_env ", value, NULL);
        if (!ld->cfg->api_key_origin)
            return amp_cfg_fail(ld, given, "out of memory");
        ld->cfg->api_key = key;
        return 0;
    }
    return read_key_file(ld, given, value);
}

int amp_cfg_key_exposed(const struct amp_config *cfg, char *msg, size_t len)
{
    const char *origin = cfg->api_key_origin ? cfg->api_key_origin : "", *path, *what;
    struct stat st;

    if (strcmp(origin, "api_key") == 0) {
        path = cfg->path;
        what = "the API key (api_key)";
    } else if (strncmp(origin, "api_key_file ", 13) == 0) {
        path = origin + 13;
        what = "the API key";
    } else {
        return 0;
    }
    if (!path || stat(path, &st) != 0 || !(st.st_mode & 077))
        return 0;
    snprintf(msg, len, "%s holds %s and is readable by %s: chmod 600 %s", path, what,
             (st.st_mode & 007) ? "others" : "its group", path);
    return 1;
}

/* Under plain LD_PRELOAD no launcher has said it. Once: every reload, and
 * every thread, would say the same. A child started by the launcher is
 * told (AMPSHIM_KEY_WARNED) that the launcher said it already. */
void amp_cfg_key_warn_once(const struct amp_config *cfg)
{
    static atomic_int said;
    char msg[2 * 4096 + 128];

    if (atomic_load_explicit(&said, memory_order_relaxed) || !amp_log_enabled(AMP_LOG_WARN))
        return;
    const char *told = amp_env("AMPSHIM_KEY_WARNED");
    if ((told && *told) || !amp_cfg_key_exposed(cfg, msg, sizeof(msg)))
        return;
    if (!atomic_exchange_explicit(&said, 1, memory_order_relaxed))
        amp_warn("%s", msg);
}
