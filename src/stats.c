/* `ampshim stats`: the per-route counters (counts.h) of every place the
 * state may be in (places.h), for people (a table), as JSON, and for
 * Prometheus' node_exporter textfile collector; and set back to zero. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block.h"
#include "cli.h"
#include "commands.h"
#include "counts.h"
#include "json.h"
#include "known.h"
#include "places.h"

/* One record of one counters file, with what is known of its route. */
struct amp_stats_row {
    struct amp_counts c;
    const struct amp_place *place; /* whose file, and where */
    /* The identity of the config's route with c.key (its parts are what
     * the key is made of); NULL each when the config has no such route. */
    const char *proxy, *project, *installation, *integration, *group;
};

enum stats_how { STATS_TABLE, STATS_JSON, STATS_PROMETHEUS, STATS_RESET };

static int digits(uint64_t v)
{
    int n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static int widest(int w, int more)
{
    return more > w ? more : w;
}

/* The columns of a table: each as wide as its header or its widest value
 * (a route's name is up to 111 characters, a count up to 20 digits). */
struct columns {
    int route, routed, answers[AMP_CLASSES], status429, blocked;
};

static void size_columns(struct columns *w, const struct amp_stats_row *rows, size_t n,
                         const struct amp_place *place)
{
    w->route = (int)strlen("route");
    w->routed = (int)strlen("routed");
    for (int k = 0; k < AMP_CLASSES; k++)
        w->answers[k] = (int)strlen(amp_class_name(k));
    w->status429 = (int)strlen("429");
    w->blocked = (int)strlen("blocked");
    for (size_t i = 0; i < n; i++) {
        const struct amp_counts *c = &rows[i].c;
        if (rows[i].place != place)
            continue;
        w->route = widest(w->route, (int)strnlen(c->name, sizeof(c->name)));
        w->routed = widest(w->routed, digits(c->routed));
        for (int k = 0; k < AMP_CLASSES; k++)
            w->answers[k] = widest(w->answers[k], digits(c->answers[k]));
        w->status429 = widest(w->status429, digits(c->status429));
        w->blocked = widest(w->blocked, digits(c->blocked));
    }
}

/* The rows of one place under a header, the columns two spaces apart. */
static void table_rows(FILE *out, const struct amp_stats_row *rows, size_t n,
                       const struct amp_place *place)
{
    struct columns w;
    int any = 0;

    size_columns(&w, rows, n, place);
    for (size_t i = 0; i < n; i++) {
        const struct amp_counts *c = &rows[i].c;
        char at[40] = "-";
        if (rows[i].place != place)
            continue;
        if (!any++) {
            fprintf(out, "%-*s  %*s", w.route, "route", w.routed, "routed");
            for (int k = 0; k < AMP_CLASSES; k++)
                fprintf(out, "  %*s", w.answers[k], amp_class_name(k));
            fprintf(out, "  %*s  %*s  %s\n", w.status429, "429", w.blocked, "blocked", "last");
        }
        if (c->last_status)
            amp_block_utc(c->last_at, at, sizeof(at));
        fprintf(out, "%-*.*s  %*" PRIu64, w.route, (int)sizeof(c->name), c->name, w.routed, c->routed);
        for (int k = 0; k < AMP_CLASSES; k++)
            fprintf(out, "  %*" PRIu64, w.answers[k], c->answers[k]);
        fprintf(out, "  %*" PRIu64 "  %*" PRIu64 "  ", w.status429, c->status429, w.blocked, c->blocked);
        if (c->last_status)
            fprintf(out, "%u at %s\n", c->last_status, at);
        else
            fprintf(out, "-\n");
    }
    if (!any)
        fprintf(out, "no call counted yet\n");
}

/* A table under the name of each counters file (every place listed, even
 * one without a row). */
static void table(FILE *out, const struct amp_place *places, size_t nplaces,
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

/* Prometheus text format (version 0.0.4): counters ampshim_*_total and
 * gauges for the last status, HELP and TYPE once each. Every series is
 * labelled user (the file's owner), key (the route's identity, as in
 * --json), route ("base URL (ident)"), and, when the config knows the key,
 * proxy, project and installation, or integration and group: so each is
 * unique, whoever shares the file. Rows of one user with one key (two
 * default places of the same user) are summed into one series. */
static void prometheus(FILE *out, const struct amp_stats_row *rows, size_t nrows)
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
        amp_cli_say(0, "%s", err);
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
        amp_cli_say(0, "cannot write beside %s: %s", path, strerror(errno));
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
            amp_cli_say(0, "cannot write %s: %s", o->path, strerror(errno));
        unlink(o->tmp);
        return rc ? rc : 2;
    }
    return 0;
}

/* The per-route counters beside each state (counts.h): read, never made. */
static int stats(const struct known *k, enum stats_how how, const char *output)
{
    const struct amp_config *cfg = k->cfg;
    struct amp_place *places = NULL;
    struct amp_stats_row *rows = NULL;
    size_t nplaces = 0, nrows = 0, shown = 0;
    char path[4096 + 16], err[512];
    struct output out;
    int rc = 0;

    if (amp_known_places(k, &places, &nplaces) < 0)
        return how == STATS_JSON ? amp_cli_json_failure("stats", k->path, "no place for the counters", 0, 2)
                                 : 2;
    /* The places shown, and their rows: places[0..shown). */
    for (size_t p = 0; p < nplaces; p++) {
        struct amp_counts *c;
        size_t n, mine = 0;
        if (place_counts(&places[p], &c, &n) < 0 && places[p].first)
            rc = 2;
        for (size_t i = 0; i < n; i++)
            mine |= amp_known_counts(k, &c[i]);
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
            const struct amp_route *route = amp_known_route(k, c[i].key);
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
        return how == STATS_JSON ? amp_cli_json_failure("stats", k->path, "cannot read the counters", 0, 2)
                                 : 2;
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
                amp_cli_say(0, "%s", err);
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
        prometheus(out.f, rows, nrows);
    } else if (how == STATS_TABLE) {
        table(out.f, places, shown, rows, nrows);
    } else {
        struct amp_json j;
        char key[20];
        amp_json_init(&j, out.f, 2);
        amp_cli_json_head(&j, "stats", 1, k->path);
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
        amp_cli_json_warnings(&j);
        amp_json_end(&j);
        if (amp_json_finish(&j) < 0 && !output)
            fprintf(stderr, "ampshim: could not write the JSON output\n");
    }
    rc = output_close(&out, 0);
    free(rows);
    free(places);
    return rc;
}


enum { OPT_PROMETHEUS = AMP_OPT_OWN, OPT_RESET };

static const struct option options[] = {
    { "config", required_argument, NULL, 'c' },
    { "json", no_argument, NULL, AMP_OPT_JSON },
    { "prometheus", no_argument, NULL, OPT_PROMETHEUS },
    { "reset", no_argument, NULL, OPT_RESET },
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

struct stats_options {
    enum stats_how how;
    const char *output;
};

static int own_option(int c, struct amp_opts *o)
{
    struct stats_options *s = o->own;

    if (c == 'o')
        s->output = optarg;
    else if (s->how != STATS_TABLE && s->how != (c == OPT_PROMETHEUS ? STATS_PROMETHEUS : STATS_RESET))
        return amp_usage_error("stats", "--json, --prometheus and --reset go alone");
    else
        s->how = c == OPT_PROMETHEUS ? STATS_PROMETHEUS : STATS_RESET;
    return 0;
}

int amp_cmd_stats(int argc, char **argv)
{
    char path[PATH_MAX];
    struct stats_options s = { STATS_TABLE, NULL };
    struct amp_opts o = { .own = &s };
    struct known k;
    int rc = 0;

    if (amp_options(argc, argv, ":c:o:h", options, &o, own_option, &rc) == AMP_OPT_EXIT)
        return rc;
    if (optind < argc)
        return amp_usage_error(argv[0], "takes no arguments, not '%s'", argv[optind]);
    if (o.json && s.how != STATS_TABLE)
        return amp_usage_error(argv[0], "--json, --prometheus and --reset go alone");
    if (s.output && s.how == STATS_RESET)
        return amp_usage_error(argv[0], "--output does not go with --reset");
    if (o.json)
        s.how = STATS_JSON;
    rc = amp_known_load(&k, o.config, "stats", o.json, path, sizeof(path));
    if (rc == 0)
        rc = stats(&k, s.how, s.output);
    amp_known_free(&k);
    return rc;
}
