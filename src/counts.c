/* The per-route counters file (counts.h): read, sum, write back, all under
 * flock, in the same private folder, with the same refusals, as the
 * rate-limit state. */
#define _GNU_SOURCE
#include "counts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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

static void encode(const struct amp_counts *c, unsigned char *r)
{
    memset(r, 0, AMP_COUNTS_RECORD);
    amp_put64(r + 0, c->key);
    amp_put64(r + 8, c->routed);
    for (int i = 0; i < AMP_CLASSES; i++)
        amp_put64(r + 16 + 8 * i, c->answers[i]);
    amp_put64(r + 48, c->status429);
    amp_put64(r + 56, c->blocked);
    amp_put32(r + 64, c->last_status);
    amp_put64(r + 72, (uint64_t)c->last_at);
    memcpy(r + 80, c->name, strnlen(c->name, sizeof(c->name) - 1));
}

static void decode(const unsigned char *r, struct amp_counts *c)
{
    memset(c, 0, sizeof(*c));
    c->key = amp_get64(r + 0);
    c->routed = amp_get64(r + 8);
    for (int i = 0; i < AMP_CLASSES; i++)
        c->answers[i] = amp_get64(r + 16 + 8 * i);
    c->status429 = amp_get64(r + 48);
    c->blocked = amp_get64(r + 56);
    c->last_status = amp_get32(r + 64);
    c->last_at = (int64_t)amp_get64(r + 72);
    memcpy(c->name, r + 80, sizeof(c->name) - 1);
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

/* The records of the locked file; a file that does not read as ours is
 * set aside and read as empty. 1 when it was renamed aside: fd names the
 * file set aside now, which is never written (the caller opens the path
 * again). -1 only when memory or the disk fail. */
static int load(int fd, const char *path, struct amp_counts **out, size_t *n)
{
    struct stat sb;
    unsigned char hdr[AMP_COUNTS_HEADER], *body = NULL;
    const char *bad = NULL;
    uint32_t count = 0;

    *out = NULL;
    *n = 0;
    if (fstat(fd, &sb) < 0)
        return -1;
    if (sb.st_size == 0)
        return 0;
    if (sb.st_size < (off_t)AMP_COUNTS_HEADER || pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
        memcmp(hdr, AMP_COUNTS_MAGIC, 8) != 0)
        bad = "not a counters file";
    else if ((amp_get32(hdr + 8) != AMP_COUNTS_VERSION && amp_get32(hdr + 8) != 1) ||
             amp_get32(hdr + 12) != AMP_COUNTS_RECORD)
        bad = "of another version";
    else {
        count = amp_get32(hdr + 16);
        if (count > AMP_COUNTS_MAX ||
            sb.st_size != (off_t)(AMP_COUNTS_HEADER + (size_t)count * AMP_COUNTS_RECORD))
            bad = "cut short";
    }
    if (!bad && count) {
        size_t len = (size_t)count * AMP_COUNTS_RECORD;
        body = malloc(len);
        if (!body)
            goto fail;
        *out = calloc(count, sizeof(**out));
        if (!*out)
            goto fail;
        if (pread(fd, body, len, AMP_COUNTS_HEADER) != (ssize_t)len)
            goto fail;
        if (checksum(amp_get32(hdr + 8), body, len) != amp_get64(hdr + 24)) {
            bad = "damaged (its checksum does not match)";
        } else {
            for (uint32_t i = 0; i < count; i++)
                decode(body + (size_t)i * AMP_COUNTS_RECORD, &(*out)[i]);
            *n = count;
        }
    }
    free(body);
    if (bad) {
        char aside[PATH_MAX + 64];
        free(*out);
        *out = NULL;
        *n = 0;
        snprintf(aside, sizeof(aside), "%s.corrupt-%ld-%ld", path, (long)time(NULL), (long)getpid());
        if (rename(path, aside) == 0) {
            amp_state_warnf("%s was %s: set aside as %s and counting starts anew", path, bad, aside);
            return 1;
        }
        if (ftruncate(fd, 0) == 0)
            amp_state_warnf("%s was %s: emptied, and counting starts anew", path, bad);
    }
    return 0;
fail:
    free(body);
    free(*out);
    *out = NULL;
    return -1;
}

/* The records written over the locked file's contents. */
static int store(int fd, const struct amp_counts *c, size_t n)
{
    size_t len = AMP_COUNTS_HEADER + n * AMP_COUNTS_RECORD;
    unsigned char *buf = calloc(1, len);
    int rc = -1;

    if (!buf)
        return -1;
    memcpy(buf, AMP_COUNTS_MAGIC, 8);
    amp_put32(buf + 8, AMP_COUNTS_VERSION);
    amp_put32(buf + 12, AMP_COUNTS_RECORD);
    amp_put32(buf + 16, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        encode(&c[i], buf + AMP_COUNTS_HEADER + i * AMP_COUNTS_RECORD);
    amp_put64(buf + 24, checksum(AMP_COUNTS_VERSION, buf + AMP_COUNTS_HEADER, n * AMP_COUNTS_RECORD));
    if (pwrite(fd, buf, len, 0) == (ssize_t)len && ftruncate(fd, (off_t)len) == 0)
        rc = 0;
    free(buf);
    return rc;
}

static void sum(struct amp_counts *into, const struct amp_counts *add)
{
    into->routed += add->routed;
    for (int i = 0; i < AMP_CLASSES; i++)
        into->answers[i] += add->answers[i];
    into->status429 += add->status429;
    into->blocked += add->blocked;
    if (add->last_status && add->last_at >= into->last_at) {
        into->last_status = add->last_status;
        into->last_at = add->last_at;
    }
    if (add->name[0])
        memcpy(into->name, add->name, sizeof(into->name));
}

int amp_counts_add(const char *path, const struct amp_counts *add, size_t n, char *err,
                   size_t errlen)
{
    struct amp_counts *c = NULL;
    size_t have = 0;
    int fd = open_locked(path, err, errlen), rc = -1;

    if (fd < 0)
        return -1;
    int loaded;
    /* A file set aside keeps what it held: the counts go to a new one at
     * the path (another process may have made it meanwhile). */
    for (int tries = 0; (loaded = load(fd, path, &c, &have)) > 0 && tries < 8; tries++) {
        unlock_close(fd);
        fd = open_locked(path, err, errlen);
        if (fd < 0)
            return -1;
    }
    if (loaded != 0)
        goto out;
    struct amp_counts *grown = realloc(c, (have + n) * sizeof(*c));
    if (!grown)
        goto out;
    c = grown;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < have && c[j].key != add[i].key)
            j++;
        if (j == have) {
            if (have == AMP_COUNTS_MAX)
                continue;
            memset(&c[have++], 0, sizeof(*c));
            c[j].key = add[i].key;
        }
        sum(&c[j], &add[i]);
    }
    rc = store(fd, c, have);
out:
    if (rc < 0)
        snprintf(err, errlen, "cannot add to %s: %s", path, errno ? strerror(errno) : "out of memory");
    free(c);
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
    int rc = load(fd, path, out, n) < 0 ? -1 : 0;
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
