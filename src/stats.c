/* Printing the per-route counters (stats.h). */
#define _GNU_SOURCE
#include "stats.h"

#include <inttypes.h>
#include <stdlib.h>

#include "block.h"

static void table_rows(FILE *out, const struct amp_stats_row *rows, size_t n,
                       const struct amp_place *place)
{
    int any = 0;

    for (size_t i = 0; i < n; i++) {
        const struct amp_counts *c = &rows[i].c;
        char at[40] = "-";
        if (rows[i].place != place)
            continue;
        if (!any++) {
            fprintf(out, "%-52s %8s", "route", "routed");
            for (int k = 0; k < AMP_CLASSES; k++)
                fprintf(out, " %8s", amp_class_name(k));
            fprintf(out, " %6s %7s  %s\n", "429", "blocked", "last");
        }
        if (c->last_status)
            amp_block_utc(c->last_at, at, sizeof(at));
        fprintf(out, "%-52s %8" PRIu64, c->name, c->routed);
        for (int k = 0; k < AMP_CLASSES; k++)
            fprintf(out, " %8" PRIu64, c->answers[k]);
        fprintf(out, " %6" PRIu64 " %7" PRIu64 "  ", c->status429, c->blocked);
        if (c->last_status)
            fprintf(out, "%u at %s\n", c->last_status, at);
        else
            fprintf(out, "-\n");
    }
    if (!any)
        fprintf(out, "no call counted yet\n");
}

void amp_stats_table(FILE *out, const struct amp_place *places, size_t nplaces,
                     const struct amp_stats_row *rows, size_t n)
{
    for (size_t k = 0; k < nplaces; k++) {
        char path[4096 + 16], whose[128];
        if (amp_counts_path(places[k].path, path, sizeof(path)) < 0)
            continue;
        amp_places_whose(&places[k], whose, sizeof(whose));
        fprintf(out, "counters file: %s (recorded by %s)\n", path, whose);
        table_rows(out, rows, n, &places[k]);
    }
}

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(out, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
}

static void put_label(FILE *out, int *first, const char *name, const char *value)
{
    if (!value)
        return;
    fprintf(out, "%s%s=\"", *first ? "" : ",", name);
    label(out, value);
    fputc('"', out);
    *first = 0;
}

static void sample(FILE *out, const char *metric, const struct amp_stats_row *r, const char *cls,
                   uint64_t v)
{
    char key[20];
    int first = 1;

    snprintf(key, sizeof(key), "%016" PRIx64, r->c.key);
    fprintf(out, "%s{", metric);
    put_label(out, &first, "user", r->place ? r->place->user : NULL);
    put_label(out, &first, "key", key);
    put_label(out, &first, "route", r->c.name);
    put_label(out, &first, "proxy", r->proxy);
    put_label(out, &first, "project", r->project);
    put_label(out, &first, "installation", r->installation);
    put_label(out, &first, "integration", r->integration);
    put_label(out, &first, "group", r->group);
    put_label(out, &first, "class", cls);
    fprintf(out, "} %" PRIu64 "\n", v);
}

static int same_series(const struct amp_stats_row *a, const struct amp_stats_row *b)
{
    return a->c.key == b->c.key && (a->place ? a->place->uid : (uid_t)-1) ==
                                       (b->place ? b->place->uid : (uid_t)-1);
}

/* rows with one series each: those of one user and key summed. */
static size_t merge(const struct amp_stats_row *rows, size_t n, struct amp_stats_row *out)
{
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < m && !same_series(&out[j], &rows[i]))
            j++;
        if (j == m) {
            out[m++] = rows[i];
            continue;
        }
        struct amp_counts *into = &out[j].c;
        const struct amp_counts *add = &rows[i].c;
        into->routed += add->routed;
        for (int k = 0; k < AMP_CLASSES; k++)
            into->answers[k] += add->answers[k];
        into->status429 += add->status429;
        into->blocked += add->blocked;
        if (add->last_status && add->last_at >= into->last_at) {
            into->last_status = add->last_status;
            into->last_at = add->last_at;
        }
    }
    return m;
}

/* The Prometheus metrics, listed once: each with its value in a record,
 * per class (by_class) or once; a gauge of the last answer only when there
 * was one (then last). */
enum metric_value { M_ROUTED, M_ANSWERS, M_429, M_BLOCKED, M_LAST_STATUS, M_LAST_AT };
static const struct {
    const char *name, *type, *help;
    enum metric_value v;
} metrics[] = {
    { "ampshim_routed_total", "counter", "Calls sent through the Ampersand proxy.", M_ROUTED },
    { "ampshim_responses_total", "counter", "Answers from the proxy, by status class.", M_ANSWERS },
    { "ampshim_rate_limited_total", "counter", "Answers with HTTP 429 from the proxy.", M_429 },
    { "ampshim_blocked_total", "counter", "Calls stopped by ampshim while their route was rate limited.",
      M_BLOCKED },
    { "ampshim_last_status", "gauge", "HTTP status of the last answer.", M_LAST_STATUS },
    { "ampshim_last_status_timestamp_seconds", "gauge", "When the last answer came (Unix time).",
      M_LAST_AT },
};

static void samples(FILE *out, const char *metric, enum metric_value v, const struct amp_stats_row *r)
{
    const struct amp_counts *c = &r->c;

    switch (v) {
    case M_ROUTED:
        sample(out, metric, r, NULL, c->routed);
        break;
    case M_ANSWERS:
        for (int j = 0; j < AMP_CLASSES; j++)
            sample(out, metric, r, amp_class_name(j), c->answers[j]);
        break;
    case M_429:
        sample(out, metric, r, NULL, c->status429);
        break;
    case M_BLOCKED:
        sample(out, metric, r, NULL, c->blocked);
        break;
    case M_LAST_STATUS:
        if (c->last_status)
            sample(out, metric, r, NULL, c->last_status);
        break;
    case M_LAST_AT:
        if (c->last_status)
            sample(out, metric, r, NULL, (uint64_t)c->last_at);
        break;
    }
}

void amp_stats_prometheus(FILE *out, const struct amp_stats_row *rows, size_t nrows)
{
    struct amp_stats_row *r = calloc(nrows + 1, sizeof(*r));
    size_t n;

    if (!r) {
        fprintf(out, "# ampshim: out of memory\n");
        return;
    }
    n = merge(rows, nrows, r);
    for (size_t k = 0; k < sizeof(metrics) / sizeof(metrics[0]); k++) {
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", metrics[k].name, metrics[k].help,
                metrics[k].name, metrics[k].type);
        for (size_t i = 0; i < n; i++)
            samples(out, metrics[k].name, metrics[k].v, &r[i]);
    }
    free(r);
}
