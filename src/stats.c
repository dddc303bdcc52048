/* Printing the per-route counters (stats.h). */
#define _GNU_SOURCE
#include "stats.h"

#include <inttypes.h>

#include "retry.h"

static const char *const classes[AMP_CLASSES] = { "2xx", "3xx", "4xx", "5xx" };

void amp_stats_table(FILE *out, const char *path, const struct amp_counts *c, size_t n)
{
    fprintf(out, "counters file: %s\n", path);
    if (!n) {
        fprintf(out, "no call counted yet\n");
        return;
    }
    fprintf(out, "%-52s %8s %8s %8s %8s %8s %6s %7s  %s\n", "route", "routed", "2xx", "3xx", "4xx",
            "5xx", "429", "blocked", "last");
    for (size_t i = 0; i < n; i++) {
        char at[40] = "-";
        if (c[i].last_status)
            amp_utc(c[i].last_at, at, sizeof(at));
        fprintf(out, "%-52s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
                     " %6" PRIu64 " %7" PRIu64 "  ",
                c[i].name, c[i].routed, c[i].answers[AMP_2XX], c[i].answers[AMP_3XX],
                c[i].answers[AMP_4XX], c[i].answers[AMP_5XX], c[i].status429, c[i].blocked);
        if (c[i].last_status)
            fprintf(out, "%u at %s\n", c[i].last_status, at);
        else
            fprintf(out, "-\n");
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

static void sample(FILE *out, const char *metric, const struct amp_counts *c, const char *cls,
                   uint64_t v)
{
    fprintf(out, "%s{route=\"", metric);
    label(out, c->name);
    if (cls)
        fprintf(out, "\",class=\"%s", cls);
    fprintf(out, "\"} %" PRIu64 "\n", v);
}

void amp_stats_prometheus(FILE *out, const struct amp_counts *c, size_t n)
{
    static const struct {
        const char *name, *type, *help;
    } m[] = {
        { "ampshim_routed_total", "counter", "Calls sent through the Ampersand proxy." },
        { "ampshim_responses_total", "counter", "Answers from the proxy, by status class." },
        { "ampshim_rate_limited_total", "counter", "Answers with HTTP 429 from the proxy." },
        { "ampshim_blocked_total", "counter", "Calls stopped by ampshim while their route was rate limited." },
        { "ampshim_last_status", "gauge", "HTTP status of the last answer." },
        { "ampshim_last_status_timestamp_seconds", "gauge", "When the last answer came (Unix time)." },
    };

    for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help, m[k].name, m[k].type);
        for (size_t i = 0; i < n; i++) {
            switch (k) {
            case 0:
                sample(out, m[k].name, &c[i], NULL, c[i].routed);
                break;
            case 1:
                for (int j = 0; j < AMP_CLASSES; j++)
                    sample(out, m[k].name, &c[i], classes[j], c[i].answers[j]);
                break;
            case 2:
                sample(out, m[k].name, &c[i], NULL, c[i].status429);
                break;
            case 3:
                sample(out, m[k].name, &c[i], NULL, c[i].blocked);
                break;
            case 4:
                if (c[i].last_status)
                    sample(out, m[k].name, &c[i], NULL, c[i].last_status);
                break;
            default:
                if (c[i].last_status)
                    sample(out, m[k].name, &c[i], NULL, (uint64_t)c[i].last_at);
                break;
            }
        }
    }
}
