/* The per-route counters file (counts.h): read, sum, write back, all under
 * flock, in the same private folder, with the same refusals, as the
 * rate-limit state. */
#define _GNU_SOURCE
#include "counts.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "le.h"
#include "state.h"

int amp_counts_path(const char *state_path, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s.counts", state_path);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Version 1 files were summed from 1469598103934665603, not FNV's offset
 * basis (a digit lost): still read, so that an upgrade keeps the counts;
 * the next write makes the file version 2. */
#define V1_BASIS 1469598103934665603ULL

static uint64_t checksum(uint32_t version, const unsigned char *p, size_t n)
{
    return amp_fnv1a_more(version == 1 ? V1_BASIS : AMP_FNV1A64_BASIS, p, n);
}

/* A process's few routes are summed on the stack: a flush, once a second,
 * allocates nothing, so it neither pays for a large allocation nor
 * reshapes the heap the program's libcurl uses. */
#define SMALL_RECORDS 16

/* The records this process wrote last and their checksum. A flush reads
 * back, most times, just what the one before wrote (no other process
 * added since): those bytes, compared, are known to sum to it, and are not
 * summed again. Any byte changed (another writer, a write cut short) and
 * they are. Never waited for: a thread that finds it taken (or a child
 * forked while another thread held it) sums as before. */
static struct {
    pthread_mutex_t lock;
    size_t len;
    uint64_t sum;
    unsigned char body[SMALL_RECORDS * AMP_COUNTS_RECORD];
} written = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Whether body (len bytes, of a file of version) sums to stored. */
static int sums_to(uint32_t version, const unsigned char *body, size_t len, uint64_t stored)
{
    int same = 0;

    if (version == AMP_COUNTS_VERSION && pthread_mutex_trylock(&written.lock) == 0) {
        same = written.len == len && written.sum == stored && memcmp(written.body, body, len) == 0;
        pthread_mutex_unlock(&written.lock);
    }
    return same || checksum(version, body, len) == stored;
}

static void remember_written(const unsigned char *body, size_t len, uint64_t sum)
{
    if (pthread_mutex_trylock(&written.lock) != 0)
        return;
    written.len = len <= sizeof(written.body) ? len : 0;
    written.sum = len <= sizeof(written.body) ? sum : 0;
    memcpy(written.body, body, written.len);
    pthread_mutex_unlock(&written.lock);
}

/* A record's fields, at their offsets: the numbers summed. */
#define R_ROUTED 8
#define R_ANSWERS 16
#define R_429 48
#define R_BLOCKED 56
#define R_LAST_STATUS 64
#define R_LAST_AT 72
#define R_NAME 80

static void decode(const unsigned char *r, struct amp_counts *c)
{
    memset(c, 0, sizeof(*c));
    c->key = amp_get64(r + 0);
    c->routed = amp_get64(r + R_ROUTED);
    for (int i = 0; i < AMP_CLASSES; i++)
        c->answers[i] = amp_get64(r + R_ANSWERS + 8 * i);
    c->status429 = amp_get64(r + R_429);
    c->blocked = amp_get64(r + R_BLOCKED);
    c->last_status = amp_get32(r + R_LAST_STATUS);
    c->last_at = (int64_t)amp_get64(r + R_LAST_AT);
    memcpy(c->name, r + R_NAME, sizeof(c->name) - 1);
}

static void add64(unsigned char *p, uint64_t v)
{
    amp_put64(p, amp_get64(p) + v);
}

/* add summed into the record r, in place: the last status the later one. */
static void sum(unsigned char *r, const struct amp_counts *add)
{
    add64(r + R_ROUTED, add->routed);
    for (int i = 0; i < AMP_CLASSES; i++)
        add64(r + R_ANSWERS + 8 * i, add->answers[i]);
    add64(r + R_429, add->status429);
    add64(r + R_BLOCKED, add->blocked);
    if (add->last_status && add->last_at >= (int64_t)amp_get64(r + R_LAST_AT)) {
        amp_put32(r + R_LAST_STATUS, add->last_status);
        amp_put64(r + R_LAST_AT, (uint64_t)add->last_at);
    }
    if (add->name[0]) {
        memset(r + R_NAME, 0, AMP_COUNTS_RECORD - R_NAME);
        memcpy(r + R_NAME, add->name, strnlen(add->name, sizeof(add->name) - 1));
    }
}

/* A locked descriptor closed. The lock belongs to the open file, which a
 * child forked meanwhile (another thread's fork) shares: closing alone
 * would leave it locked for as long as the child keeps its copy, and the
 * child's own flush, and ours, would wait for it forever. */
static void unlock_close(int fd)
{
    flock(fd, LOCK_UN);
    close(fd);
}

/* The file at path, opened and locked: the one there now (another process
 * may have set the old one aside since). -1 and err. */
static int open_locked(const char *path, char *err, size_t errlen)
{
    for (int tries = 0; tries < 8; tries++) {
        struct stat a, b;
        int fd = amp_state_private_file(path, err, errlen);
        if (fd < 0)
            return -1;
        while (flock(fd, LOCK_EX) < 0)
            if (errno != EINTR) {
                snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
                unlock_close(fd);
                return -1;
            }
        if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev)
            return fd;
        unlock_close(fd);
    }
    snprintf(err, errlen, "%s keeps changing under us", path);
    return -1;
}

/* The records of the locked file, as they are written, checked, in *body
 * (*n of them), with room for `room` more: in small (`cap` bytes) when
 * they fit, else malloc'd (*body NULL with none and no room). A file that
 * does not read as ours is set aside and read as empty. 1 when it was
 * renamed aside: fd names the file set aside now, which is never written
 * (the caller opens the path again). -1 only when memory or the disk fail. */
static int load(int fd, const char *path, size_t room, unsigned char *small, size_t cap,
                unsigned char **body, size_t *n)
{
    struct stat sb;
    unsigned char hdr[AMP_COUNTS_HEADER];
    const char *bad = NULL;
    uint32_t count = 0;

    *body = NULL;
    *n = 0;
    if (fstat(fd, &sb) < 0)
        return -1;
    if (sb.st_size == 0) {
        count = 0;
    } else if (sb.st_size < (off_t)AMP_COUNTS_HEADER ||
               pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
               memcmp(hdr, AMP_COUNTS_MAGIC, 8) != 0) {
        bad = "not a counters file";
    } else if ((amp_get32(hdr + 8) != AMP_COUNTS_VERSION && amp_get32(hdr + 8) != 1) ||
               amp_get32(hdr + 12) != AMP_COUNTS_RECORD) {
        bad = "of another version";
    } else {
        count = amp_get32(hdr + 16);
        if (count > AMP_COUNTS_MAX ||
            sb.st_size != (off_t)(AMP_COUNTS_HEADER + (size_t)count * AMP_COUNTS_RECORD))
            bad = "cut short";
    }
    size_t len = bad ? 0 : (size_t)count * AMP_COUNTS_RECORD;
    size_t want = len + room * AMP_COUNTS_RECORD;
    if (want) {
        *body = want <= cap ? small : malloc(want);
        if (!*body)
            return -1;
    }
    if (len) {
        if (pread(fd, *body, len, AMP_COUNTS_HEADER) != (ssize_t)len) {
            if (*body != small)
                free(*body);
            *body = NULL;
            return -1;
        }
        if (!sums_to(amp_get32(hdr + 8), *body, len, amp_get64(hdr + 24)))
            bad = "damaged (its checksum does not match)";
        else
            *n = count;
    }
    if (bad) {
        char aside[PATH_MAX + 64];
        snprintf(aside, sizeof(aside), "%s.corrupt-%ld-%ld", path, (long)time(NULL), (long)getpid());
        if (rename(path, aside) == 0) {
            amp_state_warnf("%s was %s: set aside as %s and counting starts anew", path, bad, aside);
            if (*body != small)
                free(*body);
            *body = NULL;
            return 1;
        }
        if (ftruncate(fd, 0) == 0)
            amp_state_warnf("%s was %s: emptied, and counting starts anew", path, bad);
    }
    return 0;
}

/* The n records written over the locked file's contents, behind their header. */
static int store(int fd, const unsigned char *body, size_t n)
{
    unsigned char hdr[AMP_COUNTS_HEADER] = { 0 };
    size_t len = n * AMP_COUNTS_RECORD;
    struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)body, len } };

    memcpy(hdr, AMP_COUNTS_MAGIC, 8);
    amp_put32(hdr + 8, AMP_COUNTS_VERSION);
    amp_put32(hdr + 12, AMP_COUNTS_RECORD);
    amp_put32(hdr + 16, (uint32_t)n);
    uint64_t sum = checksum(AMP_COUNTS_VERSION, body, len);
    amp_put64(hdr + 24, sum);
    if (pwritev(fd, iov, 2, 0) != (ssize_t)(sizeof(hdr) + len) ||
        ftruncate(fd, (off_t)(sizeof(hdr) + len)) < 0)
        return -1;
    remember_written(body, len, sum);
    return 0;
}

int amp_counts_add(const char *path, const struct amp_counts *add, size_t n, char *err,
                   size_t errlen)
{
    unsigned char small[SMALL_RECORDS * AMP_COUNTS_RECORD], *body = NULL;
    size_t have = 0;
    int fd = open_locked(path, err, errlen), rc = -1;

    if (fd < 0)
        return -1;
    int loaded;
    /* A file set aside keeps what it held: the counts go to a new one at
     * the path (another process may have made it meanwhile). */
    for (int tries = 0; (loaded = load(fd, path, n, small, sizeof(small), &body, &have)) > 0 && tries < 8;
         tries++) {
        unlock_close(fd);
        fd = open_locked(path, err, errlen);
        if (fd < 0)
            return -1;
    }
    if (loaded != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < have && amp_get64(body + j * AMP_COUNTS_RECORD) != add[i].key)
            j++;
        if (j == have) {
            if (have == AMP_COUNTS_MAX)
                continue;
            memset(body + j * AMP_COUNTS_RECORD, 0, AMP_COUNTS_RECORD);
            amp_put64(body + j * AMP_COUNTS_RECORD, add[i].key);
            have++;
        }
        sum(body + j * AMP_COUNTS_RECORD, &add[i]);
    }
    rc = store(fd, body, have);
out:
    if (rc < 0)
        snprintf(err, errlen, "cannot add to %s: %s", path, errno ? strerror(errno) : "out of memory");
    if (body != small)
        free(body);
    unlock_close(fd);
    return rc;
}

int amp_counts_read(const char *path, struct amp_counts **out, size_t *n, char *err, size_t errlen)
{
    int fd = open_locked(path, err, errlen);

    *out = NULL;
    *n = 0;
    if (fd < 0)
        return -1;
    unsigned char *body;
    size_t have;
    int rc = load(fd, path, 0, NULL, 0, &body, &have) < 0 ? -1 : 0;
    if (rc == 0 && have) {
        *out = calloc(have, sizeof(**out));
        for (size_t i = 0; *out && i < have; i++)
            decode(body + i * AMP_COUNTS_RECORD, &(*out)[i]);
        rc = *out ? 0 : -1;
        *n = *out ? have : 0;
    }
    free(body);
    if (rc < 0)
        snprintf(err, errlen, "cannot read %s: %s", path, errno ? strerror(errno) : "out of memory");
    unlock_close(fd);
    return rc;
}

int amp_counts_reset(const char *path, char *err, size_t errlen)
{
    int fd = open_locked(path, err, errlen);

    if (fd < 0)
        return -1;
    int rc = ftruncate(fd, 0);
    if (rc < 0)
        snprintf(err, errlen, "cannot empty %s: %s", path, strerror(errno));
    unlock_close(fd);
    return rc;
}
