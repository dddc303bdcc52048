/* `ampshim stats`: the per-route counters (counts.h) for people, and for
 * Prometheus' node_exporter textfile collector. */
#ifndef AMPSHIM_STATS_H
#define AMPSHIM_STATS_H

#include <stddef.h>
#include <stdio.h>

#include "counts.h"
#include "places.h"

/* One record of one counters file, with what is known of its route. */
struct amp_stats_row {
    struct amp_counts c;
    const struct amp_place *place; /* whose file, and where */
    /* The identity of the config's route with c.key (its parts are what
     * the key is made of); NULL each when the config has no such route. */
    const char *proxy, *project, *installation, *integration, *group;
};

/* A table, one route a line, under the name of each counters file (every
 * place listed, even one without a row). */
void amp_stats_table(FILE *out, const struct amp_place *places, size_t nplaces,
                     const struct amp_stats_row *rows, size_t n);

/* Prometheus text format (version 0.0.4): counters ampshim_*_total and
 * gauges for the last status, HELP and TYPE once each. Every series is
 * labelled user (the file's owner), key (the route's identity, as in
 * --json), route ("base URL (ident)"), and, when the config knows the key,
 * proxy, project and installation, or integration and group: so each is
 * unique, whoever shares the file. Rows of one user with one key (two
 * default places of the same user) are summed into one series. */
void amp_stats_prometheus(FILE *out, const struct amp_stats_row *rows, size_t n);

#endif
