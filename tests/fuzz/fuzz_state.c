/* Fuzz target: the shared state file (state.c). The input is a whole
 * state file, as another process (or anything else) may have left it:
 *  - each 512-byte stretch after the 64-byte header goes through
 *    amp_block_decode, and a record that decodes must survive
 *    encode + decode unchanged;
 *  - the bytes are written to a private folder and opened with
 *    amp_state_open; amp_state_find, amp_state_list and amp_state_record
 *    run on it (a corrupt file is set aside and rebuilt, never trusted);
 *  - once a record is written, a new reader finds it, with no warning:
 *    what the code writes, the code reads. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "state.h"

static char path[4200];
static int warnings;

static void count_warning(const char *msg)
{
    (void)msg;
    warnings++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(path, sizeof(path), "%s/state", fuzz_scratch());
    amp_state_set_warn(count_warning);
    return 0;
}

static int same_block(const struct amp_block *a, const struct amp_block *b)
{
    return a->key == b->key && a->retry_at == b->retry_at && a->recorded_at == b->recorded_at &&
           a->hold_until == b->hold_until && a->flags == b->flags &&
           !strcmp(a->proxy, b->proxy) && !strcmp(a->project, b->project) &&
           !strcmp(a->id, b->id) && !strcmp(a->group, b->group) && !strcmp(a->reason, b->reason);
}

/* Every record-sized stretch of the input decoded on its own; the last
 * one that decodes is returned in *last (1), else 0. */
static int decode_all(const uint8_t *data, size_t size, struct amp_block *last)
{
    int found = 0;

    for (size_t off = AMP_STATE_HEADER; off + AMP_STATE_RECORD <= size; off += AMP_STATE_RECORD) {
        struct amp_block b, again;
        unsigned char rec[AMP_STATE_RECORD];
        if (amp_block_decode(data + off, &b) < 0)
            continue;
        amp_block_encode(&b, rec);
        FUZZ_CHECK(amp_block_decode(rec, &again) == 0 && same_block(&b, &again),
                   "the record at offset %zu does not survive encode + decode", off);
        *last = b;
        found = 1;
    }
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct amp_block b, got, *list = NULL;
    size_t n = 0;
    char err[512];

    /* The block to record: the input's own last record, else a plain one. */
    if (!decode_all(data, size, &b)) {
        memset(&b, 0, sizeof(b));
        b.key = amp_block_key("https://proxy.withampersand.com", "p", "inst-1", "");
        b.recorded_at = 1741298929;
        b.retry_at = b.recorded_at + 60;
        snprintf(b.id, sizeof(b.id), "inst-1");
    }
    FUZZ_CHECK(fuzz_write_file(path, data, size) == 0, "cannot write %s", path);
    struct amp_state *st = amp_state_open(path, err, sizeof(err));
    FUZZ_CHECK(st != NULL, "cannot open %s: %s", path, err);
    amp_state_find(st, b.key, b.recorded_at, &got);
    if (amp_state_list(st, b.recorded_at, &list, &n) == 0)
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(amp_block_active(&list[i], b.recorded_at), "listed record %zu inactive", i);
    free(list);
    int recorded = amp_state_record(st, &b) == 0;
    if (recorded && amp_block_active(&b, b.recorded_at)) {
        FUZZ_CHECK(amp_state_find(st, b.key, b.recorded_at, &got) == 1 && same_block(&b, &got),
                   "the record just written is not found");
    }
    amp_state_close(st);

    if (recorded) {
        /* A fresh reader of the file just written: no warning, no set-aside. */
        warnings = 0;
        st = amp_state_open(path, err, sizeof(err));
        FUZZ_CHECK(st != NULL, "cannot reopen %s: %s", path, err);
        FUZZ_CHECK(amp_state_list(st, b.recorded_at, &list, &n) == 0 && warnings == 0,
                   "the file written by amp_state_record does not read back (%d warnings)",
                   warnings);
        free(list);
        amp_state_close(st);
    }
    /* The file and whatever was set aside (state.corrupt-*), for the next input. */
    fuzz_scratch_empty();
    return 0;
}
