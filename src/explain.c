/* Explaining a routing decision to a person (the launcher only). */
#define _GNU_SOURCE
#include "explain.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "headers.h"
#include "log.h"
#include "retry.h"
#include "route.h"

#define NEAREST 3

struct miss {
    const struct amp_route *r;
    int nearness;
    char why[512];
};

static int by_nearness(const void *a, const void *b)
{
    const struct miss *x = a, *y = b;

    if (x->nearness != y->nearness)
        return y->nearness - x->nearness;
    return x->r < y->r ? -1 : x->r > y->r;
}

static void print_headers(const struct amp_config *cfg, const struct amp_route *r, FILE *out)
{
    char masked[64];

    amp_mask(cfg->api_key, masked, sizeof(masked));
    fprintf(out, "headers added:\n");
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!strncmp(r->headers[i], "x-api-key:", 10))
            fprintf(out, "  x-api-key: %s\n", masked);
        else
            fprintf(out, "  %s\n", r->headers[i]);
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
    const struct amp_curl *c = amp_curl_linked();
    char *rewritten = NULL;
    const struct amp_route *best =
        amp_route_match(&cfg->routes, c, url, cfg->proxy_url, &rewritten);
    struct miss *misses = calloc(cfg->routes.n + 1, sizeof(*misses));
    size_t nmiss = 0;

    fprintf(out, "URL: %s\n", url);
    if (best) {
        fprintf(out, "routed by: %s (line %d; %s%s%s)\n", best->base_url, best->line, best->ident,
                best->provider ? "; provider " : "", best->provider ? best->provider : "");
        fprintf(out, "the proxy receives: %s\n", rewritten);
        print_headers(cfg, best, out);
        struct amp_block b;
        int64_t now = (int64_t)time(NULL);
        if (st && amp_state_find(st, best->key, now, &b)) {
            char line[1024];
            amp_block_describe(&b, best->base_url, now, line, sizeof(line));
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
    for (size_t i = 0; misses && i < cfg->routes.n; i++) {
        const struct amp_route *r = &cfg->routes.v[i];
        struct miss *m = &misses[nmiss];
        if (r == best)
            continue;
        m->r = r;
        if (!amp_route_why_not(r, c, url, m->why, sizeof(m->why), &m->nearness))
            fprintf(out, "also matches, less specific: %s (line %d)\n", r->base_url, r->line);
        else if (m->nearness > 0)
            nmiss++;
    }
    if (misses) {
        qsort(misses, nmiss, sizeof(*misses), by_nearness);
        for (size_t i = 0; i < nmiss && i < NEAREST; i++)
            fprintf(out, "nearest miss: %s (line %d): %s\n", misses[i].r->base_url, misses[i].r->line,
                    misses[i].why);
    }
    free(misses);
    free(rewritten);
    return best ? 0 : 1;
}
