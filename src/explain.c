/* Explaining a routing decision to a person, or as JSON to a program (the
 * launcher only). One analysis, two renderings, so they cannot disagree. */
#define _GNU_SOURCE
#include "explain.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "headers.h"
#include "log.h"
#include "block.h"
#include "route.h"

#define NEAREST 3

struct miss {
    const struct amp_route *r;
    int nearness;
    char why[512];
};

/* What happens to a call to one URL. */
struct verdict {
    const struct amp_route *best;
    char *rewritten;
    int blocked;
    struct amp_block block;
    int64_t now;
    const struct amp_route **also; /* match too, less specific */
    size_t nalso;
    struct miss *misses;           /* nearest first */
    size_t nmiss;
};

static int by_nearness(const void *a, const void *b)
{
    const struct miss *x = a, *y = b;

    if (x->nearness != y->nearness)
        return y->nearness - x->nearness;
    return x->r < y->r ? -1 : x->r > y->r;
}

static void judge(const struct amp_config *cfg, struct amp_state *st, const char *url,
                  struct verdict *v)
{
    const struct amp_curl *c = amp_curl_linked();

    memset(v, 0, sizeof(*v));
    v->now = (int64_t)time(NULL);
    v->best = amp_route_match(&cfg->routes, c, url, cfg->proxy_url, &v->rewritten);
    if (v->best && st)
        v->blocked = amp_state_find(st, v->best->key, v->now, &v->block);
    v->misses = calloc(cfg->routes.n + 1, sizeof(*v->misses));
    v->also = calloc(cfg->routes.n + 1, sizeof(*v->also));
    for (size_t i = 0; v->misses && v->also && i < cfg->routes.n; i++) {
        const struct amp_route *r = &cfg->routes.v[i];
        struct miss *m = &v->misses[v->nmiss];
        if (r == v->best)
            continue;
        m->r = r;
        if (!amp_route_why_not(r, c, url, m->why, sizeof(m->why), &m->nearness))
            v->also[v->nalso++] = r;
        else if (m->nearness > 0)
            v->nmiss++;
    }
    if (v->misses)
        qsort(v->misses, v->nmiss, sizeof(*v->misses), by_nearness);
    if (v->nmiss > NEAREST)
        v->nmiss = NEAREST;
}

static void verdict_free(struct verdict *v)
{
    free(v->misses);
    free(v->also);
    free(v->rewritten);
}

static void print_headers(const struct amp_config *cfg, const struct amp_route *r, FILE *out)
{
    char masked[64];

    amp_mask(cfg->api_key, masked, sizeof(masked));
    fprintf(out, "headers added:\n");
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct amp_header *h = r->headers[i];
        fprintf(out, "  %s: %s\n", h->name, h->secret ? masked : h->value);
    }
    if (r->ndrop) {
        fprintf(out, "application headers not forwarded:");
        for (size_t i = 0; i < r->ndrop; i++)
            fprintf(out, " %s", r->drop[i]);
        fprintf(out, "\n");
    }
}

int amp_explain(const struct amp_config *cfg, struct amp_state *st, const char *url, FILE *out)
{
    struct verdict v;
    const struct amp_route *best;

    judge(cfg, st, url, &v);
    best = v.best;
    fprintf(out, "URL: %s\n", url);
    if (best) {
        fprintf(out, "routed by: %s (line %d; %s%s%s)\n", best->base_url, best->line, best->ident,
                best->provider ? "; provider " : "", best->provider ? best->provider : "");
        fprintf(out, "the proxy receives: %s\n", v.rewritten);
        print_headers(cfg, best, out);
        if (v.blocked) {
            char line[1024];
            amp_block_describe(&v.block, best->base_url, v.now, line, sizeof(line));
            fprintf(out, "blocked now: %s\n", line);
        } else {
            fprintf(out, "blocked now: no\n");
        }
        char mode[256];
        amp_on_block_sentence(cfg, mode, sizeof(mode));
        fprintf(out, "when blocked: %s\n", mode);
    } else {
        fprintf(out, "not routed: no route matches; the call would go out as the application made it\n");
    }
    for (size_t i = 0; i < v.nalso; i++)
        fprintf(out, "also matches, less specific: %s (line %d)\n", v.also[i]->base_url, v.also[i]->line);
    for (size_t i = 0; i < v.nmiss; i++)
        fprintf(out, "nearest miss: %s (line %d): %s\n", v.misses[i].r->base_url, v.misses[i].r->line,
                v.misses[i].why);
    verdict_free(&v);
    return best ? 0 : 1;
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_names(struct amp_json *j, const char *key, char **v, size_t n)
{
    amp_json_array(j, key);
    for (size_t i = 0; i < n; i++)
        amp_json_str(j, NULL, v[i]);
    amp_json_end(j);
}

void amp_explain_route_json(struct amp_json *j, const char *key, const struct amp_config *cfg,
                            const struct amp_route *r)
{
    char masked[64];

    amp_mask(cfg->api_key, masked, sizeof(masked));
    amp_json_object(j, key);
    amp_json_int(j, "line", r->line);
    amp_json_str(j, "base_url", r->base_url);
    amp_json_str(j, "provider", r->provider);
    amp_json_str(j, "ident", r->ident);
    amp_json_str(j, "installation_id", r->installation_id);
    amp_json_str(j, "integration_name", r->integration_name);
    amp_json_str(j, "group_ref", r->group_ref);
    amp_json_array(j, "headers");
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct amp_header *h = r->headers[i];
        amp_json_object(j, NULL);
        amp_json_str(j, "name", h->name);
        amp_json_str(j, "value", h->secret ? masked : h->value);
        amp_json_end(j);
    }
    amp_json_end(j);
    json_names(j, "drop_headers", r->drop, r->ndrop);
    amp_json_end(j);
}

/* b as a JSON object under key; route is the base URL of the config's
 * route with b's key, NULL when the config has none. */
static void block_json(struct amp_json *j, const char *key, const struct amp_block *b,
                       const char *route, int64_t now)
{
    amp_json_object(j, key);
    amp_explain_block_members(j, b, route, now);
    amp_json_end(j);
}

void amp_explain_block_members(struct amp_json *j, const struct amp_block *b, const char *route,
                               int64_t now)
{
    char sentence[1024];
    int locked = (b->flags & AMP_BLOCK_LOCKED) != 0;

    amp_json_str(j, "route", route);
    amp_json_str(j, "installation_id", b->group[0] ? NULL : b->id);
    amp_json_str(j, "integration_name", b->group[0] ? b->id : NULL);
    amp_json_str(j, "group_ref", b->group[0] ? b->group : NULL);
    amp_json_str(j, "proxy", b->proxy);
    amp_json_str(j, "project_id", b->project);
    amp_json_bool(j, "locked", locked);
    amp_json_bool(j, "guessed", (b->flags & AMP_BLOCK_GUESSED) != 0);
    amp_json_time(j, "retry_at", "retry_at_utc", b->retry_at);
    amp_json_int(j, "retry_in", (long long)amp_block_secs_between(now, b->retry_at));
    if (locked && b->hold_until) {
        amp_json_time(j, "hold_until", "hold_until_utc", b->hold_until);
    } else {
        amp_json_null(j, "hold_until");
        amp_json_null(j, "hold_until_utc");
    }
    amp_json_time(j, "recorded_at", "recorded_at_utc", b->recorded_at);
    amp_json_str(j, "reason", b->reason);
    amp_block_describe(b, route ? route : "(not in this config)", now, sentence, sizeof(sentence));
    amp_json_str(j, "description", sentence);
}

int amp_explain_json(const struct amp_config *cfg, struct amp_state *st, const char *url,
                     struct amp_json *j)
{
    struct verdict v;
    char mode[256];

    judge(cfg, st, url, &v);
    amp_json_str(j, "url", url);
    amp_json_bool(j, "routed", v.best != NULL);
    amp_json_str(j, "proxy_url", cfg->proxy_url);
    amp_json_str(j, "rewritten_url", v.best ? v.rewritten : NULL);
    if (v.best)
        amp_explain_route_json(j, "route", cfg, v.best);
    else
        amp_json_null(j, "route");
    if (v.blocked)
        block_json(j, "blocked", &v.block, v.best->base_url, v.now);
    else
        amp_json_null(j, "blocked");
    amp_on_block_sentence(cfg, mode, sizeof(mode));
    amp_json_str(j, "on_block", amp_on_block_name(cfg->throttle.on_block));
    amp_json_str(j, "when_blocked", mode);
    amp_json_array(j, "also_matching");
    for (size_t i = 0; i < v.nalso; i++) {
        amp_json_object(j, NULL);
        amp_json_int(j, "line", v.also[i]->line);
        amp_json_str(j, "base_url", v.also[i]->base_url);
        amp_json_end(j);
    }
    amp_json_end(j);
    amp_json_array(j, "nearest_misses");
    for (size_t i = 0; i < v.nmiss; i++) {
        amp_json_object(j, NULL);
        amp_json_int(j, "line", v.misses[i].r->line);
        amp_json_str(j, "base_url", v.misses[i].r->base_url);
        amp_json_str(j, "why", v.misses[i].why);
        amp_json_end(j);
    }
    amp_json_end(j);
    int rc = v.best ? 0 : 1;
    verdict_free(&v);
    return rc;
}
