/* The per-process configuration: load, validate, discover. Shared by the
 * library and the launcher; errors read "FILE:LINE: what is wrong". */
#ifndef AMPSHIM_CONFIG_H
#define AMPSHIM_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>

#include "curlapi.h"
#include "hostaddr.h"
#include "route.h"

/* What a call to a blocked route gets: an HTTP 429 answered here (the
 * default), a libcurl error at once, or a wait for the retry time. */
enum amp_on_block { AMP_ON_BLOCK_RESPOND, AMP_ON_BLOCK_FAIL, AMP_ON_BLOCK_WAIT };

struct amp_arena;
struct amp_state;

/* Everything a config holds lives in its arena (arena.h), freed whole. */
struct amp_config {
    struct amp_arena *arena;
    /* Who still uses it (the library: settings.c): the settings while it is
     * the current one, and each handle that holds it (struct amp_handle.cfg).
     * The last to let go frees it. */
    atomic_long refs;
    /* The library's: the rate-limit state file it names, opened on its
     * first routed transfer (ratelimit.c). A config that names another
     * one than the config before it is followed there. */
    struct amp_state *_Atomic state;
    char *path;
    /* libconfig parsed all of its text (an @include, an escape in a route):
     * its file's bytes alone do not say all it depends on. */
    int read_whole;
    char *proxy_url;          /* without a trailing slash */
    int proxy_plain_http;     /* http to a loopback relay (tests, local relays) */
    struct amp_host_addr proxy_addr; /* its host's address, when it is one by itself */
    int dry_run;              /* AMPSHIM_DRY_RUN=1: report, route nothing (set by the library) */
    char *project_id;
    char *api_key;
    char *api_key_origin;     /* "api_key", "api_key_env X", "api_key_file F" */
    char *rate_limiter_mode;  /* NULL: no header */
    struct amp_routes routes;
    struct {
        enum amp_on_block on_block;
        long max_wait;
        long default_backoff;
        long lockout_hold;
        char *state_file;
    } throttle;
    char **drop;              /* proxy.drop_headers: for every route */
    size_t ndrop;
    char **notes;             /* remarks `ampshim check` prints */
    size_t nnotes;
    /* The key's header (headers.h), shared by the routes: its line is
     * wiped with the key. The one way to find the key among a route's
     * headers is its secret mark. */
    const struct amp_header *key_header;
};

/* The systemd credential (LoadCredential=ampshim-api-key:PATH) read, when
 * $CREDENTIALS_DIRECTORY holds it, instead of proxy.api_key_file's path. */
#define AMP_KEY_CREDENTIAL "ampshim-api-key"

/* "respond", "fail" or "wait". */
const char *amp_on_block_name(enum amp_on_block mode);
/* What a call to a blocked route gets under cfg, for people (ampshim
 * route, a dry run's reports). */
void amp_on_block_sentence(const struct amp_config *cfg, char *buf, size_t len);

/* What a load gives. */
enum amp_load_status {
    AMP_LOAD_OK = 0,
    /* The config is wrong: a "FILE:LINE: what is wrong" sentence in err. */
    AMP_LOAD_INVALID = -1,
    /* The config or its api_key_file cannot be opened (missing, no
     * permission): trying again later may work. The sentence in err. */
    AMP_LOAD_UNOPENED = -2,
};

/* Load and validate path into *out (NULL unless AMP_LOAD_OK). What the
 * config keeps, and what the load needs while it runs, is mapped apart
 * from the malloc heap. Flags:
 *   AMP_CONFIG_ON_HEAP: taken from malloc instead (the fallback the library
 *     can be switched to, see settings.c);
 *   AMP_CONFIG_LIBCONFIG_ONLY: the routes list too parsed by libconfig
 *     (for the tests), as it is anyway when the list is not in the plain
 *     form (routelist.h); cfg->read_whole then says so. */
#define AMP_CONFIG_ON_HEAP 1
#define AMP_CONFIG_LIBCONFIG_ONLY 2
enum amp_load_status amp_config_load_ex(const char *path, const struct amp_curl *c, int flags,
                                        struct amp_config **out, char *err, size_t errlen);
/* The same, no flags: 0, or the status (< 0). */
int amp_config_load(const char *path, const struct amp_curl *c,
                    struct amp_config **out, char *err, size_t errlen);
/* Wipes the key and gives back all of the config's memory. */
void amp_config_free(struct amp_config *cfg);

/* The config file for program prog when AMPSHIM_CONFIG is unset (HOME and
 * XDG_CONFIG_HOME as the process started, env.h):
 * $XDG_CONFIG_HOME/ampshim, ~/.config/ampshim, /etc/ampshim, first
 * <prog>.cfg in each, then ampshim.cfg. 0 with the path in buf, -1 if none. */
int amp_config_discover(const char *prog, char *buf, size_t buflen);

#endif
