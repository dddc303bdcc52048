/* Loading a config: the file read (only a regular file, and so are its
 * includes), its routes list read straight from the text when it is in the
 * plain form (routelist.h) and the rest parsed by libconfig, then its
 * groups checked: proxy and throttle here, the key in config_key.c, the
 * routes in config_routes.c. What the config keeps lives in an arena of
 * its own (arena.h); the text and the routes as read, in a scratch arena,
 * and libconfig's tree are gone when the load returns. */
#define _GNU_SOURCE
#include "config.h"
#include "config_load.h"
#include "arena.h"
#include "catalog.h"
#include "safefile.h"
#include "urlsplit.h"

#include <ctype.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static int is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (strlen(s) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* proxy.url's scheme and host (host in hostbuf), and whether it carries a
 * user, a query or a fragment: cut by hand when it is plain, else by
 * libcurl. -1 when it is no URL. */
static int proxy_parts(const struct amp_curl *c, const char *url, const char **scheme,
                       char *hostbuf, size_t hostlen, int *extra)
{
    struct amp_url_split s;

    *extra = 0;
    if (amp_url_split(url, &s)) {
        *scheme = s.scheme;
        snprintf(hostbuf, hostlen, "%.*s", (int)s.host_len, s.host);
        return 0;
    }
    char *sch = NULL, *host = NULL, *part = NULL;
    CURLU *u = c->url();
    int rc = -1;
    if (u && c->url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        c->url_get(u, CURLUPART_SCHEME, &sch, 0) == CURLUE_OK &&
        c->url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        *scheme = strcmp(sch, "https") == 0 ? "https" : strcmp(sch, "http") == 0 ? "http" : "other";
        snprintf(hostbuf, hostlen, "%s", host);
        static const CURLUPart extras[] = { CURLUPART_QUERY, CURLUPART_USER, CURLUPART_FRAGMENT };
        for (size_t i = 0; i < 3 && !*extra; i++) {
            *extra = c->url_get(u, extras[i], &part, 0) == CURLUE_OK;
            c->free(part);
            part = NULL;
        }
        rc = 0;
    }
    if (u) {
        c->free(sch);
        c->free(host);
        c->url_cleanup(u);
    }
    return rc;
}

static int load_proxy_url(struct loader *ld, const config_setting_t *proxy)
{
    const config_setting_t *s = config_setting_get_member(proxy, "url");
    const char *scheme = NULL;
    char *url = NULL, host[512];
    int extra = 0;

    struct amp_rsetting v;
    if (amp_cfg_take_nonempty(ld, amp_cfg_view(ld, s, &v), "url", "proxy", &url) <= 0)
        return s ? -1 : amp_cfg_fail(ld, proxy, "proxy.url is missing (https://proxy.withampersand.com)");
    if (proxy_parts(ld->c, url, &scheme, host, sizeof(host), &extra) < 0)
        return amp_cfg_fail(ld, s, "proxy.url '%s' is not a valid URL", url);
    if (strcmp(scheme, "https") != 0 && !(strcmp(scheme, "http") == 0 && amp_host_is_loopback(host)))
        return amp_cfg_fail(ld, s, "proxy.url '%s' must be https (plain http only to a loopback host)", url);
    if (extra)
        return amp_cfg_fail(ld, s, "proxy.url '%s' must not carry a user, a query or a fragment", url);
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        url[--len] = '\0';
    ld->cfg->proxy_url = url;
    ld->cfg->proxy_plain_http = strcmp(scheme, "http") == 0;
    amp_host_addr_of(url, &ld->cfg->proxy_addr);
    return 0;
}

static int load_proxy(struct loader *ld, const config_t *conf)
{
    static const char *const known[] = { "url", "project_id", "api_key", "api_key_env",
                                         "api_key_file", "rate_limiter_mode", "drop_headers",
                                         NULL };
    const config_setting_t *proxy = config_lookup(conf, "proxy");
    struct amp_config *cfg = ld->cfg;

    if (!proxy)
        return amp_cfg_fail(ld, NULL, "no 'proxy' group: say where the Ampersand proxy is and which project");
    if (!config_setting_is_group(proxy))
        return amp_cfg_fail(ld, proxy, "proxy must be a group: proxy: { url = \"…\"; … };");
    if (amp_cfg_only_known(ld, proxy, known) < 0 || load_proxy_url(ld, proxy) < 0)
        return -1;
    int rc = amp_cfg_get_nonempty(ld, proxy, "project_id", "proxy", &cfg->project_id);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return amp_cfg_fail(ld, proxy, "proxy.project_id is missing");
    if (!is_uuid(cfg->project_id))
        return amp_cfg_fail(ld, config_setting_get_member(proxy, "project_id"),
                    "proxy.project_id '%s' must be the project's ID (a UUID), not its name",
                    cfg->project_id);
    const config_setting_t *drop = config_setting_get_member(proxy, "drop_headers");
    struct amp_rsetting names;
    if (drop && amp_rsetting_from(drop, ld->scratch, &names) < 0)
        return amp_cfg_fail(ld, drop, "out of memory");
    if (drop) {
        names.line = amp_cfg_src_line(ld, names.line);
        for (size_t i = 0; i < names.nelems; i++)
            ((struct amp_rvalue *)names.elems)[i].line = amp_cfg_src_line(ld, names.elems[i].line);
    }
    if (amp_cfg_load_key(ld, proxy) < 0 ||
        amp_cfg_take_names(ld, drop ? &names : NULL, "proxy", &cfg->drop, &cfg->ndrop) < 0)
        return -1;
    if (amp_cfg_get_string(ld, proxy, "rate_limiter_mode", "proxy", &cfg->rate_limiter_mode) < 0)
        return -1;
    /* Throttle unless told otherwise: Ampersand then says when to retry. */
    if (!config_setting_get_member(proxy, "rate_limiter_mode")) {
        cfg->rate_limiter_mode = amp_arena_strdup(ld->arena, "throttle");
        if (!cfg->rate_limiter_mode)
            return amp_cfg_fail(ld, proxy, "out of memory");
    }
    if (cfg->rate_limiter_mode && !*cfg->rate_limiter_mode) {
        cfg->rate_limiter_mode = NULL;
    } else if (cfg->rate_limiter_mode && strcmp(cfg->rate_limiter_mode, "throttle") != 0) {
        return amp_cfg_fail(ld, config_setting_get_member(proxy, "rate_limiter_mode"),
                    "proxy.rate_limiter_mode must be \"throttle\" or \"\"");
    }
    return 0;
}

const char *amp_on_block_name(enum amp_on_block mode)
{
    return mode == AMP_ON_BLOCK_WAIT ? "wait" : mode == AMP_ON_BLOCK_FAIL ? "fail" : "respond";
}

void amp_on_block_sentence(const struct amp_config *cfg, char *buf, size_t len)
{
    switch (cfg->throttle.on_block) {
    case AMP_ON_BLOCK_FAIL:
        snprintf(buf, len, "fails at once with libcurl error 55 (67 when locked out), nothing sent "
                           "(throttle.on_block = fail)");
        break;
    case AMP_ON_BLOCK_WAIT:
        snprintf(buf, len, "waits for the retry time when it is at most %lds away, else fails at once "
                           "(throttle.on_block = wait)", cfg->throttle.max_wait);
        break;
    default:
        snprintf(buf, len, "answered here with HTTP 429 and Retry-After, nothing sent "
                           "(throttle.on_block = respond)");
        break;
    }
}

static int load_throttle(struct loader *ld, const config_t *conf)
{
    static const char *const known[] = { "on_block", "max_wait", "state_file",
                                         "default_backoff", "lockout_hold", NULL };
    const config_setting_t *t = config_lookup(conf, "throttle");
    struct amp_config *cfg = ld->cfg;
    char *mode = NULL;

    cfg->throttle.on_block = AMP_ON_BLOCK_RESPOND;
    cfg->throttle.max_wait = 30;
    cfg->throttle.default_backoff = 30;
    cfg->throttle.lockout_hold = 0;
    if (!t)
        return 0;
    if (!config_setting_is_group(t))
        return amp_cfg_fail(ld, t, "throttle must be a group: throttle: { on_block = \"respond\"; };");
    if (amp_cfg_only_known(ld, t, known) < 0)
        return -1;
    if (amp_cfg_get_nonempty(ld, t, "on_block", "throttle", &mode) < 0)
        return -1;
    if (mode) {
        int ok = 1;
        if (strcmp(mode, "wait") == 0)
            cfg->throttle.on_block = AMP_ON_BLOCK_WAIT;
        else if (strcmp(mode, "fail") == 0)
            cfg->throttle.on_block = AMP_ON_BLOCK_FAIL;
        else
            ok = strcmp(mode, "respond") == 0;
        if (!ok)
            return amp_cfg_fail(ld, config_setting_get_member(t, "on_block"),
                        "throttle.on_block must be \"respond\", \"fail\" or \"wait\"");
    }
    if (amp_cfg_get_seconds(ld, t, "max_wait", &cfg->throttle.max_wait) < 0 ||
        amp_cfg_get_seconds(ld, t, "default_backoff", &cfg->throttle.default_backoff) < 0 ||
        amp_cfg_get_seconds(ld, t, "lockout_hold", &cfg->throttle.lockout_hold) < 0 ||
        amp_cfg_get_nonempty(ld, t, "state_file", "throttle", &cfg->throttle.state_file) < 0)
        return -1;
    return 0;
}

static int load_top(struct loader *ld, const config_t *conf)
{
    static const char *const known[] = { "proxy", "routes", "throttle", NULL };
    const config_setting_t *root = config_root_setting(conf);

    if (amp_cfg_only_known(ld, root, known) < 0)
        return -1;
    if (load_proxy(ld, conf) < 0 || amp_cfg_load_routes(ld, conf) < 0 || load_throttle(ld, conf) < 0)
        return -1;
    return 0;
}

/* What a route takes in the arena, per byte of config text, with room to
 * spare: the first chunk then holds the whole config (untouched pages of a
 * mapping cost nothing). */
#define ARENA_PER_TEXT_BYTE 8

enum amp_load_status amp_config_load_ex(const char *path, const struct amp_curl *c, int flags,
                                        struct amp_config **out, char *err, size_t errlen)
{
    int on_heap = flags & AMP_CONFIG_ON_HEAP;
    struct amp_arena *scratch = amp_arena_new(0, on_heap), *arena = NULL;
    struct amp_config *cfg = NULL;
    struct amp_routelist routes;
    config_t conf;
    int ok = 0;

    *out = NULL;
    if (!scratch) {
        snprintf(err, errlen, "%s: out of memory", path);
        return AMP_LOAD_INVALID;
    }
    /* Read here, never by libconfig from the path: only a regular file of
     * a sane size, and so are its includes (a folder would make libconfig's
     * scanner exit the process, a FIFO would hang it). Into memory of our
     * own: a large file's text leaves no hole in the heap either. */
    char *text = NULL;
    size_t len = 0;
    int read = amp_safefile_read_in(scratch, path, AMP_MAX_CONFIG_BYTES, &text, &len, err, errlen);
    /* A relative @include is the config's neighbour, wherever the process
     * runs (libconfig's default would be the current folder). */
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int has_dir = slash && (size_t)(slash - path) < sizeof(dir);
    if (has_dir)
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int kinds = 0;
    if (read < 0 ||
        amp_safefile_check_includes(has_dir ? dir : NULL, path, text, len, &kinds, err, errlen) < 0) {
        amp_arena_free(scratch);
        return read == -2 ? AMP_LOAD_UNOPENED : AMP_LOAD_INVALID;
    }
    /* The routes list read here when it is plain: libconfig then parses
     * the rest, the list emptied, and leaves little garbage behind. */
    char *rest = NULL;
    int plain = flags & AMP_CONFIG_LIBCONFIG_ONLY
                    ? 0
                    : amp_routelist_read(text, len, scratch, &routes, &rest);
    if (plain > 0)
        text = rest;
    if (plain >= 0)
        arena = amp_arena_new(len * ARENA_PER_TEXT_BYTE, on_heap);
    if (arena)
        cfg = amp_arena_alloc(arena, sizeof(*cfg));
    if (plain < 0 || !arena || !cfg) {
        snprintf(err, errlen, "%s: out of memory", path);
        amp_arena_free(arena);
        amp_arena_free(scratch);
        return AMP_LOAD_INVALID;
    }
    cfg->arena = arena;
    cfg->read_whole = plain == 0;
    struct loader ld = { .path = path, .c = c, .cfg = cfg, .arena = arena, .scratch = scratch,
                         .routes = plain > 0 ? &routes : NULL, .err = err, .errlen = errlen };
    config_init(&conf);
    if (has_dir && kinds == AMP_INCLUDE_RELATIVE)
        config_set_include_dir(&conf, dir);
    if (!config_read_string(&conf, text)) {
        snprintf(err, errlen, "%s:%d: %s", path, amp_cfg_src_line(&ld, config_error_line(&conf)),
                 config_error_text(&conf));
    } else {
        cfg->path = amp_arena_strdup(arena, path);
        if (cfg->path && load_top(&ld, &conf) == 0)
            ok = 1;
    }
    config_destroy(&conf);
    amp_catalog_close(ld.catalog);
    amp_arena_free(scratch);
    if (!ok) {
        amp_config_free(cfg);
        return ld.unopened ? AMP_LOAD_UNOPENED : AMP_LOAD_INVALID;
    }
    *out = cfg;
    return AMP_LOAD_OK;
}

int amp_config_load(const char *path, const struct amp_curl *c,
                    struct amp_config **out, char *err, size_t errlen)
{
    return amp_config_load_ex(path, c, 0, out, err, errlen);
}

void amp_config_free(struct amp_config *cfg)
{
    if (!cfg)
        return;
    /* A mapping is gone once unmapped; the heap fallback's chunks go back
     * to malloc as they are, so the key is cleared first either way. */
    if (cfg->api_key)
        amp_cfg_wipe(cfg->api_key, strlen(cfg->api_key));
    if (cfg->key_header)
        amp_cfg_wipe((char *)cfg->key_header->line, strlen(cfg->key_header->line));
    amp_arena_free(cfg->arena);
}
