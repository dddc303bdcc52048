/* Writes the state target's seeds: state files made by state.c itself
 * (so they are valid whatever the layout becomes), into the folder given.
 * Run by `make fuzz-seed-state`; the output is committed in
 * tests/fuzz/corpus/state/. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "state.h"

#define T0 1741298929LL /* 2025-03-06 22:08:49 UTC */

static struct amp_block block(const char *id, const char *group, int64_t retry_at,
                              int64_t hold_until, uint32_t flags, const char *reason)
{
    struct amp_block b;

    memset(&b, 0, sizeof(b));
    snprintf(b.proxy, sizeof(b.proxy), "https://proxy.withampersand.com");
    snprintf(b.project, sizeof(b.project), "3f2c9e4a-1b7d-4c8e-9a6f-0d5e2b1c7a93");
    snprintf(b.id, sizeof(b.id), "%s", id);
    snprintf(b.group, sizeof(b.group), "%s", group);
    snprintf(b.reason, sizeof(b.reason), "%s", reason);
    b.key = amp_block_key(b.proxy, b.project, id, group);
    b.retry_at = retry_at;
    b.recorded_at = T0;
    b.hold_until = hold_until;
    b.flags = flags;
    return b;
}

/* The state file after recording the first n of the blocks (0: after a
 * record and a clear, a header and no record), copied to dir/name. */
static int seed(const char *dir, const char *name, size_t n)
{
    const struct amp_block blocks[] = {
        block("inst-1", "", T0 + 60, 0, 0, "HTTP 429 with X-Amp-Retry-After"),
        block("inst-2", "", T0 + 3600, T0 + 7200, AMP_BLOCK_LOCKED,
              "HTTP 429 with X-Amp-Retryable: false"),
        block("slack", "customer-42", T0 + 30, 0, AMP_BLOCK_GUESSED, "HTTP 429 without a retry time"),
    };
    char tmp[4200], out[4200], err[512];
    size_t removed;

    snprintf(tmp, sizeof(tmp), "%s/state", fuzz_scratch());
    unlink(tmp);
    struct amp_state *st = amp_state_open(tmp, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < (n ? n : 1) && rc == 0; i++)
        rc = amp_state_record(st, &blocks[i]);
    if (rc == 0 && n == 0)
        rc = amp_state_clear(st, NULL, NULL, &removed);
    amp_state_close(st);
    snprintf(out, sizeof(out), "%s/%s", dir, name);
    FILE *in = fopen(tmp, "rb"), *to = fopen(out, "wb");
    char buf[4096];
    size_t got;
    while (rc == 0 && in && to && (got = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, got, to) != got)
            rc = -1;
    if (!in || !to || (in && fclose(in) != 0) || (to && fclose(to) != 0))
        rc = -1;
    if (rc == 0)
        printf("%s\n", out);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    return seed(argv[1], "empty_header", 0) || seed(argv[1], "one_record", 1) ||
                   seed(argv[1], "three_records", 3)
               ? 1
               : 0;
}
