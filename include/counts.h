/* Per-route counters, shared by every process of the user: a file beside
 * the rate-limit state (its path + ".counts"), apart from it so that a
 * process adding its counts never makes the others read the state again.
 * Each process counts in memory and adds its counts to the file about once
 * a second and at exit; `ampshim stats` reads it.
 *
 * File layout (little-endian, fixed width, version 2):
 *   header, 32 bytes: magic "AMPSHIMC" | u32 version | u32 record size |
 *                     u32 record count | u32 0 | u64 FNV-1a 64 of the records
 *                     (hash.h; version 1, the same layout, was summed from
 *                     another basis: read, and written back as version 2)
 *   records, 192 bytes each:
 *      0 u64 key | 8 u64 routed | 16 u64 2xx | 24 u64 3xx | 32 u64 4xx |
 *     40 u64 5xx | 48 u64 429s | 56 u64 blocked | 64 u32 last status |
 *     68 u32 0 | 72 i64 last status at (UTC seconds) | 80 name[112]
 * A file that does not read so (a write cut short) is set aside, with a
 * warning, and counting starts anew: counts may be lost, never trusted
 * wrong. */
#ifndef AMPSHIM_COUNTS_H
#define AMPSHIM_COUNTS_H

#include <stddef.h>
#include <stdint.h>

#define AMP_COUNTS_MAGIC "AMPSHIMC"
#define AMP_COUNTS_VERSION 2u
#define AMP_COUNTS_HEADER 32u
#define AMP_COUNTS_RECORD 192u
#define AMP_COUNTS_MAX 4096u

/* The answers' classes, listed once: their order in a record and the
 * name `ampshim stats` gives each (table column, JSON key, Prometheus
 * label). A status s counts in class s / 100 - 2. */
#define AMP_CLASS_LIST(X) X(2XX, "2xx") X(3XX, "3xx") X(4XX, "4xx") X(5XX, "5xx")
#define AMP_CLASS_ENUM(id, name) AMP_##id,
enum { AMP_CLASS_LIST(AMP_CLASS_ENUM) AMP_CLASSES };
#undef AMP_CLASS_ENUM

static inline const char *amp_class_name(int i)
{
#define AMP_CLASS_NAME(id, name) name,
    static const char *const names[AMP_CLASSES] = { AMP_CLASS_LIST(AMP_CLASS_NAME) };
#undef AMP_CLASS_NAME
    return names[i];
}

struct amp_counts {
    uint64_t key;          /* the route's (struct amp_route.key) */
    char name[112];        /* "base URL (ident)", for people */
    uint64_t routed;       /* requests sent to the proxy */
    uint64_t answers[AMP_CLASSES];
    uint64_t status429;    /* 429s among the 4xx */
    uint64_t blocked;      /* calls stopped here, the route being blocked */
    uint32_t last_status;  /* of the last answer, and when (0: none yet) */
    int64_t last_at;
};

/* path + ".counts". -1 when it does not fit. */
int amp_counts_path(const char *state_path, char *buf, size_t len);

/* Adds n records of counts to the file (created as the state is) under
 * flock: the numbers summed, the last status the later one. 0, or -1 and
 * err. */
int amp_counts_add(const char *path, const struct amp_counts *add, size_t n, char *err,
                   size_t errlen);

/* Every record (*out malloc'd, NULL when none). 0, or -1 and err. */
int amp_counts_read(const char *path, struct amp_counts **out, size_t *n, char *err,
                    size_t errlen);

/* Every counter back to zero (the file emptied). 0, or -1 and err. */
int amp_counts_reset(const char *path, char *err, size_t errlen);

#endif
