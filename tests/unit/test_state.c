/* The shared retry state: the record layout byte for byte, the file
 * header, record/find/list/clear, two handles on one file, corrupt files
 * set aside, the refusals (symlinks, writable folders), concurrent writers
 * in separate processes, and memory-only state. Every state lives under a
 * scratch folder in /tmp, removed in the group teardown. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "state.h"

#include "scratch.h"

#define PROXY "https://proxy.withampersand.com/"
#define PROJECT "3f2c9e4a-1b7d-4c8e-9a6f-0d5e2b1c7a93"
#define NOW 1741298989LL /* 2025-03-06 22:09:49 UTC */
#define FAR (NOW + 10LL * 365 * 86400)

/* ---- scratch folder and files ----------------------------------------- */

static int make_scratch(void **state)
{
    (void)state;
    return scratch_make("throttle");
}

static int drop_scratch(void **state)
{
    (void)state;
    amp_state_set_warn(NULL);
    rm_tree(scratch); /* whatever a test left behind */
    return 0;
}

/* scratch/rel; malloc'd. */
static char *in_scratch(const char *rel)
{
    char *p;

    assert_true(asprintf(&p, "%s/%s", scratch, rel) > 0);
    return p;
}

/* scratch/sub/state, sub not yet there (amp_state_open creates it). */
static char *state_path(const char *sub)
{
    char *p;

    assert_true(asprintf(&p, "%s/%s/state", scratch, sub) > 0);
    return p;
}

/* scratch/sub, created 0700; malloc'd. */
static char *make_dir(const char *sub)
{
    char *p = in_scratch(sub);

    assert_int_equal(mkdir(p, 0700), 0);
    return p;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || write(fd, data, len) != (ssize_t)len)
        fail_msg("cannot write %s", path);
    close(fd);
}

/* The whole file; malloc'd, *len its size. */
static unsigned char *read_bytes(const char *path, size_t *len)
{
    struct stat sb;
    int fd = open(path, O_RDONLY);

    if (fd < 0 || fstat(fd, &sb) < 0)
        fail_msg("cannot read %s", path);
    unsigned char *buf = malloc((size_t)sb.st_size + 1);
    assert_non_null(buf);
    assert_int_equal(read(fd, buf, (size_t)sb.st_size), sb.st_size);
    close(fd);
    *len = (size_t)sb.st_size;
    return buf;
}

/* How many entries of dir start with prefix. */
static int count_prefixed(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

/* ---- blocks and states -------------------------------------------------- */

/* A block as ratelimit.c would record it, zeroed first (padding too). */
static struct amp_block block(const char *id, const char *group, int64_t retry_at)
{
    struct amp_block b;

    memset(&b, 0, sizeof(b));
    snprintf(b.proxy, sizeof(b.proxy), "%s", PROXY);
    snprintf(b.project, sizeof(b.project), "%s", PROJECT);
    snprintf(b.id, sizeof(b.id), "%s", id);
    snprintf(b.group, sizeof(b.group), "%s", group);
    snprintf(b.reason, sizeof(b.reason), "429 Too Many Requests");
    b.key = amp_block_key(b.proxy, b.project, b.id, b.group);
    b.retry_at = retry_at;
    b.recorded_at = NOW;
    return b;
}

static struct amp_state *open_ok(const char *path)
{
    char err[512] = "";
    struct amp_state *st = amp_state_open(path, err, sizeof(err));

    if (!st)
        fail_msg("amp_state_open(%s): %s", path ? path : "(memory)", err);
    return st;
}

/* amp_state_open must refuse path with a message containing keyword. */
static void expect_refused(const char *path, const char *keyword)
{
    char err[512] = "";
    struct amp_state *st = amp_state_open(path, err, sizeof(err));

    if (st) {
        amp_state_close(st);
        fail_msg("amp_state_open(%s) succeeded, expected a refusal about '%s'", path, keyword);
    }
    if (!strstr(err, keyword))
        fail_msg("refusal '%s' does not mention '%s'", err, keyword);
}

static void record_ok(struct amp_state *st, const struct amp_block *b)
{
    assert_int_equal(amp_state_record(st, b), 0);
}

static int found(struct amp_state *st, uint64_t key, int64_t now)
{
    struct amp_block out;

    return amp_state_find(st, key, now, &out);
}

static size_t count_active(struct amp_state *st, int64_t now)
{
    struct amp_block *v = NULL;
    size_t n = 99999;

    assert_int_equal(amp_state_list(st, now, &v, &n), 0);
    free(v);
    return n;
}

static void expect_same_block(const struct amp_block *a, const struct amp_block *b)
{
    assert_true(a->key == b->key);
    assert_int_equal(a->retry_at, b->retry_at);
    assert_int_equal(a->recorded_at, b->recorded_at);
    assert_int_equal(a->hold_until, b->hold_until);
    assert_int_equal(a->flags, b->flags);
    assert_string_equal(a->proxy, b->proxy);
    assert_string_equal(a->project, b->project);
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->group, b->group);
    assert_string_equal(a->reason, b->reason);
    assert_string_equal(a->route, b->route);
}

/* The route that got the 429: a record of an older writer (448..511 zero)
 * names none; a base URL longer than the field is known by its first 63
 * bytes. */
static void route_of_a_block(void **state)
{
    (void)state;
    struct amp_block b, back;
    unsigned char rec[AMP_STATE_RECORD];
    char long_url[200];

    memset(&b, 0, sizeof(b));
    strcpy(b.id, "inst");
    amp_block_encode(&b, rec);
    assert_int_equal(amp_block_decode(rec, &back), 0);
    assert_string_equal(back.route, "");
    assert_false(amp_block_by_route(&back, "https://a.example"));
    strcpy(b.route, "https://a.example");
    assert_true(amp_block_by_route(&b, "https://a.example"));
    assert_false(amp_block_by_route(&b, "https://a.example/x"));
    assert_false(amp_block_by_route(&b, "https://a.exampl"));
    memset(long_url, 'u', sizeof(long_url) - 1);
    long_url[sizeof(long_url) - 1] = '\0';
    memcpy(b.route, long_url, sizeof(b.route) - 1);
    b.route[sizeof(b.route) - 1] = '\0';
    assert_true(amp_block_by_route(&b, long_url));
    long_url[100] = 'v';
    assert_true(amp_block_by_route(&b, long_url)); /* the same first 63 bytes */
    long_url[10] = 'v';
    assert_false(amp_block_by_route(&b, long_url));
}

/* The warnings amp_state_set_warn routes. */
static int warnings;
static char last_warning[512];

static void on_warn(const char *msg)
{
    warnings++;
    snprintf(last_warning, sizeof(last_warning), "%s", msg);
}

static void watch_warnings(void)
{
    warnings = 0;
    last_warning[0] = '\0';
    amp_state_set_warn(on_warn);
}

/* ---- the record layout ---------------------------------------------------- */

static void expect_bytes(const unsigned char *rec, size_t off, const void *want, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (rec[off + i] != ((const unsigned char *)want)[i])
            fail_msg("byte %zu: 0x%02x, expected 0x%02x", off + i, rec[off + i],
                     ((const unsigned char *)want)[i]);
}

static void expect_zero(const unsigned char *rec, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (rec[i])
            fail_msg("byte %zu: 0x%02x, expected 0", i, rec[i]);
}

/* A string field: the text at off, then zero up to off + width. */
static void expect_field(const unsigned char *rec, size_t off, size_t width, const char *text)
{
    assert_true(strlen(text) < width);
    expect_bytes(rec, off, text, strlen(text));
    expect_zero(rec, off + strlen(text), off + width);
}

static void layout_byte_for_byte(void **state)
{
    (void)state;
    struct amp_block b, back;
    unsigned char rec[AMP_STATE_RECORD];

    assert_int_equal(AMP_STATE_RECORD, 512);
    memset(&b, 0, sizeof(b));
    b.key = 0x0123456789abcdefULL;
    b.retry_at = 1741298989;    /* 0x67ca1d2d */
    b.recorded_at = 1741298959; /* 0x67ca1d0f */
    b.hold_until = 0x1122334455667788LL;
    b.flags = AMP_BLOCK_LOCKED | AMP_BLOCK_GUESSED;
    strcpy(b.proxy, PROXY);
    strcpy(b.project, PROJECT);
    strcpy(b.id, "hubspot");
    strcpy(b.group, "acme-corp");
    strcpy(b.reason, "429 Too Many Requests");
    strcpy(b.route, "https://api.hubapi.com");
    memset(rec, 0xaa, sizeof(rec));
    amp_block_encode(&b, rec);

    expect_bytes(rec, 0, "\xef\xcd\xab\x89\x67\x45\x23\x01", 8);  /* key */
    expect_bytes(rec, 8, "\x2d\x1d\xca\x67\x00\x00\x00\x00", 8);  /* retry_at */
    expect_bytes(rec, 16, "\x0f\x1d\xca\x67\x00\x00\x00\x00", 8); /* recorded_at */
    expect_bytes(rec, 24, "\x88\x77\x66\x55\x44\x33\x22\x11", 8); /* hold_until */
    expect_bytes(rec, 32, "\x03\x00\x00\x00", 4);                 /* flags */
    expect_bytes(rec, 36, "\x00\x00\x00\x00", 4);                 /* reserved */
    expect_field(rec, 40, 128, PROXY);                            /* 40..167 */
    expect_field(rec, 168, 40, PROJECT);                          /* 168..207 */
    expect_field(rec, 208, 72, "hubspot");                        /* 208..279 */
    expect_field(rec, 280, 72, "acme-corp");                      /* 280..351 */
    expect_field(rec, 352, 96, "429 Too Many Requests");          /* 352..447 */
    expect_field(rec, 448, 64, "https://api.hubapi.com");         /* 448..511 */

    memset(&back, 0x55, sizeof(back));
    assert_int_equal(amp_block_decode(rec, &back), 0);
    expect_same_block(&back, &b);
    assert_memory_equal(&back, &b, sizeof(b)); /* padding zeroed by decode */
}

/* Every string at its longest: each ends with its NUL exactly at the last
 * byte of its field, and the next field starts right after. */
static void layout_longest_strings(void **state)
{
    (void)state;
    struct amp_block b, back;
    unsigned char rec[AMP_STATE_RECORD];

    memset(&b, 0, sizeof(b));
    b.key = 1;
    b.retry_at = -2; /* signed: two's complement, little-endian */
    memset(b.proxy, 'P', sizeof(b.proxy) - 1);
    memset(b.project, 'J', sizeof(b.project) - 1);
    memset(b.id, 'I', sizeof(b.id) - 1);
    memset(b.group, 'G', sizeof(b.group) - 1);
    memset(b.reason, 'R', sizeof(b.reason) - 1);
    memset(b.route, 'T', sizeof(b.route) - 1);
    amp_block_encode(&b, rec);

    expect_bytes(rec, 0, "\x01\x00\x00\x00\x00\x00\x00\x00", 8);
    expect_bytes(rec, 8, "\xfe\xff\xff\xff\xff\xff\xff\xff", 8);
    expect_zero(rec, 16, 40);
    static const struct {
        size_t off, width;
        char c;
    } f[] = { { 40, 128, 'P' }, { 168, 40, 'J' }, { 208, 72, 'I' }, { 280, 72, 'G' }, { 352, 96, 'R' },
              { 448, 64, 'T' } };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        for (size_t j = 0; j < f[i].width - 1; j++)
            if (rec[f[i].off + j] != (unsigned char)f[i].c)
                fail_msg("byte %zu: 0x%02x, expected '%c'", f[i].off + j, rec[f[i].off + j], f[i].c);
        assert_int_equal(rec[f[i].off + f[i].width - 1], 0);
    }

    assert_int_equal(amp_block_decode(rec, &back), 0);
    assert_memory_equal(&back, &b, sizeof(b));
    assert_int_equal(back.retry_at, -2);
}

/* A string that fills its array with no NUL is cut, never overrun. */
static void encode_cuts_unterminated_string(void **state)
{
    (void)state;
    struct amp_block b = block("inst-1", "", FAR), back;
    unsigned char rec[AMP_STATE_RECORD];

    memset(b.proxy, 'P', sizeof(b.proxy)); /* no NUL */
    amp_block_encode(&b, rec);
    assert_int_equal(rec[40 + 127], 0);
    expect_field(rec, 168, 40, PROJECT);
    assert_int_equal(amp_block_decode(rec, &back), 0);
    assert_int_equal(strlen(back.proxy), 127);
}

static void decode_rejects_bad_records(void **state)
{
    (void)state;
    struct amp_block b = block("hubspot", "acme-corp", FAR), out;
    unsigned char good[AMP_STATE_RECORD], rec[AMP_STATE_RECORD];

    amp_block_encode(&b, good);
    assert_int_equal(amp_block_decode(good, &out), 0);

    /* an unknown flag bit, whichever */
    for (int bit = 2; bit < 32; bit++) {
        memcpy(rec, good, sizeof(rec));
        uint32_t flags = 1u << bit;
        for (int i = 0; i < 4; i++)
            rec[32 + i] = (unsigned char)(flags >> (8 * i));
        if (amp_block_decode(rec, &out) != -1)
            fail_msg("flag bit %d accepted", bit);
    }
    /* the known ones are fine */
    memcpy(rec, good, sizeof(rec));
    rec[32] = 0x03;
    assert_int_equal(amp_block_decode(rec, &out), 0);
    assert_int_equal(out.flags, AMP_BLOCK_LOCKED | AMP_BLOCK_GUESSED);

    /* the reserved word, any byte of it */
    for (int i = 36; i < 40; i++) {
        memcpy(rec, good, sizeof(rec));
        rec[i] = 0x01;
        if (amp_block_decode(rec, &out) != -1)
            fail_msg("reserved byte %d nonzero accepted", i);
    }

    /* each string field without a NUL */
    static const struct {
        size_t off, width;
    } f[] = { { 40, 128 }, { 168, 40 }, { 208, 72 }, { 280, 72 }, { 352, 96 } };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        memcpy(rec, good, sizeof(rec));
        memset(rec + f[i].off, 'x', f[i].width);
        if (amp_block_decode(rec, &out) != -1)
            fail_msg("field at %zu without a NUL accepted", f[i].off);
        /* a NUL in its last byte is enough */
        rec[f[i].off + f[i].width - 1] = '\0';
        if (amp_block_decode(rec, &out) != 0)
            fail_msg("field at %zu with a NUL in its last byte refused", f[i].off);
    }
}

static void key_and_active(void **state)
{
    (void)state;
    uint64_t k = amp_block_key(PROXY, PROJECT, "inst-1", "");

    assert_true(k == amp_block_key(PROXY, PROJECT, "inst-1", ""));
    assert_true(k == amp_block_key(PROXY, PROJECT, "inst-1", NULL));
    assert_true(k != amp_block_key(PROXY, PROJECT, "inst-2", ""));
    assert_true(amp_block_key(PROXY, PROJECT, "ab", "c") != amp_block_key(PROXY, PROJECT, "a", "bc"));
    assert_true(amp_block_key(PROXY, PROJECT, "hubspot", "g1") !=
                amp_block_key(PROXY, PROJECT, "hubspot", "g2"));

    struct amp_block b = block("inst-1", "", NOW + 10);
    assert_int_equal(amp_block_active(&b, NOW + 9), 1);
    assert_int_equal(amp_block_active(&b, NOW + 10), 0);
    /* Recorded over a minute from now: the clock went back, the block is over. */
    assert_int_equal(amp_block_active(&b, NOW - 60), 1);
    assert_int_equal(amp_block_active(&b, NOW - 61), 0);
    assert_int_equal(amp_block_active(&b, INT64_MIN), 0);
    b.flags = AMP_BLOCK_LOCKED; /* hold_until 0: until cleared, whatever the clock says */
    assert_int_equal(amp_block_active(&b, NOW + 10), 1);
    assert_int_equal(amp_block_active(&b, INT64_MAX), 1);
    assert_int_equal(amp_block_active(&b, NOW - 86400), 1);
    b.hold_until = NOW + 100;
    assert_int_equal(amp_block_active(&b, NOW + 99), 1);
    assert_int_equal(amp_block_active(&b, NOW + 100), 0);
    assert_int_equal(amp_block_active(&b, NOW - 61), 0);
}

/* ---- the file ------------------------------------------------------------- */

/* The 64-byte header, from the raw bytes of the file. */
static void expect_header(const unsigned char *f, uint32_t count, uint64_t gen)
{
    expect_bytes(f, 0, "AMPSHIMS", 8);
    expect_bytes(f, 8, "\x01\x00\x00\x00", 4);  /* version 1 */
    expect_bytes(f, 12, "\x00\x02\x00\x00", 4); /* record size 512 */
    unsigned char c[4], g[8];
    for (int i = 0; i < 4; i++)
        c[i] = (unsigned char)(count >> (8 * i));
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned char)(gen >> (8 * i));
    expect_bytes(f, 16, c, 4);
    expect_zero(f, 20, 24);
    expect_bytes(f, 24, g, 8);
    expect_zero(f, 32, 64);
}

static void file_header(void **state)
{
    (void)state;
    char *path = state_path("header");
    struct amp_state *st = open_ok(path);
    struct amp_block a = block("inst-1", "", FAR), b = block("hubspot", "acme-corp", FAR);
    unsigned char *f, rec[AMP_STATE_RECORD];
    size_t len;

    f = read_bytes(path, &len);
    assert_int_equal(len, 0); /* opening writes nothing */
    free(f);

    record_ok(st, &a);
    f = read_bytes(path, &len);
    assert_int_equal(len, 64 + 512);
    expect_header(f, 1, 1);
    amp_block_encode(&a, rec);
    assert_memory_equal(f + 64, rec, 512);
    free(f);

    record_ok(st, &b);
    f = read_bytes(path, &len);
    assert_int_equal(len, 64 + 2 * 512);
    expect_header(f, 2, 2);
    amp_block_encode(&b, rec);
    assert_memory_equal(f + 64 + 512, rec, 512);
    free(f);

    size_t removed = 99;
    assert_int_equal(amp_state_clear(st, NULL, NULL, &removed), 0);
    assert_int_equal(removed, 2);
    f = read_bytes(path, &len);
    assert_int_equal(len, 64); /* shrunk to the header */
    expect_header(f, 0, 3);
    free(f);

    amp_state_close(st);
    free(path);
}

static void find_while_active(void **state)
{
    (void)state;
    char *path = state_path("find");
    struct amp_state *st = open_ok(path);
    struct amp_block b = block("inst-1", "", NOW + 60), out;

    assert_int_equal(found(st, b.key, NOW), 0); /* empty */
    record_ok(st, &b);
    memset(&out, 0, sizeof(out));
    assert_int_equal(amp_state_find(st, b.key, NOW, &out), 1);
    expect_same_block(&out, &b);
    assert_int_equal(found(st, b.key, NOW + 59), 1);
    assert_int_equal(found(st, b.key, NOW + 60), 0); /* retry_at reached */
    assert_int_equal(found(st, b.key, NOW + 3600), 0);
    assert_int_equal(found(st, b.key + 1, NOW), 0); /* another key */
    assert_int_equal(count_active(st, NOW), 1);
    assert_int_equal(count_active(st, NOW + 60), 0);

    amp_state_close(st);
    free(path);
}

static void locked_until_hold_or_cleared(void **state)
{
    (void)state;
    char *path = state_path("locked");
    struct amp_state *st = open_ok(path);
    struct amp_block held = block("inst-1", "", NOW + 60), forever = block("inst-2", "", NOW + 60);

    held.flags = AMP_BLOCK_LOCKED;
    held.hold_until = NOW + 3600;
    forever.flags = AMP_BLOCK_LOCKED;
    record_ok(st, &held);
    record_ok(st, &forever);

    assert_int_equal(found(st, held.key, NOW + 60), 1); /* past retry_at, held */
    assert_int_equal(found(st, held.key, NOW + 3599), 1);
    assert_int_equal(found(st, held.key, NOW + 3600), 0);
    assert_int_equal(found(st, forever.key, NOW + 3600), 1);
    assert_int_equal(found(st, forever.key, NOW + 100LL * 365 * 86400), 1);
    assert_int_equal(count_active(st, NOW + 3600), 1);

    size_t removed = 0;
    assert_int_equal(amp_state_clear(st, NULL, NULL, &removed), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(found(st, forever.key, NOW), 0);

    amp_state_close(st);
    free(path);
}

static void same_key_replaces(void **state)
{
    (void)state;
    char *path = state_path("replace");
    struct amp_state *st = open_ok(path);
    struct amp_block b = block("inst-1", "", NOW + 60), out;
    unsigned char *f;
    size_t len;

    record_ok(st, &b);
    b.retry_at = NOW + 600;
    snprintf(b.reason, sizeof(b.reason), "429 again");
    record_ok(st, &b);

    assert_int_equal(count_active(st, NOW), 1);
    assert_int_equal(amp_state_find(st, b.key, NOW + 300, &out), 1);
    assert_int_equal(out.retry_at, NOW + 600);
    assert_string_equal(out.reason, "429 again");
    f = read_bytes(path, &len);
    assert_int_equal(len, 64 + 512);
    expect_header(f, 1, 2);
    free(f);

    amp_state_close(st);
    free(path);
}

static int id_is(const struct amp_block *b, void *arg)
{
    return strcmp(b->id, arg) == 0;
}

static void clear_by_match_and_all(void **state)
{
    (void)state;
    char *path = state_path("clear");
    struct amp_state *st = open_ok(path);
    struct amp_block a = block("inst-1", "", FAR), b = block("inst-2", "", FAR),
                     c = block("hubspot", "g1", FAR), d = block("hubspot", "g2", FAR);
    struct amp_block *v = NULL;
    size_t n = 0, removed = 99;

    record_ok(st, &a), record_ok(st, &b), record_ok(st, &c), record_ok(st, &d);
    assert_int_equal(count_active(st, NOW), 4);

    assert_int_equal(amp_state_clear(st, id_is, "hubspot", &removed), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(amp_state_list(st, NOW, &v, &n), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(v[i].id, "hubspot");
    free(v);
    assert_int_equal(found(st, a.key, NOW), 1);
    assert_int_equal(found(st, b.key, NOW), 1);
    assert_int_equal(found(st, c.key, NOW), 0);
    assert_int_equal(found(st, d.key, NOW), 0);

    assert_int_equal(amp_state_clear(st, id_is, "nobody", &removed), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(count_active(st, NOW), 2);

    assert_int_equal(amp_state_clear(st, NULL, NULL, &removed), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(count_active(st, NOW), 0);
    assert_int_equal(found(st, a.key, NOW), 0);
    assert_int_equal(amp_state_clear(st, NULL, NULL, NULL), 0); /* removed may be NULL */

    amp_state_close(st);
    free(path);
}

static void list_only_active(void **state)
{
    (void)state;
    char *path = state_path("list");
    struct amp_state *st = open_ok(path);
    struct amp_block soon = block("inst-1", "", NOW + 10), late = block("inst-2", "", NOW + 1000);
    struct amp_block *v = NULL;
    size_t n = 0;

    record_ok(st, &soon), record_ok(st, &late);
    assert_int_equal(amp_state_list(st, NOW + 10, &v, &n), 0);
    assert_int_equal(n, 1);
    expect_same_block(&v[0], &late);
    free(v);

    amp_state_close(st);
    free(path);
}

/* ---- two processes' handles on one file --------------------------------- */

static void two_handles_see_each_other(void **state)
{
    (void)state;
    char *path = state_path("two");
    struct amp_state *one = open_ok(path), *two = open_ok(path);
    struct amp_block a = block("inst-1", "", FAR), b = block("inst-2", "", FAR), out;

    /* both read (and cache) the empty state first */
    assert_int_equal(found(one, a.key, NOW), 0);
    assert_int_equal(found(two, a.key, NOW), 0);

    record_ok(one, &a);
    usleep((AMP_STATE_RECHECK_MS + 20) * 1000); /* two looks again only after this */
    assert_int_equal(amp_state_find(two, a.key, NOW, &out), 1);
    expect_same_block(&out, &a);

    record_ok(two, &b); /* one's cache is of generation 1 */
    usleep((AMP_STATE_RECHECK_MS + 20) * 1000);
    assert_int_equal(found(one, b.key, NOW), 1);
    assert_int_equal(count_active(one, NOW), 2);

    /* a change in the same second must be seen too: the generation moves */
    a.retry_at = FAR + 1;
    record_ok(one, &a);
    usleep((AMP_STATE_RECHECK_MS + 20) * 1000);
    assert_int_equal(amp_state_find(two, a.key, NOW, &out), 1);
    assert_int_equal(out.retry_at, FAR + 1);

    size_t removed = 0;
    assert_int_equal(amp_state_clear(two, id_is, "inst-1", &removed), 0);
    assert_int_equal(removed, 1);
    usleep((AMP_STATE_RECHECK_MS + 20) * 1000);
    assert_int_equal(found(one, a.key, NOW), 0);
    assert_int_equal(found(one, b.key, NOW), 1);

    amp_state_close(one);
    amp_state_close(two);
    free(path);
}

/* Nothing recorded, as just read: quiet for RECHECK_MS of the coarse wall
 * clock from that read, and not before it (a clock set back ends the
 * spell: the file is read again), nor after. A record ends it at once. */
static void quiet_for_one_spell_of_the_clock(void **state)
{
    (void)state;
    char *path = state_path("quiet");
    struct amp_state *st = open_ok(path);
    struct amp_block a = block("inst-1", "", FAR);

    assert_int_equal(amp_state_quiet(st, amp_clock_ms(amp_clock())), 0); /* never read */
    int64_t before = amp_clock_ms(amp_clock());
    assert_int_equal(found(st, a.key, NOW), 0);
    int64_t after = amp_clock_ms(amp_clock());
    assert_int_equal(amp_state_quiet(st, after), after - before < AMP_STATE_RECHECK_MS);
    assert_int_equal(amp_state_quiet(st, before + AMP_STATE_RECHECK_MS), 0);
    assert_int_equal(amp_state_quiet(st, after + AMP_STATE_RECHECK_MS), 0);
    assert_int_equal(amp_state_quiet(st, before - 1), 0);
    assert_int_equal(amp_state_quiet(st, before - 3600 * 1000), 0);

    record_ok(st, &a);
    assert_int_equal(amp_state_quiet(st, after), 0);

    amp_state_close(st);
    free(path);
}

/* ---- corrupt files ---------------------------------------------------- */

/* A state at scratch/sub/state made of bytes: the first look sets it
 * aside with a warning, and the state then works. */
static void expect_set_aside(const char *sub, const void *bytes, size_t len)
{
    char *dir = make_dir(sub), *path = state_path(sub), *aside;
    struct amp_block b = block("inst-1", "", FAR);
    unsigned char *f;
    size_t flen;

    write_bytes(path, bytes, len);
    watch_warnings();
    struct amp_state *st = open_ok(path);
    assert_int_equal(found(st, b.key, NOW), 0);

    if (warnings < 1)
        fail_msg("no warning for %s", sub);
    if (!strstr(last_warning, "set aside"))
        fail_msg("warning '%s' does not say 'set aside'", last_warning);
    assert_int_equal(count_prefixed(dir, "state.corrupt-"), 1);
    assert_true(asprintf(&aside, "%s/state.corrupt-", dir) > 0);
    if (!strstr(last_warning, aside))
        fail_msg("warning '%s' does not name %s*", last_warning, aside);
    free(aside);

    /* the file at the path is new, and works */
    record_ok(st, &b);
    assert_int_equal(found(st, b.key, NOW), 1);
    f = read_bytes(path, &flen);
    assert_int_equal(flen, 64 + 512);
    expect_header(f, 1, 1);
    free(f);
    /* and through a fresh handle */
    struct amp_state *again = open_ok(path);
    assert_int_equal(found(again, b.key, NOW), 1);
    amp_state_close(again);
    assert_int_equal(count_prefixed(dir, "state.corrupt-"), 1);

    amp_state_set_warn(NULL);
    amp_state_close(st);
    free(dir);
    free(path);
}

/* A valid header for count records, and filler after it. */
static unsigned char *header_bytes(uint32_t version, uint32_t count, size_t total)
{
    unsigned char *f = calloc(1, total < 64 ? 64 : total);

    assert_non_null(f);
    memcpy(f, "AMPSHIMS", 8);
    f[8] = (unsigned char)version;
    f[13] = 0x02; /* 512 */
    f[16] = (unsigned char)count;
    f[24] = 7; /* generation */
    return f;
}

/* A file whose header says generation 0 is read like any other: its
 * blocks hold, and a corrupt body behind such a header is set aside. */
static void generation_zero_is_read(void **state)
{
    (void)state;
    char *path = state_path("gen0");
    struct amp_block b = block("inst-gen0", "", FAR);
    size_t len = 64 + 512;
    unsigned char *f = header_bytes(1, 1, len);

    free(make_dir("gen0"));
    f[24] = 0;
    amp_block_encode(&b, f + 64);
    write_bytes(path, f, len);
    struct amp_state *st = open_ok(path);
    assert_int_equal(found(st, b.key, NOW), 1);
    amp_state_close(st);
    free(f);

    f = header_bytes(1, 1, len);
    f[24] = 0;
    memset(f + 64, 0xee, 512);
    expect_set_aside("gen0-corrupt", f, len);
    free(f);
    free(path);
}

static void corrupt_garbage(void **state)
{
    (void)state;
    unsigned char junk[3000];

    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    expect_set_aside("garbage", junk, sizeof(junk));
    expect_set_aside("garbage-short", "hello", 5);
}

static void corrupt_truncated(void **state)
{
    (void)state;
    struct amp_block b = block("inst-9", "", FAR);
    size_t len = 64 + 512; /* three records announced, one there */
    unsigned char *f = header_bytes(1, 3, len);

    amp_block_encode(&b, f + 64);
    expect_set_aside("truncated", f, len);
    free(f);
    /* a header cut short */
    f = header_bytes(1, 0, 64);
    expect_set_aside("truncated-header", f, 40);
    free(f);
}

static void corrupt_other_version(void **state)
{
    (void)state;
    unsigned char *f = header_bytes(2, 0, 64);

    expect_set_aside("version2", f, 64);
    free(f);
}

static void corrupt_record(void **state)
{
    (void)state;
    struct amp_block b = block("inst-9", "", FAR);
    unsigned char *f = header_bytes(1, 1, 64 + 512);

    amp_block_encode(&b, f + 64);
    f[64 + 32] = 0x80; /* an unknown flag */
    expect_set_aside("bad-record", f, 64 + 512);
    free(f);
}

/* Recording (not only finding) sets a bad file aside too. */
static void corrupt_seen_by_record(void **state)
{
    (void)state;
    char *dir = make_dir("garbage-rec"), *path = state_path("garbage-rec");
    struct amp_block b = block("inst-1", "", FAR);

    write_bytes(path, "definitely not a state file, long enough to have a header......", 64);
    watch_warnings();
    struct amp_state *st = open_ok(path);
    record_ok(st, &b);
    assert_true(warnings >= 1);
    assert_int_equal(count_prefixed(dir, "state.corrupt-"), 1);
    assert_int_equal(found(st, b.key, NOW), 1);
    assert_int_equal(count_active(st, NOW), 1);

    amp_state_set_warn(NULL);
    amp_state_close(st);
    free(dir);
    free(path);
}

/* ---- refusals and modes ----------------------------------------------- */

static void symlink_refused(void **state)
{
    (void)state;
    char *dir = make_dir("symlink"), *path = in_scratch("symlink/state"),
         *target = in_scratch("symlink/target"), *missing = in_scratch("symlink/missing");
    const char precious[] = "precious bytes, not a state file";
    struct stat before, after;
    unsigned char *f;
    size_t len;

    write_bytes(target, precious, sizeof(precious));
    assert_int_equal(chmod(target, 0644), 0);
    assert_int_equal(stat(target, &before), 0);
    assert_int_equal(symlink(target, path), 0);
    expect_refused(path, "symlink");

    f = read_bytes(target, &len);
    assert_int_equal(len, sizeof(precious));
    assert_memory_equal(f, precious, len);
    free(f);
    assert_int_equal(stat(target, &after), 0);
    assert_int_equal(after.st_mode & 07777, 0644); /* not made private either */
    assert_int_equal(after.st_mtime, before.st_mtime);

    /* a dangling symlink: the target is not created */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink(missing, path), 0);
    expect_refused(path, "symlink");
    assert_int_equal(access(missing, F_OK), -1);

    free(dir), free(path), free(target), free(missing);
}

static void symlinked_folder_refused(void **state)
{
    (void)state;
    char *real = make_dir("realdir"), *link = in_scratch("linkdir"),
         *path = in_scratch("linkdir/state"), *inreal = in_scratch("realdir/state");

    assert_int_equal(symlink(real, link), 0);
    expect_refused(path, "symlink");
    assert_int_equal(access(inreal, F_OK), -1);

    free(real), free(link), free(path), free(inreal);
}

static void writable_folder_refused(void **state)
{
    (void)state;
    char *dir = make_dir("shared"), *path = in_scratch("shared/state");
    static const mode_t modes[] = { 0770, 0707, 0720, 0702, 0777 };

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        assert_int_equal(chmod(dir, modes[i]), 0);
        char err[512] = "";
        struct amp_state *st = amp_state_open(path, err, sizeof(err));
        if (st) {
            amp_state_close(st);
            fail_msg("folder mode %o accepted", (unsigned)modes[i]);
        }
        assert_true(err[0] != '\0');
        assert_int_equal(access(path, F_OK), -1);
    }
    assert_int_equal(chmod(dir, 0700), 0);
    amp_state_close(open_ok(path)); /* private again: fine */
    assert_int_equal(chmod(dir, 0750), 0);
    amp_state_close(open_ok(path)); /* readable by the group: fine */

    free(dir), free(path);
}

static void created_private(void **state)
{
    (void)state;
    char *dir = in_scratch("private"), *path = state_path("private");
    mode_t old = umask(0); /* the modes must not depend on the umask */
    char err[512] = "";
    struct amp_state *st = amp_state_open(path, err, sizeof(err));
    struct stat sb;

    umask(old);
    if (!st)
        fail_msg("amp_state_open(%s): %s", path, err);
    assert_int_equal(lstat(dir, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0700);
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0600);
    amp_state_close(st);

    /* an existing file readable by others is made private */
    assert_int_equal(chmod(path, 0644), 0);
    st = open_ok(path);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0600);
    amp_state_close(st);

    free(dir), free(path);
}

/* Root can give the file away; anyone else skips. */
static void foreign_file_refused(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    char *dir = make_dir("foreign"), *path = in_scratch("foreign/state");

    write_bytes(path, "", 0);
    assert_int_equal(chown(path, 54321, 54321), 0);
    expect_refused(path, "not a regular file of this user");

    free(dir), free(path);
}

/* ---- concurrent writers --------------------------------------------------- */

#define WRITERS 8
#define PER_WRITER 50

static uint64_t writer_key(int w, int i)
{
    return 0x5eed000000000000ULL | (uint64_t)(w + 1) << 16 | (uint64_t)(i + 1);
}

/* In a child: no cmocka there. Exit status 0 when all went well. */
static void writer(const char *path, struct amp_state *inherited, int w, int go)
{
    char err[512];
    struct amp_state *st = inherited ? inherited : amp_state_open(path, err, sizeof(err));
    char c;

    if (!st)
        _exit(10);
    if (read(go, &c, 1) != 0) /* wait until every writer is there */
        _exit(11);
    for (int i = 0; i < PER_WRITER; i++) {
        struct amp_block b = block("inst", "", FAR);
        snprintf(b.id, sizeof(b.id), "w%d-%d", w, i);
        b.key = writer_key(w, i);
        b.recorded_at = time(NULL); /* as the library does */
        if (amp_state_record(st, &b) != 0)
            _exit(12);
        struct amp_block out;
        if (amp_state_find(st, b.key, b.recorded_at, &out) != 1 || out.key != b.key)
            _exit(13);
    }
    amp_state_close(st);
    _exit(0);
}

/* writers processes recording PER_WRITER keys each, started together;
 * with inherited, all through the parent's handle (each must reopen). */
static void run_writers(const char *path, struct amp_state *inherited, int writers)
{
    pid_t pids[WRITERS];
    int go[2];

    assert_int_equal(pipe(go), 0);
    for (int w = 0; w < writers; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            close(go[1]);
            writer(path, inherited, w, go[0]);
        }
    }
    close(go[0]);
    close(go[1]); /* all start */
    /* all of them, before failing: none may outlive the test */
    int status[WRITERS], bad = -1;
    for (int w = 0; w < writers; w++) {
        while (waitpid(pids[w], &status[w], 0) < 0)
            assert_int_equal(errno, EINTR);
        if (bad < 0 && (!WIFEXITED(status[w]) || WEXITSTATUS(status[w]) != 0))
            bad = w;
    }
    if (bad >= 0)
        fail_msg("writer %d: %s %d", bad, WIFEXITED(status[bad]) ? "exit" : "signal",
                 WIFEXITED(status[bad]) ? WEXITSTATUS(status[bad]) : WTERMSIG(status[bad]));
}

/* Every key of writers x PER_WRITER in st, and nothing else, at the time the
 * writers recorded them (a block recorded in the future says the clock went back). */
static void expect_all_keys(struct amp_state *st, int writers)
{
    struct amp_block *v = NULL;
    size_t n = 0;
    char seen[WRITERS][PER_WRITER];

    memset(seen, 0, sizeof(seen));
    assert_int_equal(amp_state_list(st, time(NULL), &v, &n), 0);
    assert_int_equal(n, (size_t)writers * PER_WRITER);
    for (size_t k = 0; k < n; k++) {
        uint64_t w = ((v[k].key >> 16) & 0xffff) - 1, i = (v[k].key & 0xffff) - 1;
        if ((v[k].key >> 48) != 0x5eed || w >= (uint64_t)writers || i >= PER_WRITER ||
            v[k].key != writer_key((int)w, (int)i))
            fail_msg("unexpected key %016llx", (unsigned long long)v[k].key);
        if (seen[w][i]++)
            fail_msg("key of writer %d, record %d twice", (int)w, (int)i);
        char id[72];
        snprintf(id, sizeof(id), "w%d-%d", (int)w, (int)i);
        assert_string_equal(v[k].id, id);
    }
    free(v);
    for (int w = 0; w < writers; w++)
        for (int i = 0; i < PER_WRITER; i++)
            assert_true(found(st, writer_key(w, i), time(NULL)));
}

static void concurrent_writers_lose_nothing(void **state)
{
    (void)state;
    char *dir = in_scratch("concurrent"), *path = state_path("concurrent");
    unsigned char *f;
    size_t len;

    watch_warnings();
    struct amp_state *st = open_ok(path); /* creates the folder */
    run_writers(path, NULL, WRITERS);
    expect_all_keys(st, WRITERS);
    assert_int_equal(warnings, 0);
    assert_int_equal(count_prefixed(dir, "state.corrupt-"), 0);

    f = read_bytes(path, &len);
    assert_int_equal(len, 64 + WRITERS * PER_WRITER * 512);
    expect_header(f, WRITERS * PER_WRITER, WRITERS * PER_WRITER); /* one write each */
    free(f);

    amp_state_set_warn(NULL);
    amp_state_close(st);
    free(dir), free(path);
}

/* A handle opened before fork: the children share its open file, so its
 * flock would not keep them apart unless each reopens. */
static void inherited_handle_reopens(void **state)
{
    (void)state;
    char *path = state_path("inherited");
    struct amp_state *st = open_ok(path);

    assert_int_equal(count_active(st, NOW), 0); /* open and cached before fork */
    run_writers(path, st, 4);
    expect_all_keys(st, 4);

    amp_state_close(st);
    free(path);
}

/* ---- default path, memory-only ------------------------------------------ */

/* XDG_RUNTIME_DIR as it was, put back whatever the test did. */
static int save_runtime_dir(void **state)
{
    const char *was = getenv("XDG_RUNTIME_DIR");

    *state = was ? strdup(was) : NULL;
    return was && !*state ? -1 : 0;
}

static int restore_runtime_dir(void **state)
{
    if (*state)
        setenv("XDG_RUNTIME_DIR", *state, 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
    free(*state);
    return 0;
}

static void default_path(void **state)
{
    (void)state;
    char buf[512], want[512];

    setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
    assert_int_equal(amp_state_default_path(buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/run/user/4242/ampshim/state");
    assert_int_equal(amp_state_default_path(buf, 10), -1); /* too small */

    unsetenv("XDG_RUNTIME_DIR");
    snprintf(want, sizeof(want), "/tmp/ampshim-%u/state", (unsigned)geteuid());
    assert_int_equal(amp_state_default_path(buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);

    setenv("XDG_RUNTIME_DIR", "relative/dir", 1); /* not absolute: ignored */
    assert_int_equal(amp_state_default_path(buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);
}

static void memory_only(void **state)
{
    (void)state;
    struct amp_state *st = open_ok(NULL), *other = open_ok(NULL);
    struct amp_block a = block("inst-1", "", NOW + 60), b = block("hubspot", "g1", FAR), out;
    size_t removed = 0;

    assert_int_equal(found(st, a.key, NOW), 0);
    record_ok(st, &a);
    record_ok(st, &b);
    assert_int_equal(amp_state_find(st, a.key, NOW, &out), 1);
    expect_same_block(&out, &a);
    assert_int_equal(found(st, a.key, NOW + 60), 0);
    assert_int_equal(count_active(st, NOW), 2);
    a.retry_at = NOW + 600;
    record_ok(st, &a); /* replaces */
    assert_int_equal(count_active(st, NOW), 2);
    assert_int_equal(found(st, a.key, NOW + 300), 1);
    assert_int_equal(found(other, a.key, NOW), 0); /* nothing shared */

    assert_int_equal(amp_state_clear(st, id_is, "hubspot", &removed), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(found(st, b.key, NOW), 0);
    assert_int_equal(found(st, a.key, NOW), 1);

    amp_state_close(st);
    amp_state_close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout_byte_for_byte),
        cmocka_unit_test(route_of_a_block),
        cmocka_unit_test(layout_longest_strings),
        cmocka_unit_test(encode_cuts_unterminated_string),
        cmocka_unit_test(decode_rejects_bad_records),
        cmocka_unit_test(key_and_active),
        cmocka_unit_test(file_header),
        cmocka_unit_test(find_while_active),
        cmocka_unit_test(locked_until_hold_or_cleared),
        cmocka_unit_test(same_key_replaces),
        cmocka_unit_test(clear_by_match_and_all),
        cmocka_unit_test(list_only_active),
        cmocka_unit_test(two_handles_see_each_other),
        cmocka_unit_test(corrupt_garbage),
        cmocka_unit_test(corrupt_truncated),
        cmocka_unit_test(corrupt_other_version),
        cmocka_unit_test(corrupt_record),
        cmocka_unit_test(corrupt_seen_by_record),
        cmocka_unit_test(symlink_refused),
        cmocka_unit_test(symlinked_folder_refused),
        cmocka_unit_test(writable_folder_refused),
        cmocka_unit_test(created_private),
        cmocka_unit_test(foreign_file_refused),
        cmocka_unit_test(concurrent_writers_lose_nothing),
        cmocka_unit_test(inherited_handle_reopens),
        cmocka_unit_test_setup_teardown(default_path, save_runtime_dir, restore_runtime_dir),
        cmocka_unit_test(memory_only),
        cmocka_unit_test(generation_zero_is_read),
        cmocka_unit_test(quiet_for_one_spell_of_the_clock),
    };

    return cmocka_run_group_tests(tests, make_scratch, drop_scratch);
}
