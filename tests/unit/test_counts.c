/* The per-route counters file (src/counts.c): counts from several writers
 * summed (past what a flush sums on the stack, and by processes at once),
 * the later last status kept, the 4096-record cap, a damaged file set aside
 * (never read wrong), a version-1 file read and upgraded, a reset, and the
 * state's refusals (a symlink); hash.h's FNV-1a, which sums the file, at
 * every length around its eight-byte steps. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "counts.h"
#include "hash.h"

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/ampshim-counts-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/state.counts", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct amp_counts one(uint64_t key, const char *name, uint32_t status, int64_t at)
{
    struct amp_counts c;

    memset(&c, 0, sizeof(c));
    c.key = key;
    snprintf(c.name, sizeof(c.name), "%s", name);
    c.routed = 1;
    c.answers[status / 100 - 2] = 1;
    c.status429 = status == 429;
    c.last_status = status;
    c.last_at = at;
    return c;
}

static void counts_summed(void **state)
{
    (void)state;
    char err[256];
    struct amp_counts a[2] = { one(1, "https://a (inst-a)", 200, 100), one(2, "https://b (inst-b)", 429, 100) };
    struct amp_counts b[2] = { one(1, "https://a (inst-a)", 500, 90), one(3, "https://c (c)", 302, 110) };
    struct amp_counts *got;
    size_t n;

    b[0].blocked = 4;
    assert_int_equal(amp_counts_add(path, a, 2, err, sizeof(err)), 0);
    assert_int_equal(amp_counts_add(path, b, 2, err, sizeof(err)), 0);
    assert_int_equal(amp_counts_add(path, a, 1, err, sizeof(err)), 0);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_int_equal(got[0].key, 1);
    assert_int_equal(got[0].routed, 3);
    assert_int_equal(got[0].answers[AMP_2XX], 2);
    assert_int_equal(got[0].answers[AMP_5XX], 1);
    assert_int_equal(got[0].blocked, 4);
    assert_int_equal(got[0].last_status, 200); /* at 100, not the 500 at 90 */
    assert_string_equal(got[0].name, "https://a (inst-a)");
    assert_int_equal(got[1].status429, 1);
    assert_int_equal(got[1].answers[AMP_4XX], 1);
    assert_int_equal(got[2].answers[AMP_3XX], 1);
    free(got);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

/* Many routes: the file grows past what a flush sums on the stack (16
 * records), in one add and across adds, and every count stays its
 * route's; a long name is cut to what the record holds. */
static void many_routes_summed(void **state)
{
    (void)state;
    char err[256], name[32];
    struct amp_counts add[40], *got;
    size_t n;

    for (int round = 0; round < 3; round++) {
        /* 10, then 30, then 40 routes: the second add crosses 16 records. */
        size_t k = round == 0 ? 10 : round == 1 ? 30 : 40;
        for (size_t i = 0; i < k; i++) {
            snprintf(name, sizeof(name), "https://r%zu", i);
            add[i] = one(1000 + i, name, 200, 5);
            add[i].routed = i + 1;
        }
        assert_int_equal(amp_counts_add(path, add, k, err, sizeof(err)), 0);
    }
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 40);
    for (size_t i = 0; i < 40; i++) {
        uint64_t rounds = i < 10 ? 3 : i < 30 ? 2 : 1;
        assert_int_equal(got[i].key, 1000 + i);
        assert_int_equal(got[i].routed, rounds * (i + 1));
        assert_int_equal(got[i].answers[AMP_2XX], rounds);
        snprintf(name, sizeof(name), "https://r%zu", i);
        assert_string_equal(got[i].name, name);
    }
    free(got);
    struct amp_counts longer = one(1000, "", 200, 6);
    memset(longer.name, 'n', sizeof(longer.name) - 1);
    assert_int_equal(amp_counts_add(path, &longer, 1, err, sizeof(err)), 0);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(strlen(got[0].name), AMP_COUNTS_RECORD - 80 - 1);
    assert_int_equal(got[1].key, 1001);
    free(got);
}

/* Around what a flush sums on the stack (16 records): a file of 14 to 18
 * records added to with its own keys and 0 to 3 new ones (15 + 1 and 16 + 0
 * exactly fill it, 16 + 1 does not), and at the cap of 4096 records a new
 * key dropped while the others are still summed. */
static void records_around_the_stack_and_the_cap(void **state)
{
    (void)state;
    char err[256], name[32];
    struct amp_counts *all = calloc(AMP_COUNTS_MAX + 8, sizeof(*all)), *got;
    size_t n;

    assert_non_null(all);
    for (size_t i = 0; i < AMP_COUNTS_MAX + 8; i++) {
        snprintf(name, sizeof(name), "https://r%zu", i);
        all[i] = one(100 + i, name, 200, 5);
        all[i].routed = i + 1;
    }
    for (size_t have = 14; have <= 18; have++)
        for (size_t fresh = 0; fresh <= 3; fresh++) {
            unlink(path); /* (none at first) */
            assert_int_equal(amp_counts_add(path, all, have, err, sizeof(err)), 0);
            assert_int_equal(amp_counts_add(path, all, have + fresh, err, sizeof(err)), 0);
            assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
            assert_int_equal(n, have + fresh);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(got[i].key, 100 + i);
                assert_int_equal(got[i].routed, (i < have ? 2 : 1) * (i + 1));
                snprintf(name, sizeof(name), "https://r%zu", i);
                assert_string_equal(got[i].name, name);
            }
            free(got);
        }
    assert_int_equal(unlink(path), 0);
    assert_int_equal(amp_counts_add(path, all, AMP_COUNTS_MAX - 1, err, sizeof(err)), 0);
    /* 5 known, 5 new: the first new one is the last that fits. */
    assert_int_equal(amp_counts_add(path, all + AMP_COUNTS_MAX - 6, 10, err, sizeof(err)), 0);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, AMP_COUNTS_MAX);
    assert_int_equal(got[AMP_COUNTS_MAX - 2].routed, 2 * (AMP_COUNTS_MAX - 1));
    assert_int_equal(got[AMP_COUNTS_MAX - 1].key, 100 + AMP_COUNTS_MAX - 1);
    assert_int_equal(got[AMP_COUNTS_MAX - 1].routed, AMP_COUNTS_MAX);
    free(got);
    free(all);
}

/* Processes adding at once, some adds summed on the stack and some not
 * (1 to 20 routes): every count arrives once. */
static void processes_adding_at_once(void **state)
{
    (void)state;
    char err[256];
    struct amp_counts *got;
    size_t n;
    uint64_t want = 0, sum = 0;

    for (int p = 0; p < 8; p++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct amp_counts a[20];
            alarm(20);
            for (int i = 0; i < 20; i++)
                a[i] = one((uint64_t)(p * 3 + i) % 20 + 1, "https://p (p)", 200, p);
            for (int k = 0; k < 200; k++)
                if (amp_counts_add(path, a, (size_t)(1 + (k + p) % 20), err, sizeof(err)) < 0)
                    _exit(1);
            _exit(0);
        }
        assert_true(pid > 0);
        for (int k = 0; k < 200; k++)
            want += (uint64_t)(1 + (k + p) % 20);
    }
    for (int p = 0; p < 8; p++) {
        int status = 0;
        assert_true(wait(&status) > 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 20);
    for (size_t i = 0; i < n; i++)
        sum += got[i].routed + 1000000 * (got[i].routed != got[i].answers[AMP_2XX]);
    assert_int_equal(sum, want);
    free(got);
}

static void damaged_file_set_aside(void **state)
{
    (void)state;
    char err[256];
    struct amp_counts a = one(7, "x", 200, 1), *got;
    size_t n;
    FILE *f;

    assert_int_equal(amp_counts_add(path, &a, 1, err, sizeof(err)), 0);
    /* One byte of a record changed: the checksum says so. */
    assert_non_null(f = fopen(path, "r+"));
    fseek(f, AMP_COUNTS_HEADER + 8, SEEK_SET);
    fputc(0x55, f);
    fclose(f);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    assert_null(got);
    /* The same, found by the next add (which knows what it wrote last):
     * counting starts anew, the damaged record not summed into. */
    assert_int_equal(amp_counts_add(path, &a, 1, err, sizeof(err)), 0);
    assert_non_null(f = fopen(path, "r+"));
    fseek(f, AMP_COUNTS_HEADER + 8, SEEK_SET);
    fputc(0x55, f);
    fclose(f);
    assert_int_equal(amp_counts_add(path, &a, 1, err, sizeof(err)), 0);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].routed, 1);
    free(got);
    /* Cut short. */
    assert_int_equal(amp_counts_add(path, &a, 1, err, sizeof(err)), 0);
    assert_int_equal(truncate(path, AMP_COUNTS_HEADER + 100), 0);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    assert_int_equal(amp_counts_add(path, &a, 1, err, sizeof(err)), 0);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].routed, 1);
    free(got);
}

/* FNV-1a 64 from a given basis, written here apart from hash.h so that the
 * test checks the numbers, not the code against itself. */
static uint64_t fnv_from(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* hash.h's sum, eight bytes a step, against the byte loop above at each
 * length from 0 to 40 and from two bases; and FNV's own published values
 * (the reference test vectors: "" is the basis, "a", "foobar"). */
static void fnv_at_every_length(void **state)
{
    unsigned char buf[41];

    (void)state;
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 37 + 201);
    for (size_t n = 0; n <= 40; n++) {
        assert_true(amp_fnv1a(buf, n) == fnv_from(14695981039346656037ULL, buf, n));
        assert_true(amp_fnv1a_more(1469598103934665603ULL, buf + 1, n) ==
                    fnv_from(1469598103934665603ULL, buf + 1, n));
    }
    assert_true(amp_fnv1a("", 0) == 0xcbf29ce484222325ULL);
    assert_true(amp_fnv1a("a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(amp_fnv1a("foobar", 6) == 0x85944171f73967e8ULL);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The file as it is on disk: header and records. */
static size_t slurp(unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void spit(const unsigned char *buf, size_t n)
{
    FILE *f = fopen(path, "r+");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
}

/* Version 1 summed its records from 1469598103934665603 (not FNV's offset
 * basis): such a file is read whole, and the next write makes it version 2
 * with the real basis. A version-1 header over a version-2 sum, or a later
 * version, is set aside. */
static void version_1_read_then_upgraded(void **state)
{
    (void)state;
    char err[256];
    struct amp_counts a[2] = { one(11, "https://a (inst-a)", 200, 5), one(12, "https://b (b)", 503, 6) };
    struct amp_counts *got;
    unsigned char buf[AMP_COUNTS_HEADER + 4 * AMP_COUNTS_RECORD];
    size_t n, len;

    assert_int_equal(amp_counts_add(path, a, 2, err, sizeof(err)), 0);
    len = slurp(buf, sizeof(buf));
    assert_int_equal(len, AMP_COUNTS_HEADER + 2 * AMP_COUNTS_RECORD);
    /* Written as version 2, summed from 14695981039346656037. */
    assert_int_equal(buf[8], 2);
    assert_true(get64(buf + 24) ==
                fnv_from(14695981039346656037ULL, buf + AMP_COUNTS_HEADER, len - AMP_COUNTS_HEADER));

    /* Made into what version 1 wrote. */
    put32(buf + 8, 1);
    uint64_t old = fnv_from(1469598103934665603ULL, buf + AMP_COUNTS_HEADER, len - AMP_COUNTS_HEADER);
    for (int i = 0; i < 8; i++)
        buf[24 + i] = (unsigned char)(old >> (8 * i));
    spit(buf, len);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_int_equal(got[0].key, 11);
    assert_int_equal(got[1].answers[AMP_5XX], 1);
    free(got);
    /* Added to: kept, and written back as version 2. */
    assert_int_equal(amp_counts_add(path, a, 1, err, sizeof(err)), 0);
    len = slurp(buf, sizeof(buf));
    assert_int_equal(buf[8], 2);
    assert_true(get64(buf + 24) ==
                fnv_from(14695981039346656037ULL, buf + AMP_COUNTS_HEADER, len - AMP_COUNTS_HEADER));
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 2);
    assert_int_equal(got[0].routed, 2);
    free(got);

    /* Version 1 in the header, a version-2 sum: damaged, set aside. */
    put32(buf + 8, 1);
    spit(buf, len);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    /* A version from the future: set aside, not read. */
    assert_int_equal(amp_counts_add(path, a, 1, err, sizeof(err)), 0);
    len = slurp(buf, sizeof(buf));
    put32(buf + 8, 3);
    spit(buf, len);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
}

static void reset_empties(void **state)
{
    (void)state;
    char err[256];
    struct amp_counts a = one(9, "x", 200, 1), *got;
    size_t n;

    assert_int_equal(amp_counts_add(path, &a, 1, err, sizeof(err)), 0);
    assert_int_equal(amp_counts_reset(path, err, sizeof(err)), 0);
    assert_int_equal(amp_counts_read(path, &got, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
}

static void symlink_refused(void **state)
{
    (void)state;
    char err[256], link[160];
    struct amp_counts a = one(9, "x", 200, 1);

    snprintf(link, sizeof(link), "%s/link.counts", dir);
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(amp_counts_add(link, &a, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "symlink"));
}

/* One thread adds to a large file (its lock held for a while each time)
 * while another forks children that add once and exit: a child forked in
 * the middle of an add shares the locked file, and must never keep it
 * locked (it, and the adding thread, would wait forever). Each child and
 * the thread get 20 seconds; none may run out of them. */
static _Atomic int adding = 1;

static void *keep_adding(void *arg)
{
    char err[256];
    struct amp_counts a = one(1, "https://a (inst-a)", 200, 1);

    (void)arg;
    /* (A short pause between adds: flock is not fair, and a child must
     * get its turn on a loaded machine; a real flush is once a second.) */
    while (adding) {
        if (amp_counts_add(path, &a, 1, err, sizeof(err)) < 0)
            break;
        usleep(2000);
    }
    return NULL;
}

static void fork_while_adding(void **state)
{
    (void)state;
    char err[256];
    struct amp_counts *many = calloc(AMP_COUNTS_MAX, sizeof(*many));
    pthread_t t;
    struct timespec until;

    for (unsigned i = 0; i < AMP_COUNTS_MAX; i++)
        many[i] = one(1000 + i, "https://filler (f)", 200, 1);
    assert_int_equal(amp_counts_add(path, many, AMP_COUNTS_MAX, err, sizeof(err)), 0);
    free(many);
    assert_int_equal(pthread_create(&t, NULL, keep_adding, NULL), 0);
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct amp_counts a = one(2, "https://b (inst-b)", 200, 1);
            alarm(20);
            _exit(amp_counts_add(path, &a, 1, err, sizeof(err)) == 0 ? 0 : 1);
        }
        int status = 0;
        assert_true(pid > 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("child %d: %s", i, WIFSIGNALED(status) ? "stuck on the lock (killed)" : "failed");
    }
    adding = 0;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    if (pthread_timedjoin_np(t, NULL, &until) != 0)
        fail_msg("the adding thread is stuck on the lock");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(counts_summed, setup, teardown),
        cmocka_unit_test_setup_teardown(many_routes_summed, setup, teardown),
        cmocka_unit_test_setup_teardown(records_around_the_stack_and_the_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(processes_adding_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_file_set_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(version_1_read_then_upgraded, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_empties, setup, teardown),
        cmocka_unit_test_setup_teardown(symlink_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(fork_while_adding, setup, teardown),
        cmocka_unit_test(fnv_at_every_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
