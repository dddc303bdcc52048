/* The launcher: `ampshim run|check|route|state|clear|stats|env`. A plain program
 * that links libcurl and libconfig itself; it never contains the hooks. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_providers.h"
#include "config.h"
#include "config_key.h"
#include "curlapi.h"
#include "catalog.h"
#include "exekind.h"
#include "explain.h"
#include "json.h"
#include "stats.h"
#include "wire.h"
#include "counts.h"
#include "log.h"
#include "nearhost.h"
#include "places.h"
#include "rescue.h"
#include "block.h"
#include "state.h"

/* Given by the Makefile: the version (from debian/changelog), the install
 * libdir, and the same libdir relative to the install bindir. */
#if !defined(AMPSHIM_VERSION) || !defined(AMPSHIM_LIBDIR) || !defined(AMPSHIM_LIBDIR_REL)
#error "build with the Makefile: AMPSHIM_VERSION, AMPSHIM_LIBDIR, AMPSHIM_LIBDIR_REL"
#endif

static const char usage[] =
    "usage: ampshim run [-c FILE] [--dry-run] [--] COMMAND [ARG...]\n"
    "       ampshim check [-c FILE] [--json]\n"
    "       ampshim route [-c FILE] [--json] URL\n"
    "       ampshim state [-c FILE] [--json]\n"
    "       ampshim clear [-c FILE] [ROUTE...]\n"
    "       ampshim stats [-c FILE] [--json | --prometheus | --reset] [--output FILE]\n"
    "       ampshim env [-c FILE] [--shell | --systemd | --docker]\n"
    "       ampshim --help | --version\n"
    "\n"
    "Routes a program's libcurl calls to provider APIs through the Ampersand proxy,\n"
    "without changing the program: matching URLs are rewritten to the proxy and the\n"
    "x-amp-* headers are added, as configured in FILE (libconfig).\n"
    "\n"
    "  run     check the config, then run COMMAND with libampshim.so preloaded\n"
    "          (AMPSHIM_CONFIG is exported so every child process reads the same file)\n"
    "          --dry-run: route nothing, add nothing; report on stderr each call that\n"
    "          would be routed (also AMPSHIM_DRY_RUN=1)\n"
    "  check   check the config and print what it routes (the API key masked)\n"
    "  route   say what would happen to a call to URL: which route matches and why the\n"
    "          nearest others do not, the URL the proxy receives, the headers added,\n"
    "          whether the route is blocked now; exit 0 when routed, 1 when not\n"
    "  state   list the routes Ampersand has rate limited or locked out, and until when\n"
    "  clear   forget those blocks: all, or the routes whose installation ID or\n"
    "          integration name is given\n"
    "  stats   per-route counters, over every process: calls routed, answers by class,\n"
    "          429s, calls blocked here, the last status; --prometheus: in Prometheus'\n"
    "          text format (node_exporter's textfile collector); --reset: all to zero\n"
    "  env     check the config, then print what runs a program with ampshim without\n"
    "          the launcher (LD_PRELOAD with the library's real path, AMPSHIM_CONFIG):\n"
    "          export lines for sh (--shell, the default), a systemd drop-in with\n"
    "          LoadCredential= for an api_key_file (--systemd), ENV lines (--docker)\n"
    "\n"
    "  -c FILE   the config; else $AMPSHIM_CONFIG; else the first of\n"
    "            $XDG_CONFIG_HOME/ampshim, ~/.config/ampshim, /etc/ampshim holding\n"
    "            <program>.cfg, then ampshim.cfg\n"
    "  --json    (check, route, state, stats) one JSON document on stdout instead of text,\n"
    "            the key masked, the same exit status; its shape: ampshim(1)\n"
    "\n"
    "Environment: AMPSHIM_CONFIG (config path), AMPSHIM_LOG=error|warn|info|debug,\n"
    "AMPSHIM_DRY_RUN=1 (as --dry-run).\n"
    "Exit status: run gives COMMAND's; 2 for a bad config, 127 when COMMAND cannot run;\n"
    "route 0 when routed, 1 when not.\n"
    "See ampshim(1) and ampshim.cfg(5).\n";

/* The version of the --json documents' shape (their "version" member):
 * raised only when a member changes meaning or goes; new members may come
 * without it. */
#define JSON_VERSION 1

/* What went wrong or deserves a warning, said on stderr in both forms and
 * kept for a --json document's "warnings" (the first few). */
#define MAX_WARNINGS 8
static char *warnings[MAX_WARNINGS];
static size_t nwarnings;

static void say(int warning, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(int warning, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return;
    fprintf(stderr, "ampshim: %s%s\n", warning ? "warning: " : "", msg);
    if (nwarnings < MAX_WARNINGS)
        warnings[nwarnings++] = msg;
    else
        free(msg);
}

static void json_warnings(struct amp_json *j)
{
    amp_json_array(j, "warnings");
    for (size_t i = 0; i < nwarnings; i++)
        amp_json_str(j, NULL, warnings[i]);
    amp_json_end(j);
}

/* The members every --json document starts with. */
static void json_head(struct amp_json *j, const char *cmd, int ok, const char *config)
{
    amp_json_object(j, NULL);
    amp_json_int(j, "version", JSON_VERSION);
    amp_json_str(j, "command", cmd);
    amp_json_bool(j, "ok", ok);
    amp_json_str(j, "config", config);
}

/* Ends a --json document; a failed write is said on stderr (the exit
 * status stays the command's, as in the text form). */
static int json_finish(struct amp_json *j, int rc)
{
    if (amp_json_finish(j) < 0)
        fprintf(stderr, "ampshim: could not write the JSON output\n");
    return rc;
}

/* The length of a "FILE:" prefix of a config error ("FILE:LINE: what" or
 * "FILE: what"; FILE the config or a file it includes), 0 when none. */
static size_t error_file_len(const char *err, const char *config)
{
    size_t n = config ? strlen(config) : 0;

    if (n && !strncmp(err, config, n) && err[n] == ':')
        return n;
    for (const char *p = strchr(err, ':'); p; p = strchr(p + 1, ':')) {
        size_t digits = strspn(p + 1, "0123456789");
        if (digits && !strncmp(p + 1 + digits, ": ", 2))
            return (size_t)(p - err);
    }
    const char *p = strstr(err, ": ");
    return p ? (size_t)(p - err) : 0;
}

/* A --json document for a command that could not start: no config, or a
 * bad one (err as the text form prints it). */
static int json_failure(const char *cmd, const char *config, const char *err, int has_file, int rc)
{
    struct amp_json j;
    size_t flen = has_file ? error_file_len(err, config) : 0;
    const char *msg = err + flen;
    long line = -1;

    amp_json_init(&j, stdout, 2);
    json_head(&j, cmd, 0, config);
    amp_json_object(&j, "error");
    if (flen) {
        char *end;
        amp_json_strn(&j, "file", err, flen);
        msg++;
        if (*msg >= '0' && *msg <= '9') {
            long n = strtol(msg, &end, 10);
            if (*end == ':') {
                line = n;
                msg = end + 1;
            }
        }
        msg += strspn(msg, " ");
    } else {
        amp_json_null(&j, "file");
    }
    if (line >= 0)
        amp_json_int(&j, "line", line);
    else
        amp_json_null(&j, "line");
    amp_json_str(&j, "message", msg);
    amp_json_str(&j, "text", err);
    amp_json_end(&j);
    json_warnings(&j);
    amp_json_end(&j);
    return json_finish(&j, rc);
}

/* The config path: -c, else AMPSHIM_CONFIG, else discovery for prog; on
 * failure -1 with the sentence in err. */
static int find_config_err(const char *given, const char *prog, char *buf, size_t len, char *err,
                           size_t errlen)
{
    const char *env = getenv("AMPSHIM_CONFIG");

    if (!given && env && *env)
        given = env;
    if (given) {
        snprintf(buf, len, "%s", given);
        return 0;
    }
    if (amp_config_discover(prog, buf, len) == 0)
        return 0;
    snprintf(err, errlen,
             "no config: give -c FILE, set AMPSHIM_CONFIG, or create ~/.config/ampshim/%s.cfg "
             "or ~/.config/ampshim/ampshim.cfg",
             prog);
    return -1;
}

static int find_config(const char *given, const char *prog, char *buf, size_t len)
{
    char err[512];

    if (find_config_err(given, prog, buf, len, err, sizeof(err)) == 0)
        return 0;
    fprintf(stderr, "ampshim: %s\n", err);
    return -1;
}

/* 1 when it warned. */
static int warn_key_files(const struct amp_config *cfg)
{
    char msg[2 * PATH_MAX + 128];

    if (!amp_cfg_key_exposed(cfg, msg, sizeof(msg)))
        return 0;
    say(1, "%s", msg);
    return 1;
}

/* The config at path, or NULL with the error printed (and, for --json,
 * a document saying it, for command cmd). */
static struct amp_config *load_for(const char *path, const char *cmd, int json)
{
    struct amp_config *cfg;
    char err[1024];

    if (amp_config_load(path, amp_curl_linked(), &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        if (json)
            json_failure(cmd, path, err, 1, 2);
        return NULL;
    }
    return cfg;
}

static struct amp_config *load(const char *path)
{
    return load_for(path, NULL, 0);
}

/* find_config() then load_for(): NULL, the error said, when either fails. */
static struct amp_config *find_and_load(const char *given, const char *cmd, int json, char *path,
                                        size_t len)
{
    char err[512];

    if (find_config_err(given, "ampshim", path, len, err, sizeof(err)) < 0) {
        fprintf(stderr, "ampshim: %s\n", err);
        if (json)
            json_failure(cmd, NULL, err, 0, 2);
        return NULL;
    }
    return load_for(path, cmd, json);
}

static void json_strings(struct amp_json *j, const char *key, char **v, size_t n)
{
    amp_json_array(j, key);
    for (size_t i = 0; i < n; i++)
        amp_json_str(j, NULL, v[i]);
    amp_json_end(j);
}

/* The key is masked where it belongs, and hidden wherever else it would
 * show (a URL or a path holding it) when it is long enough that hiding it
 * cannot garble the rest. */
static void json_hide_key(struct amp_json *j, const struct amp_config *cfg, char *masked, size_t len)
{
    amp_mask(cfg ? cfg->api_key : NULL, masked, len);
    if (cfg && cfg->api_key && strlen(cfg->api_key) >= 8)
        amp_json_hide(j, cfg->api_key, masked);
}

static int state_path(const struct amp_config *cfg, char *path, size_t len);

/* Where system services keep their configs: a config there is most likely
 * read by a unit, which systemd may give a private /tmp (PrivateTmp=yes:
 * every unit with ProtectSystem=strict, DynamicUser=yes, and many packaged
 * ones). Not any root-owned file outside /home: scratch configs in /tmp
 * are common, and warning on each would teach people to ignore it. */
static int system_config(const char *path)
{
    static const char *const dirs[] = { "/etc/", "/usr/local/etc/", "/opt/", "/srv/", "/var/" };
    char real[PATH_MAX];

    if (!realpath(path, real))
        return 0;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (!strncmp(real, dirs[i], strlen(dirs[i])))
            return 1;
    return 0;
}

/* A service's config without a state_file: its blocks and counters would
 * go to the default place, which a unit's private /tmp hides from
 * everyone else (`ampshim state` among them) and loses at each restart. */
static void warn_private_state(const struct amp_config *cfg)
{
    char name[256];
    const char *base = strrchr(cfg->path, '/');
    size_t len;

    if (cfg->throttle.state_file || !system_config(cfg->path))
        return;
    snprintf(name, sizeof(name), "%s", base ? base + 1 : cfg->path);
    len = strlen(name);
    if (len > 4 && !strcmp(name + len - 4, ".cfg"))
        name[len - 4] = '\0';
    say(1, "%s has no throttle.state_file: a system service using it (systemd PrivateTmp=yes) "
           "keeps its rate-limit state and counters in a private /tmp, where `ampshim state` "
           "and `stats` cannot see them; set state_file = \"/var/lib/ampshim/%s.state\" "
           "(and StateDirectory=ampshim in the unit)",
        cfg->path, name);
}

static void print_warning(const char *msg)
{
    say(1, "%s", msg);
}

static int cmd_check_json(struct amp_config *cfg)
{
    struct amp_json j;
    char masked[64], state[4096], mode[256];

    amp_json_init(&j, stdout, 2);
    json_hide_key(&j, cfg, masked, sizeof(masked));
    warn_key_files(cfg);
    warn_private_state(cfg);
    amp_near_hosts(cfg, print_warning);
    json_head(&j, "check", 1, cfg->path);
    amp_json_object(&j, "proxy");
    amp_json_str(&j, "url", cfg->proxy_url);
    amp_json_bool(&j, "plain_http", cfg->proxy_plain_http);
    amp_json_str(&j, "project_id", cfg->project_id);
    amp_json_str(&j, "api_key", masked);
    amp_json_str(&j, "api_key_from", cfg->api_key_origin);
    amp_json_str(&j, "rate_limiter_mode", cfg->rate_limiter_mode);
    json_strings(&j, "drop_headers", cfg->drop, cfg->ndrop);
    amp_json_end(&j);
    amp_json_object(&j, "throttle");
    amp_json_str(&j, "on_block", amp_on_block_name(cfg->throttle.on_block));
    amp_on_block_sentence(cfg, mode, sizeof(mode));
    amp_json_str(&j, "when_blocked", mode);
    amp_json_int(&j, "max_wait", cfg->throttle.max_wait);
    amp_json_int(&j, "default_backoff", cfg->throttle.default_backoff);
    amp_json_int(&j, "lockout_hold", cfg->throttle.lockout_hold);
    amp_json_str(&j, "state_file", state_path(cfg, state, sizeof(state)) == 0 ? state : NULL);
    amp_json_end(&j);
    amp_json_array(&j, "routes");
    for (size_t i = 0; i < cfg->routes.n; i++)
        amp_explain_route_json(&j, NULL, cfg, &cfg->routes.v[i]);
    amp_json_end(&j);
    json_strings(&j, "notes", cfg->notes, cfg->nnotes);
    json_warnings(&j);
    amp_json_end(&j);
    return json_finish(&j, 0);
}

static int cmd_check(const char *path, int json)
{
    struct amp_config *cfg = load_for(path, "check", json);
    char masked[64];

    if (!cfg)
        return 2;
    if (json) {
        int rc = cmd_check_json(cfg);
        amp_config_free(cfg);
        return rc;
    }
    amp_mask(cfg->api_key, masked, sizeof(masked));
    printf("config:  %s\n", cfg->path);
    printf("proxy:   %s\n", cfg->proxy_url);
    printf("project: %s\n", cfg->project_id);
    printf("api key: %s (from %s)\n", masked, cfg->api_key_origin);
    printf("rate limiter mode: %s\n", cfg->rate_limiter_mode ? cfg->rate_limiter_mode : "(none)");
    printf("throttle: on_block=%s max_wait=%lds default_backoff=%lds\n",
           amp_on_block_name(cfg->throttle.on_block), cfg->throttle.max_wait,
           cfg->throttle.default_backoff);
    printf("routes (%zu):\n", cfg->routes.n);
    for (size_t i = 0; i < cfg->routes.n; i++) {
        const struct amp_route *r = &cfg->routes.v[i];
        printf("  line %d: %s%s%s%s -> %s\n", r->line, r->base_url, r->provider ? " (" : "",
               r->provider ? r->provider : "", r->provider ? ")" : "", r->ident);
    }
    for (size_t i = 0; i < cfg->nnotes; i++)
        printf("note: %s\n", cfg->notes[i]);
    fflush(stdout);
    warn_key_files(cfg);
    warn_private_state(cfg);
    amp_near_hosts(cfg, print_warning);
    amp_config_free(cfg);
    return 0;
}

/* The shared state's path: the config's (throttle.state_file), else the
 * default. 0, or -1 when there is none. */
static int state_path(const struct amp_config *cfg, char *path, size_t len)
{
    *path = '\0';
    if (cfg && cfg->throttle.state_file) {
        snprintf(path, len, "%s", cfg->throttle.state_file);
        return 0;
    }
    return amp_state_default_path(path, len) < 0 ? -1 : 0;
}

/* The state at path (read, never made); NULL when there is none yet or it
 * cannot be opened (said). */
static struct amp_state *open_state_at(const char *path)
{
    char err[512];

    if (access(path, F_OK) < 0)
        return NULL;
    struct amp_state *st = amp_state_open(path, err, sizeof(err));
    if (!st)
        say(0, "%s", err);
    return st;
}

/* The shared state named by the config (throttle.state_file), else the
 * default; NULL when there is none yet. */
static struct amp_state *open_state(const struct amp_config *cfg, char *path, size_t len)
{
    amp_state_set_warn(print_warning); /* the default folder may say where it is */
    if (state_path(cfg, path, len) < 0)
        return NULL;
    return open_state_at(path);
}

/* What `state`, `stats` and `clear` know of the config: its routes (it
 * loaded), what its text still says (it did not: rescue.h), or nothing
 * (no config). */
struct known {
    const struct amp_config *cfg;
    struct amp_rescue rescue;
    int broken;       /* a config was given but did not load */
    const char *path; /* the config's path, NULL when none */
};

static const char *known_state_file(const struct known *k)
{
    return k->cfg ? k->cfg->throttle.state_file : k->broken ? k->rescue.state_file : NULL;
}

static const struct amp_route *known_route(const struct known *k, uint64_t key)
{
    for (size_t i = 0; k->cfg && i < k->cfg->routes.n; i++)
        if (k->cfg->routes.v[i].key == key)
            return &k->cfg->routes.v[i];
    return NULL;
}

/* An installation ID or integration name of the broken config's text. */
static int rescued_id(const struct known *k, const char *id, const char *project)
{
    for (size_t i = 0; i < k->rescue.nids; i++)
        if (strcmp(k->rescue.ids[i], id) == 0 &&
            (!project || !k->rescue.project || strcmp(k->rescue.project, project) == 0))
            return 1;
    return 0;
}

/* Whether a block belongs to this config's routes: by key; for a broken
 * config, by the IDs its text names; every block when nothing is known. */
static int known_block(const struct known *k, const struct amp_block *b)
{
    if (k->cfg)
        return known_route(k, b->key) != NULL;
    if (k->broken && k->rescue.nids)
        return rescued_id(k, b->id, b->project);
    return 1;
}

/* The same for a counters record ("base URL (installation ID)" or
 * "(integration NAME group REF)" by name). */
static int known_counts(const struct known *k, const struct amp_counts *c)
{
    if (k->cfg)
        return known_route(k, c->key) != NULL;
    if (k->broken && k->rescue.nids) {
        const char *open = strrchr(c->name, '(');
        char id[sizeof(c->name)];
        if (!open || sscanf(open, "(%*s %111[^ )]", id) != 1)
            return 0;
        return rescued_id(k, id, NULL);
    }
    return 1;
}

/* The route a block was recorded for: the config's route with its key
 * that got the 429 (else the first with its key); NULL when none. */
static const char *route_for(const struct amp_config *cfg, const struct amp_block *b)
{
    const char *first = NULL;

    for (size_t i = 0; cfg && i < cfg->routes.n; i++)
        if (cfg->routes.v[i].key == b->key) {
            if (amp_block_by_route(b, cfg->routes.v[i].base_url))
                return cfg->routes.v[i].base_url;
            if (!first)
                first = cfg->routes.v[i].base_url;
        }
    return first;
}

/* Where to look: the config's state_file alone, else every default place
 * (places.h), other users' too when a config names the routes to look
 * for, only this process's default without one. */
static int find_places(const struct known *k, struct amp_place **places, size_t *n)
{
    amp_state_set_warn(print_warning); /* the default folder may say where it is */
    if (amp_places_find(known_state_file(k), k->path != NULL, places, n) < 0) {
        say(0, "no place for the state (no state file path)");
        return -1;
    }
    if (!k->path && *n > 1)
        *n = 1;
    return 0;
}

/* Every active block of a place (read as its owner). */
static void place_blocks(const struct amp_place *p, int64_t now, struct amp_block **v, size_t *n)
{
    char err[512];
    struct amp_state *st;

    *v = NULL;
    *n = 0;
    if (amp_places_enter(p, err, sizeof(err)) < 0) {
        say(0, "%s", err);
        return;
    }
    st = open_state_at(p->path);
    if (st && amp_state_list(st, now, v, n) < 0)
        say(0, "could not read all of %s", p->path);
    amp_state_close(st);
    amp_places_leave(p);
}

/* A place is shown when it is the first, or holds something of the
 * config's routes. */
static int place_shown(const struct known *k, const struct amp_place *p, const struct amp_block *v,
                       size_t n)
{
    for (size_t i = 0; !p->first && i < n; i++)
        if (known_block(k, &v[i]))
            return 1;
    return p->first;
}

enum stats_how { STATS_TABLE, STATS_JSON, STATS_PROMETHEUS, STATS_RESET };

/* The counters of a place (read as its owner): 0, or -1 said. */
static int place_counts(const struct amp_place *p, struct amp_counts **c, size_t *n)
{
    char path[4096 + 16], err[512];
    int rc = 0;

    *c = NULL;
    *n = 0;
    if (amp_counts_path(p->path, path, sizeof(path)) < 0 || access(path, F_OK) < 0)
        return 0;
    if (amp_places_enter(p, err, sizeof(err)) < 0 || amp_counts_read(path, c, n, err, sizeof(err)) < 0) {
        say(0, "%s", err);
        rc = -1;
    }
    amp_places_leave(p);
    return rc;
}

/* stdout, or a new file beside `--output FILE` renamed over it at the
 * end, so that a reader (node_exporter's textfile collector) never sees
 * half of it. */
struct output {
    FILE *f;
    const char *path;
    char tmp[PATH_MAX + 16];
};

static int output_open(struct output *o, const char *path)
{
    o->f = stdout;
    o->path = path;
    if (!path)
        return 0;
    int n = snprintf(o->tmp, sizeof(o->tmp), "%s.XXXXXX", path);
    int fd = n > 0 && n < (int)sizeof(o->tmp) ? mkstemp(o->tmp) : -1;
    int bad = fd < 0 || fchmod(fd, 0644) < 0;
    if (!bad) {
        o->f = fdopen(fd, "w");
        bad = !o->f;
    }
    if (bad) {
        say(0, "cannot write beside %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(o->tmp);
        }
        return -1;
    }
    return 0;
}

static int output_close(struct output *o, int rc)
{
    if (!o->path)
        return rc;
    int bad = fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) < 0;
    bad |= fclose(o->f) != 0;
    if (rc != 0 || bad || rename(o->tmp, o->path) < 0) {
        if (rc == 0)
            say(0, "cannot write %s: %s", o->path, strerror(errno));
        unlink(o->tmp);
        return rc ? rc : 2;
    }
    return 0;
}

/* The per-route counters beside each state (counts.h): read, never made. */
static int cmd_stats(const struct known *k, enum stats_how how, const char *output)
{
    const struct amp_config *cfg = k->cfg;
    struct amp_place *places = NULL;
    struct amp_stats_row *rows = NULL;
    size_t nplaces = 0, nrows = 0, shown = 0;
    char path[4096 + 16], err[512];
    struct output out;
    int rc = 0;

    if (find_places(k, &places, &nplaces) < 0)
        return how == STATS_JSON ? json_failure("stats", k->path, "no place for the counters", 0, 2) : 2;
    /* The places shown, and their rows: places[0..shown). */
    for (size_t p = 0; p < nplaces; p++) {
        struct amp_counts *c;
        size_t n, mine = 0;
        if (place_counts(&places[p], &c, &n) < 0 && places[p].first)
            rc = 2;
        for (size_t i = 0; i < n; i++)
            mine |= known_counts(k, &c[i]);
        if (!places[p].first && !mine) {
            free(c);
            continue;
        }
        places[shown] = places[p];
        struct amp_stats_row *more = realloc(rows, (nrows + n + 1) * sizeof(*rows));
        if (!more) {
            free(c);
            rc = 2;
            break;
        }
        rows = more;
        for (size_t i = 0; i < n; i++) {
            struct amp_stats_row *r = &rows[nrows++];
            const struct amp_route *route = known_route(k, c[i].key);
            memset(r, 0, sizeof(*r));
            r->c = c[i];
            r->place = &places[shown]; /* places[0..p] no longer move */
            if (route) {
                r->proxy = cfg->proxy_url;
                r->project = cfg->project_id;
                r->installation = route->installation_id;
                r->integration = route->installation_id ? NULL : route->integration_name;
                r->group = route->installation_id ? NULL : route->group_ref;
            }
        }
        shown++;
        free(c);
    }
    if (rc) {
        free(rows);
        free(places);
        return how == STATS_JSON ? json_failure("stats", k->path, "cannot read the counters", 0, 2) : 2;
    }
    if (how == STATS_RESET) {
        for (size_t p = 0; p < shown; p++) {
            char whose[128];
            if (amp_counts_path(places[p].path, path, sizeof(path)) < 0)
                continue;
            amp_places_whose(&places[p], whose, sizeof(whose));
            int there = access(path, F_OK) == 0;
            if (there && (amp_places_enter(&places[p], err, sizeof(err)) < 0 ||
                          amp_counts_reset(path, err, sizeof(err)) < 0)) {
                say(0, "%s", err);
                rc = 2;
            } else if (there || places[p].first) {
                printf("counters reset: %s (recorded by %s)\n", path, whose);
            }
            if (there)
                amp_places_leave(&places[p]);
        }
        free(rows);
        free(places);
        return rc;
    }
    if (output_open(&out, output) < 0) {
        free(rows);
        free(places);
        return 2;
    }
    if (how == STATS_PROMETHEUS) {
        amp_stats_prometheus(out.f, rows, nrows);
    } else if (how == STATS_TABLE) {
        amp_stats_table(out.f, places, shown, rows, nrows);
    } else {
        struct amp_json j;
        char key[20];
        amp_json_init(&j, out.f, 2);
        json_head(&j, "stats", 1, k->path);
        amp_counts_path(places[0].path, path, sizeof(path));
        amp_json_str(&j, "counts_file", path);
        amp_json_array(&j, "routes");
        for (size_t i = 0; i < nrows; i++) {
            const struct amp_counts *c = &rows[i].c;
            amp_json_object(&j, NULL);
            snprintf(key, sizeof(key), "%016llx", (unsigned long long)c->key);
            amp_json_str(&j, "key", key);
            amp_json_str(&j, "route", c->name);
            amp_json_int(&j, "routed", (long long)c->routed);
            amp_json_object(&j, "answers");
            for (int a = 0; a < AMP_CLASSES; a++)
                amp_json_int(&j, amp_class_name(a), (long long)c->answers[a]);
            amp_json_end(&j);
            amp_json_int(&j, "status_429", (long long)c->status429);
            amp_json_int(&j, "blocked", (long long)c->blocked);
            if (c->last_status) {
                amp_json_int(&j, "last_status", c->last_status);
                amp_json_time(&j, "last_at", "last_at_utc", c->last_at);
            } else {
                amp_json_null(&j, "last_status");
                amp_json_null(&j, "last_at");
                amp_json_null(&j, "last_at_utc");
            }
            amp_counts_path(rows[i].place->path, path, sizeof(path));
            amp_json_str(&j, "counts_file", path);
            amp_json_str(&j, "user", rows[i].place->user);
            amp_json_int(&j, "uid", (long long)rows[i].place->uid);
            amp_json_end(&j);
        }
        amp_json_end(&j);
        json_warnings(&j);
        amp_json_end(&j);
        if (amp_json_finish(&j) < 0 && !output)
            fprintf(stderr, "ampshim: could not write the JSON output\n");
    }
    rc = output_close(&out, 0);
    free(rows);
    free(places);
    return rc;
}

static void json_place(struct amp_json *j, const struct amp_place *p)
{
    amp_json_str(j, "state_file", p->path);
    amp_json_str(j, "user", p->user);
    amp_json_int(j, "uid", (long long)p->uid);
}

static int cmd_state(const struct known *k, int json)
{
    const struct amp_config *cfg = k->cfg;
    struct amp_place *places = NULL;
    size_t nplaces = 0;
    int64_t now = (int64_t)time(NULL);
    struct amp_json j;
    char masked[64], line[1024], whose[128];

    if (find_places(k, &places, &nplaces) < 0 && json)
        return json_failure("state", k->path, "no place for the state", 0, 2);
    if (json) {
        amp_json_init(&j, stdout, 2);
        json_hide_key(&j, cfg, masked, sizeof(masked));
        json_head(&j, "state", 1, k->path);
        amp_json_str(&j, "state_file", nplaces ? places[0].path : NULL);
        amp_json_int(&j, "now", (long long)now);
        amp_json_array(&j, "blocks");
    } else if (!nplaces) {
        printf("state file: (none)\nno route is blocked\n");
    }
    for (size_t p = 0; p < nplaces; p++) {
        struct amp_block *v;
        size_t n;
        place_blocks(&places[p], now, &v, &n);
        if (!place_shown(k, &places[p], v, n)) {
            free(v);
            continue;
        }
        amp_places_whose(&places[p], whose, sizeof(whose));
        if (!json) {
            printf("state file: %s (recorded by %s)\n", places[p].path, whose);
            if (n == 0)
                printf("no route is blocked\n");
        }
        for (size_t i = 0; i < n; i++) {
            const char *route = route_for(cfg, &v[i]);
            if (json) {
                amp_json_object(&j, NULL);
                amp_explain_block_members(&j, &v[i], route, now);
                amp_json_str(&j, "recorded_route", v[i].route[0] ? v[i].route : NULL);
                json_place(&j, &places[p]);
                amp_json_end(&j);
                continue;
            }
            char at[40], shown_route[128];
            if (!route && v[i].route[0])
                snprintf(shown_route, sizeof(shown_route), "%s", v[i].route);
            else
                snprintf(shown_route, sizeof(shown_route), "%s", route ? route : "(not in this config)");
            amp_block_utc(v[i].recorded_at, at, sizeof(at));
            amp_block_describe(&v[i], shown_route, now, line, sizeof(line));
            printf("%s %s\n  %s\n  proxy %s, project %s, recorded %s (%llds ago) by %s\n",
                   (v[i].flags & AMP_BLOCK_LOCKED) ? "LOCKED " : "blocked", v[i].id, line, v[i].proxy,
                   v[i].project, at, (long long)(now - v[i].recorded_at), whose);
        }
        free(v);
    }
    free(places);
    if (!json)
        return 0;
    amp_json_end(&j);
    json_warnings(&j);
    amp_json_end(&j);
    return json_finish(&j, 0);
}

struct names {
    const struct known *k;
    char **v;
    int n;
    int *used;
};

/* The blocks clear forgets: those named (by ID), else this config's. */
static int named(const struct amp_block *b, void *arg)
{
    struct names *names = arg;

    if (!names->n)
        return known_block(names->k, b);
    for (int i = 0; i < names->n; i++)
        if (strcmp(b->id, names->v[i]) == 0) {
            names->used[i] = 1;
            return 1;
        }
    return 0;
}

static int cmd_clear(const struct known *k, char **routes, int nroutes)
{
    struct amp_place *places = NULL;
    size_t nplaces = 0;
    int used[nroutes > 0 ? nroutes : 1], rc = 0;
    struct names names = { k, routes, nroutes, used };
    int64_t now = (int64_t)time(NULL);
    char err[512], whose[128];

    memset(used, 0, sizeof(used));
    if (find_places(k, &places, &nplaces) < 0)
        return 2;
    for (size_t p = 0; p < nplaces; p++) {
        struct amp_block *v;
        size_t n, removed = 0, mine = 0;
        place_blocks(&places[p], now, &v, &n);
        for (size_t i = 0; i < n; i++)
            mine |= named(&v[i], &names);
        free(v);
        /* Another place only for blocks named, or known to be the config's:
         * a config that says nothing of its routes clears no one else's. */
        if (!places[p].first && (!mine || (!nroutes && !k->cfg && !k->rescue.nids)))
            continue;
        amp_places_whose(&places[p], whose, sizeof(whose));
        if (amp_places_enter(&places[p], err, sizeof(err)) < 0) {
            say(0, "%s", err);
            rc = 1;
            continue;
        }
        struct amp_state *st = open_state_at(places[p].path);
        if (st && amp_state_clear(st, named, &names, &removed) < 0) {
            fprintf(stderr, "ampshim: could not update %s\n", places[p].path);
            rc = 1;
        }
        amp_state_close(st);
        amp_places_leave(&places[p]);
        printf("cleared %zu blocked route%s in %s (recorded by %s)\n", removed, removed == 1 ? "" : "s",
               places[p].path, whose);
    }
    free(places);
    for (int i = 0; i < nroutes; i++)
        if (!used[i]) {
            fprintf(stderr, "ampshim: no block recorded for '%s' (an installation ID or integration name)\n",
                    routes[i]);
            rc = 1;
        }
    return rc;
}

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

/* The folder of libampshim.so, with the provider catalog beside it: the
 * launcher's own folder (a build tree), else the libdir where it lies from
 * the launcher when installed (bin/../lib/ampshim: a DESTDIR tree, an
 * unpacked package), else the install libdir; never the current directory
 * (proxychains-ng's CVE-2015-3887). NULL when none holds the library. */
static const char *lib_dir(void)
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

/* The provider catalog, beside the library as the library finds it. */
static void set_catalog_path(void)
{
    char file[PATH_MAX + 32];
    const char *dir = lib_dir();

    snprintf(file, sizeof(file), "%s/providers.cfg", dir ? dir : AMPSHIM_LIBDIR);
    amp_catalog_set_path(file);
}

static int find_library(char *buf, size_t len)
{
    const char *dir = lib_dir();
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

static int cmd_route(const struct amp_config *cfg, const char *url, int json)
{
    char path[4096];
    struct amp_state *st = open_state(cfg, path, sizeof(path));
    int rc;

    if (json) {
        struct amp_json j;
        char masked[64];
        amp_json_init(&j, stdout, 2);
        json_hide_key(&j, cfg, masked, sizeof(masked));
        json_head(&j, "route", 1, cfg->path);
        rc = amp_explain_json(cfg, st, url, &j);
        json_warnings(&j);
        amp_json_end(&j);
        rc = json_finish(&j, rc);
    } else {
        rc = amp_explain(cfg, st, url, stdout);
    }
    amp_state_close(st);
    return rc;
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
        say(1, "%s is a Go program: Go makes its HTTP calls itself, never through libcurl, so "
               "ampshim cannot route them; running it anyway", file);
        break;
    case AMP_EXE_STATIC:
        say(1, "%s is statically linked: no dynamic loader starts it, so LD_PRELOAD cannot put "
               "ampshim in it and its calls cannot be routed; running it anyway", file);
        break;
    default:
        break;
    }
}

/* The config's path made absolute, for the children that change folder:
 * its folder resolved, the file's own name kept as given, symlink or not
 * (a secret mount swaps one, and the library reads the config again when
 * what the name leads to changes). 0, or -1 with the error said. */
static int absolute_config(const char *path, char *abs, size_t len)
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

/* `ampshim env`: what a unit, a shell or a Dockerfile needs, for a config
 * that loads (checked first, as for run), with the library the launcher
 * would preload, by its real path. */
static int cmd_env(const char *path, enum amp_wire_form form)
{
    char lib[2 * PATH_MAX], real[PATH_MAX], abs[PATH_MAX];
    struct amp_config *cfg, *again = NULL;

    if (absolute_config(path, abs, sizeof(abs)) < 0)
        return 2;
    cfg = load(path);
    if (!cfg)
        return 2;
    /* Loaded by the absolute path the library will be given: a relative
     * api_key_file then reads absolute too. */
    if (strcmp(path, abs) != 0) {
        again = load(abs);
        if (!again) {
            amp_config_free(cfg);
            return 2;
        }
    }
    int rc = 0;
    if (find_library(lib, sizeof(lib)) < 0)
        rc = 127;
    else
        amp_wire_print(stdout, form, realpath(lib, real) ? real : lib, abs, again ? again : cfg);
    if (!rc && fflush(stdout) != 0) {
        fprintf(stderr, "ampshim: could not write the output\n");
        rc = 1;
    }
    amp_config_free(again);
    amp_config_free(cfg);
    return rc;
}

static int cmd_run(const char *path, char **argv, int dry_run)
{
    char lib[2 * PATH_MAX], abs[PATH_MAX];
    struct amp_config *cfg = load(path);

    if (!cfg)
        return 2;
    /* Said here once: the library in each process it starts is told so. */
    if (warn_key_files(cfg) && setenv("AMPSHIM_KEY_WARNED", "1", 1) < 0) {
        amp_config_free(cfg);
        return 127;
    }
    amp_config_free(cfg);
    if (absolute_config(path, abs, sizeof(abs)) < 0)
        return 2;
    if (find_library(lib, sizeof(lib)) < 0)
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
    return 127;
}

int main(int argc, char **argv)
{
    const char *cfgfile = NULL, *output = NULL;
    char path[PATH_MAX];
    int i = 2, dry_run = 0, json = 0, env_form_given = 0;
    enum amp_wire_form env_form = AMP_WIRE_SHELL;
    enum stats_how stats_how = STATS_TABLE;

    set_catalog_path();
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("ampshim %s\n", AMPSHIM_VERSION);
        return 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "providers"))
        return amp_cmd_providers(argc - 1, argv + 1);
    if (strcmp(cmd, "run") != 0 && strcmp(cmd, "check") != 0 && strcmp(cmd, "state") != 0 &&
        strcmp(cmd, "clear") != 0 && strcmp(cmd, "route") != 0 && strcmp(cmd, "stats") != 0 &&
        strcmp(cmd, "env") != 0) {
        fprintf(stderr, "ampshim: unknown command '%s'\n\n%s", cmd, usage);
        return 2;
    }
    while (i < argc && argv[i][0] == '-') {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            cfgfile = argv[i + 1];
            i += 2;
        } else if (!strncmp(argv[i], "--config=", 9)) {
            cfgfile = argv[i++] + 9;
        } else if (!strcmp(cmd, "run") && !strcmp(argv[i], "--dry-run")) {
            dry_run = 1;
            i++;
        } else if (strcmp(cmd, "run") != 0 && strcmp(cmd, "clear") != 0 && strcmp(cmd, "env") != 0 &&
                   !strcmp(argv[i], "--json")) {
            json = 1;
            i++;
        } else if (!strcmp(cmd, "env") && (!strcmp(argv[i], "--shell") || !strcmp(argv[i], "--systemd") ||
                                           !strcmp(argv[i], "--docker"))) {
            if (env_form_given++) {
                fprintf(stderr, "ampshim: env: --shell, --systemd and --docker go alone\n");
                return 2;
            }
            env_form = argv[i][2] == 's' ? (argv[i][3] == 'h' ? AMP_WIRE_SHELL : AMP_WIRE_SYSTEMD)
                                         : AMP_WIRE_DOCKER;
            i++;
        } else if (!strcmp(cmd, "stats") && !strcmp(argv[i], "--prometheus")) {
            stats_how = STATS_PROMETHEUS;
            i++;
        } else if (!strcmp(cmd, "stats") && !strcmp(argv[i], "--reset")) {
            stats_how = STATS_RESET;
            i++;
        } else if (!strcmp(cmd, "stats") && (!strcmp(argv[i], "--output") || !strcmp(argv[i], "-o")) &&
                   i + 1 < argc) {
            output = argv[i + 1];
            i += 2;
        } else if (!strcmp(cmd, "stats") && !strncmp(argv[i], "--output=", 9)) {
            output = argv[i++] + 9;
        } else {
            fprintf(stderr, "ampshim: %s: unknown option '%s'\n\n%s", cmd, argv[i], usage);
            return 2;
        }
    }
    if (!strcmp(cmd, "state") || !strcmp(cmd, "clear") || !strcmp(cmd, "stats")) {
        /* Without any config, the default state file still answers; with a
         * config that does not load, what its text still says. */
        struct known k = { 0 };
        struct amp_config *cfg = NULL;
        const char *env = getenv("AMPSHIM_CONFIG");
        char err[1024];
        if (strcmp(cmd, "clear") != 0 && i < argc) {
            fprintf(stderr, "ampshim: %s takes no arguments\n", cmd);
            return 2;
        }
        if (json && stats_how != STATS_TABLE) {
            fprintf(stderr, "ampshim: stats: --json, --prometheus and --reset go alone\n");
            return 2;
        }
        if (output && (strcmp(cmd, "stats") != 0 || stats_how == STATS_RESET)) {
            fprintf(stderr, "ampshim: --output goes with stats (and not with --reset)\n");
            return 2;
        }
        if (cfgfile || (env && *env) || amp_config_discover("ampshim", path, sizeof(path)) == 0) {
            if (find_config_err(cfgfile, "ampshim", path, sizeof(path), err, sizeof(err)) < 0) {
                fprintf(stderr, "ampshim: %s\n", err);
                return json ? json_failure(cmd, NULL, err, 0, 2) : 2;
            }
            k.path = path;
            if (amp_config_load(path, amp_curl_linked(), &cfg, err, sizeof(err)) < 0) {
                k.broken = 1;
                amp_rescue_read(path, &k.rescue);
                say(1, "the config does not load (%s): going by what it still says%s", err,
                    k.rescue.nids ? "" : ", every recorded route shown");
            }
            k.cfg = cfg;
        }
        int rc = !strcmp(cmd, "state")   ? cmd_state(&k, json)
                 : !strcmp(cmd, "stats") ? cmd_stats(&k, json ? STATS_JSON : stats_how, output)
                                         : cmd_clear(&k, argv + i, argc - i);
        amp_rescue_free(&k.rescue);
        amp_config_free(cfg);
        return rc;
    }
    if (!strcmp(cmd, "route")) {
        if (i + 1 != argc) {
            fprintf(stderr, "ampshim: route takes one URL\n\n%s", usage);
            return 2;
        }
        struct amp_config *cfg = find_and_load(cfgfile, "route", json, path, sizeof(path));
        if (!cfg)
            return 2;
        int rc = cmd_route(cfg, argv[i], json);
        amp_config_free(cfg);
        return rc;
    }
    if (!strcmp(cmd, "env")) {
        if (i < argc) {
            fprintf(stderr, "ampshim: env takes no arguments\n");
            return 2;
        }
        if (find_config(cfgfile, "ampshim", path, sizeof(path)) < 0)
            return 2;
        return cmd_env(path, env_form);
    }
    if (!strcmp(cmd, "check")) {
        if (i < argc) {
            fprintf(stderr, "ampshim: check takes no arguments\n");
            return 2;
        }
        char err[512];
        if (find_config_err(cfgfile, "ampshim", path, sizeof(path), err, sizeof(err)) < 0) {
            fprintf(stderr, "ampshim: %s\n", err);
            return json ? json_failure("check", NULL, err, 0, 2) : 2;
        }
        return cmd_check(path, json);
    }
    if (i >= argc) {
        fprintf(stderr, "ampshim: run: no COMMAND given\n\n%s", usage);
        return 2;
    }
    const char *prog = strrchr(argv[i], '/');
    prog = prog ? prog + 1 : argv[i];
    if (find_config(cfgfile, prog, path, sizeof(path)) < 0)
        return 2;
    return cmd_run(path, argv + i, dry_run);
}
