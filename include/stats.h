/* `ampshim stats`: the per-route counters (counts.h) for people, and for
 * Prometheus' node_exporter textfile collector. */
#ifndef AMPSHIM_STATS_H
#define AMPSHIM_STATS_H

#include <stddef.h>
#include <stdio.h>

#include "counts.h"

/* A table, one route a line. */
void amp_stats_table(FILE *out, const char *path, const struct amp_counts *c, size_t n);

/* Prometheus text format (version 0.0.4): counters ampshim_*_total and
 * gauges for the last status, each with route="…" (base URL and ident). */
void amp_stats_prometheus(FILE *out, const struct amp_counts *c, size_t n);

#endif
