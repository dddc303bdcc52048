/* `ampshim state` and `ampshim clear`: the blocks Ampersand's 429s left in
 * the shared state, listed with whose they are, and forgotten. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "block.h"
#include "cli.h"
#include "commands.h"
#include "explain.h"
#include "json.h"
#include "known.h"
#include "places.h"
#include "state.h"

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

/* A place is shown when it is the first, or holds something of the
 * config's routes. */
static int place_shown(const struct known *k, const struct amp_place *p, const struct amp_block *v,
                       size_t n)
{
    for (size_t i = 0; !p->first && i < n; i++)
        if (amp_known_block(k, &v[i]))
            return 1;
    return p->first;
}

static void json_place(struct amp_json *j, const struct amp_place *p)
{
    amp_json_str(j, "state_file", p->path);
    amp_json_str(j, "user", p->user);
    amp_json_int(j, "uid", (long long)p->uid);
}

static void print_block(const struct amp_block *b, const char *route, const char *whose, int64_t now)
{
    char at[40], shown_route[128], line[1024], ago[96];

    if (!route && b->route[0])
        snprintf(shown_route, sizeof(shown_route), "%s", b->route);
    else
        snprintf(shown_route, sizeof(shown_route), "%s", route ? route : "(not in this config)");
    amp_block_utc(b->recorded_at, at, sizeof(at));
    amp_block_describe(b, shown_route, now, line, sizeof(line));
    /* Only a lock-out until `ampshim clear` is still listed when it was
     * recorded ahead of the clock (block.c): "-86400s ago" would read as
     * nonsense, the clock set back since says why. */
    if (b->recorded_at > now)
        snprintf(ago, sizeof(ago), "%llds ahead of the clock: it was set back since",
                 (long long)amp_block_secs_between(now, b->recorded_at));
    else
        snprintf(ago, sizeof(ago), "%llds ago", (long long)amp_block_secs_between(b->recorded_at, now));
    printf("%s %s\n  %s\n  proxy %s, project %s, recorded %s (%s) by %s\n",
           (b->flags & AMP_BLOCK_LOCKED) ? "LOCKED " : "blocked", b->id, line, b->proxy, b->project, at,
           ago, whose);
}

static int state(const struct known *k, int json)
{
    const struct amp_config *cfg = k->cfg;
    struct amp_place *places = NULL;
    size_t nplaces = 0;
    int64_t now = (int64_t)time(NULL);
    struct amp_json j;
    char masked[64], whose[128];

    if (amp_known_places(k, &places, &nplaces) < 0 && json)
        return amp_cli_json_failure("state", k->path, "no place for the state", 0, 2);
    if (json) {
        amp_json_init(&j, stdout, 2);
        amp_cli_json_hide_key(&j, cfg, masked, sizeof(masked));
        amp_cli_json_head(&j, "state", 1, k->path);
        amp_json_str(&j, "state_file", nplaces ? places[0].path : NULL);
        amp_json_int(&j, "now", (long long)now);
        amp_json_array(&j, "blocks");
    } else if (!nplaces) {
        printf("state file: (none)\nno route is blocked\n");
    }
    for (size_t p = 0; p < nplaces; p++) {
        struct amp_block *v;
        size_t n;
        amp_known_place_blocks(&places[p], now, &v, &n);
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
            if (!json) {
                print_block(&v[i], route, whose, now);
                continue;
            }
            amp_json_object(&j, NULL);
            amp_explain_block_members(&j, &v[i], route, now);
            amp_json_str(&j, "recorded_route", v[i].route[0] ? v[i].route : NULL);
            json_place(&j, &places[p]);
            amp_json_end(&j);
        }
        free(v);
    }
    free(places);
    if (!json)
        return 0;
    amp_json_end(&j);
    amp_cli_json_warnings(&j);
    amp_json_end(&j);
    return amp_cli_json_finish(&j, 0);
}

/* The blocks clear forgets: those named (by ID), else this config's. Only
 * those in force are counted, and only they make a name found: a record
 * that has run out stops nothing, `state` does not list it, and saying it
 * was cleared would contradict what the operator just read. It goes all
 * the same (it is of no use), uncounted. */
struct names {
    const struct known *k;
    char **v;
    int n;
    int *used;
    int64_t now;
    size_t live; /* the blocks in force among those removed */
};

static int named(const struct amp_block *b, void *arg)
{
    struct names *names = arg;
    int live = amp_block_active(b, names->now), match = !names->n && amp_known_block(names->k, b);

    for (int i = 0; i < names->n && !match; i++)
        if (strcmp(b->id, names->v[i]) == 0) {
            names->used[i] |= live;
            match = 1;
        }
    names->live += match && live;
    return match;
}

static int clear(const struct known *k, char **routes, int nroutes)
{
    struct amp_place *places = NULL;
    size_t nplaces = 0;
    int used[nroutes > 0 ? nroutes : 1], rc = 0;
    struct names names = { k, routes, nroutes, used, (int64_t)time(NULL), 0 };
    char err[512], whose[128];

    memset(used, 0, sizeof(used));
    if (amp_known_places(k, &places, &nplaces) < 0)
        return 2;
    for (size_t p = 0; p < nplaces; p++) {
        struct amp_block *v;
        size_t n, mine = 0;
        amp_known_place_blocks(&places[p], names.now, &v, &n);
        for (size_t i = 0; i < n; i++)
            mine |= named(&v[i], &names);
        free(v);
        /* Another place only for blocks named, or known to be the config's:
         * a config that says nothing of its routes clears no one else's. */
        if (!places[p].first && (!mine || (!nroutes && !k->cfg && !k->rescue.nids)))
            continue;
        amp_places_whose(&places[p], whose, sizeof(whose));
        if (amp_places_enter(&places[p], err, sizeof(err)) < 0) {
            amp_cli_say(0, "%s", err);
            rc = 1;
            continue;
        }
        struct amp_state *st = amp_known_open_at(places[p].path);
        names.live = 0;
        if (st && amp_state_clear(st, named, &names, NULL) < 0) {
            fprintf(stderr, "ampshim: could not update %s\n", places[p].path);
            rc = 1;
        }
        amp_state_close(st);
        amp_places_leave(&places[p]);
        printf("cleared %zu blocked route%s in %s (recorded by %s)\n", names.live,
               names.live == 1 ? "" : "s", places[p].path, whose);
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

int amp_cmd_state(int argc, char **argv)
{
    char path[PATH_MAX];
    struct amp_opts o = { 0 };
    struct known k;
    int rc = 0;

    if (amp_options(argc, argv, ":c:h", amp_opts_json_config, &o, NULL, &rc) == AMP_OPT_EXIT)
        return rc;
    if (optind < argc)
        return amp_usage_error(argv[0], "takes no arguments, not '%s'", argv[optind]);
    rc = amp_known_load(&k, o.config, "state", o.json, path, sizeof(path));
    if (rc == 0)
        rc = state(&k, o.json);
    amp_known_free(&k);
    return rc;
}

int amp_cmd_clear(int argc, char **argv)
{
    char path[PATH_MAX];
    struct amp_opts o = { 0 };
    struct known k;
    int rc = 0;

    if (amp_options(argc, argv, ":c:h", AMP_OPTS_CONFIG, &o, NULL, &rc) == AMP_OPT_EXIT)
        return rc;
    rc = amp_known_load(&k, o.config, "clear", 0, path, sizeof(path));
    if (rc == 0)
        rc = clear(&k, argv + optind, argc - optind);
    amp_known_free(&k);
    return rc;
}
