/* The shared retry state file. Every change is a read-modify-write under
 * flock(LOCK_EX); a reader re-reads only when the header's generation has
 * moved, so checking a route costs one pread. A file that cannot be read
 * as ours is set aside (renamed, with a warning) and rebuilt, never
 * trusted and never a crash. */
#define _GNU_SOURCE
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "le.h"
#include "ownfd.h"

struct amp_state {
    char *path;           /* NULL: kept in this process's memory only */
    struct amp_ownfd file; /* checked to be ours before each use (ownfd.h) */
    pid_t pid;            /* flock belongs to the open file: a forked child reopens */
    pthread_mutex_t lock; /* threads of this process */
    uint64_t gen;         /* generation the cache was read at */
    int read;             /* the cache holds the file as read (or written) since opening:
                             a generation alone cannot say so (a file may hold 0) */
    struct amp_block *cache;
    size_t ncache;
    time_t checked_path;  /* when the path was last compared with fd */
    int64_t checked_ms;   /* when the header was last read (now_ms) */
    /* The ms (now_ms) before which no route is blocked (0: not known): the
     * common case, a request on a route nobody blocked, takes no lock. */
    _Atomic int64_t quiet_until;
};


/* getpid() is a system call: asked once, and again in a forked child
 * (the fork handler calls amp_state_fork_child). */
static pid_t self_pid;

void amp_state_fork_child(void)
{
    self_pid = 0;
}

static pid_t current_pid(void)
{
    if (!self_pid)
        self_pid = getpid();
    return self_pid;
}

/* The coarse wall clock's millisecond (clock.h), the one a transfer's
 * start reads already: a spell measured in it is taken as over whenever
 * the clock is found outside it, set back as well as gone past. */
static int64_t now_ms(void)
{
    return amp_clock_ms(amp_clock());
}

/* ms is within the spell of RECHECK_MS that began at since. */
static int within(int64_t since, int64_t ms)
{
    return (uint64_t)(ms - since) < AMP_STATE_RECHECK_MS;
}

static void (*warn_fn)(const char *msg);

void amp_state_set_warn(void (*warn)(const char *msg))
{
    warn_fn = warn;
}

void amp_state_warnf(const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!warn_fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    warn_fn(msg);
}

/* --- the record layout ------------------------------------------------------ */


/* --- the file ------------------------------------------------------------------ */

/* A folder of this user's that nobody else can write to (not a symlink). */
static int own_private_dir(const char *dir)
{
    struct stat st;

    return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
           !(st.st_mode & 022);
}

/* In /tmp, shared with every user, /tmp/ampshim-UID may have been made by
 * someone else (or opened to others). Then /tmp/ampshim-UID.1, .2, ...:
 * the first that is a private folder of ours, or that we make. Every
 * process of the user (the library, the launcher) tries them in the same
 * order and so settles on the same one; each is made here, as it is
 * tried, so that no other user can take it between the look and its use.
 * 0, 1 when the first was passed over (said through amp_state_warnf), -1
 * when none will do. */
static int tmp_name(char *dir, size_t len, unsigned uid, int i)
{
    int n = i ? snprintf(dir, len, "/tmp/ampshim-%u.%d", uid, i)
              : snprintf(dir, len, "/tmp/ampshim-%u", uid);

    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* The i-th name is ours: 0 for the first, 1 (said once) for another. */
static int took(unsigned uid, int i, const char *dir)
{
    if (i)
        amp_state_warnf("/tmp/ampshim-%u is not this user's own folder (another user's, or "
                        "writable by others): the rate-limit state and counters are kept in %s "
                        "instead",
                        uid, dir);
    return i ? 1 : 0;
}

static int tmp_dir(char *dir, size_t len)
{
    unsigned uid = (unsigned)geteuid();

    /* A folder of ours that is there already wins, whichever its number:
     * every process of this user agrees on it, even after the folder that
     * made one pass over the first name is taken away (a process that
     * chose .1 then, and one starting now, keep one state). */
    for (int i = 0; i < AMP_STATE_TMP_TRIES; i++) {
        if (tmp_name(dir, len, uid, i) < 0)
            return -1;
        if (own_private_dir(dir))
            return took(uid, i, dir);
    }
    /* None yet: the first name we can make ours. */
    for (int i = 0; i < AMP_STATE_TMP_TRIES; i++) {
        if (tmp_name(dir, len, uid, i) < 0)
            return -1;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return 0; /* /tmp itself refuses: ensure_dir says why */
        if (own_private_dir(dir))
            return took(uid, i, dir);
    }
    amp_state_warnf("none of /tmp/ampshim-%u and /tmp/ampshim-%u.1 to .%d is a private folder of "
                    "this user's",
                    uid, uid, AMP_STATE_TMP_TRIES - 1);
    return -1;
}

int amp_state_default_path(char *buf, size_t len)
{
    const char *run = secure_getenv("XDG_RUNTIME_DIR");
    char dir[64];
    int rc = 0, n;

    if (run && run[0] == '/') {
        n = snprintf(buf, len, "%s/ampshim/state", run);
    } else {
        rc = tmp_dir(dir, sizeof(dir));
        if (rc < 0)
            return -1;
        n = snprintf(buf, len, "%s/state", dir);
    }
    return n > 0 && (size_t)n < len ? rc : -1;
}

/* The folder: created 0700; an existing one must be a real folder of
 * ours that nobody else can write to (/tmp is shared). */
static int ensure_dir(const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    struct stat st;
    const char *slash = strrchr(path, '/');

    if (!slash || slash == path)
        return 0;
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno != EEXIST) {
        /* The operator reads this in a service's journal: whom it ran as, and the fix
         * (where the folder is not this user's to make; a full disk is not that). */
        int e = errno;
        if (e == EACCES || e == EPERM || e == EROFS)
            snprintf(err, errlen, "cannot create %s: %s (this process runs as uid %u: set "
                     "throttle.state_file to a file in a folder that uid owns, mode 700)",
                     dir, strerror(e), (unsigned)geteuid());
        else
            snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
        return -1;
    }
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a folder (a symlink is never followed)", dir);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(err, errlen, "%s belongs to uid %u, not to uid %u that this process runs as: "
                 "refusing it (set throttle.state_file to a file in a folder uid %u owns, mode 700)",
                 dir, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid());
        return -1;
    }
    if (st.st_mode & 022) {
        snprintf(err, errlen, "%s can be written by others: chmod 700 %s", dir, dir);
        return -1;
    }
    return 0;
}

static int open_file(const char *path, int extra, char *err, size_t errlen);

int amp_state_private_file(const char *path, char *err, size_t errlen)
{
    return ensure_dir(path, err, errlen) < 0 ? -1 : open_file(path, 0, err, errlen);
}

static int open_file(const char *path, int extra, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | extra, 0600);

    if (fd < 0) {
        if (errno == ELOOP)
            snprintf(err, errlen, "%s is a symlink: refusing to follow it", path);
        else
            snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    /* A second hard link could make us chmod, and write, someone's file. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1) {
        snprintf(err, errlen, "%s is not a regular file of this user: refusing it", path);
        close(fd);
        return -1;
    }
    if ((st.st_mode & 077) && fchmod(fd, 0600) < 0) {
        snprintf(err, errlen, "%s is readable by others and cannot be made private", path);
        close(fd);
        return -1;
    }
    return fd;
}

static void drop_cache(struct amp_state *st)
{
    st->checked_ms = 0;
    free(st->cache);
    st->cache = NULL;
    st->ncache = 0;
    st->gen = 0;
    st->read = 0;
}

static int reopen(struct amp_state *st)
{
    char err[512];

    amp_ownfd_close(&st->file); /* only if still ours */
    drop_cache(st);
    st->pid = current_pid();
    /* The folder too, checked as at the start: a cleaner of /tmp (systemd-tmpfiles, an
     * operator's rm -rf) may have taken it away under a running service, whose next 429
     * would then go unrecorded. */
    if (amp_ownfd_keep(&st->file, amp_state_private_file(st->path, err, sizeof(err))) < 0) {
        amp_state_warnf("%s", err);
        return -1;
    }
    return 0;
}

/* flock the file that is at the path now: another process may have set
 * the old one aside, or someone removed it, since we opened ours. */
static int lock_current(struct amp_state *st)
{
    for (int tries = 0; tries < 8; tries++) {
        struct stat a, b;
        /* Not ours any more (the application has the number): a new one. */
        if (!amp_ownfd_ours(&st->file, NULL) && reopen(st) < 0)
            return -1;
        while (flock(st->file.fd, LOCK_EX) < 0)
            if (errno != EINTR)
                return -1;
        if (fstat(st->file.fd, &a) == 0 && lstat(st->path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev)
            return 0;
        flock(st->file.fd, LOCK_UN);
        if (reopen(st) < 0)
            return -1;
    }
    return -1;
}

static void unlock(struct amp_state *st)
{
    flock(st->file.fd, LOCK_UN);
}

/* Under the lock: rename the unreadable file aside and start anew. */
static int set_aside(struct amp_state *st, const char *why)
{
    char aside[PATH_MAX + 64], err[512];

    snprintf(aside, sizeof(aside), "%s.corrupt-%ld-%ld", st->path, (long)time(NULL), (long)getpid());
    if (rename(st->path, aside) < 0) {
        amp_state_warnf("%s is %s and cannot be set aside: %s", st->path, why, strerror(errno));
        return -1;
    }
    amp_state_warnf("%s was %s: set aside as %s and started anew", st->path, why, aside);
    unlock(st);
    amp_ownfd_close(&st->file);
    drop_cache(st);
    if (amp_ownfd_keep(&st->file, open_file(st->path, 0, err, sizeof(err))) < 0) {
        amp_state_warnf("%s", err);
        return -1;
    }
    return lock_current(st);
}

/* Under the lock: the whole file into the cache. */
static int read_locked(struct amp_state *st)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        struct stat sb;
        unsigned char hdr[AMP_STATE_HEADER];
        const char *why = NULL;

        if (fstat(st->file.fd, &sb) < 0)
            return -1;
        drop_cache(st);
        if (sb.st_size == 0) {
            st->checked_ms = now_ms();
            st->read = 1;
            return 0; /* new: no record yet */
        }
        uint32_t count = 0;
        if (sb.st_size < (off_t)AMP_STATE_HEADER ||
            pread(st->file.fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
            why = "truncated";
        else if (memcmp(hdr, AMP_STATE_MAGIC, 8) != 0)
            why = "not an ampshim state file";
        else if (amp_get32(hdr + 8) != AMP_STATE_VERSION || amp_get32(hdr + 12) != AMP_STATE_RECORD)
            why = "of another layout version";
        else {
            count = amp_get32(hdr + 16);
            if (count > AMP_STATE_MAX_RECORDS ||
                sb.st_size != (off_t)(AMP_STATE_HEADER + (size_t)count * AMP_STATE_RECORD))
                why = "truncated";
        }
        if (!why) {
            unsigned char *buf = malloc((size_t)count * AMP_STATE_RECORD + 1);
            st->cache = calloc(count + 1, sizeof(*st->cache));
            if (!buf || !st->cache) {
                free(buf);
                return -1;
            }
            ssize_t want = (ssize_t)count * AMP_STATE_RECORD;
            if (pread(st->file.fd, buf, (size_t)want, AMP_STATE_HEADER) != want)
                why = "truncated";
            for (uint32_t i = 0; !why && i < count; i++)
                if (amp_block_decode(buf + (size_t)i * AMP_STATE_RECORD, &st->cache[i]) < 0)
                    why = "corrupt";
            free(buf);
            if (!why) {
                st->ncache = count;
                st->gen = amp_get64(hdr + 24);
                st->checked_ms = now_ms();
                st->read = 1;
                return 0;
            }
            drop_cache(st);
        }
        if (set_aside(st, why) < 0)
            return -1;
    }
    return -1;
}

/* Under the lock: the cache out to the file, with a new generation. */
static int write_locked(struct amp_state *st)
{
    size_t len = AMP_STATE_HEADER + st->ncache * AMP_STATE_RECORD;
    unsigned char *buf = calloc(1, len);

    if (!buf)
        return -1;
    memcpy(buf, AMP_STATE_MAGIC, 8);
    amp_put32(buf + 8, AMP_STATE_VERSION);
    amp_put32(buf + 12, AMP_STATE_RECORD);
    amp_put32(buf + 16, (uint32_t)st->ncache);
    amp_put64(buf + 24, st->gen + 1);
    for (size_t i = 0; i < st->ncache; i++)
        amp_block_encode(&st->cache[i], buf + AMP_STATE_HEADER + i * AMP_STATE_RECORD);
    int rc = pwrite(st->file.fd, buf, len, 0) == (ssize_t)len && ftruncate(st->file.fd, (off_t)len) == 0
                 ? 0
                 : -1;
    free(buf);
    if (rc == 0) {
        st->gen++;
        st->checked_ms = now_ms();
        st->read = 1;
    }
    return rc;
}

struct amp_state *amp_state_open(const char *path, char *err, size_t errlen)
{
    struct amp_state *st = calloc(1, sizeof(*st));

    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&st->lock, NULL);
    st->file = AMP_OWNFD_NONE;
    st->pid = current_pid();
    if (!path) /* memory only */
        return st;
    int bad = ensure_dir(path, err, errlen) < 0;
    if (!bad) {
        st->path = strdup(path);
        bad = !st->path || amp_ownfd_keep(&st->file, open_file(path, 0, err, errlen)) < 0;
    }
    if (bad) {
        amp_state_close(st);
        return NULL;
    }
    return st;
}

void amp_state_fork_prepare(struct amp_state *st)
{
    pthread_mutex_lock(&st->lock);
}

void amp_state_fork_release(struct amp_state *st)
{
    pthread_mutex_unlock(&st->lock);
}

void amp_state_close(struct amp_state *st)
{
    if (!st)
        return;
    amp_ownfd_close(&st->file);
    drop_cache(st);
    free(st->path);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* Has the file moved on since the cache was read? Not looked at again
 * within RECHECK_MS; then one pread of the header, and once a second a
 * look at whether the path still names our file. 1 when the cache is
 * current. */
static int cache_current(struct amp_state *st, int fresh)
{
    unsigned char hdr[AMP_STATE_HEADER];
    int64_t ms = now_ms();

    if (st->pid != current_pid() || !st->read)
        return 0;
    if (!fresh && st->checked_ms && within(st->checked_ms, ms))
        return 1;
    st->checked_ms = ms;
    struct stat a, b;
    /* Not read if the application has its number now (refresh opens anew). */
    if (!amp_ownfd_ours(&st->file, &a))
        return 0;
    time_t now = time(NULL);
    if (now != st->checked_path) {
        st->checked_path = now;
        if (lstat(st->path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
            return 0;
    }
    ssize_t n = pread(st->file.fd, hdr, sizeof(hdr), 0);
    if (n == 0)
        return st->gen == 0 && st->ncache == 0;
    return n == (ssize_t)sizeof(hdr) && memcmp(hdr, AMP_STATE_MAGIC, 8) == 0 &&
           amp_get64(hdr + 24) == st->gen;
}

static int refresh(struct amp_state *st, int fresh)
{
    if (!st->path)
        return 0;
    if (st->file.fd >= 0 && st->pid == current_pid() && cache_current(st, fresh))
        return 0;
    if ((st->pid != current_pid() || st->file.fd < 0) && reopen(st) < 0)
        return -1;
    if (lock_current(st) < 0)
        return -1;
    int rc = read_locked(st);
    unlock(st);
    return rc;
}

int amp_state_quiet(struct amp_state *st, int64_t ms)
{
    int64_t quiet = atomic_load_explicit(&st->quiet_until, memory_order_acquire);

    /* Until quiet, no further: within the spell that ends there. */
    return quiet && (quiet == INT64_MAX || within(quiet - AMP_STATE_RECHECK_MS, ms));
}

int amp_state_find(struct amp_state *st, uint64_t key, int64_t now, struct amp_block *out)
{
    int found = 0;

    if (amp_state_quiet(st, now_ms()))
        return 0;
    pthread_mutex_lock(&st->lock);
    /* On failure the last known state still holds, but is not known quiet. */
    int current = refresh(st, 0) == 0;
    for (size_t i = 0; i < st->ncache && !found; i++)
        if (st->cache[i].key == key && amp_block_active(&st->cache[i], now)) {
            *out = st->cache[i];
            found = 1;
        }
    /* Nothing recorded at all: until the header is due to be read again
     * (never, for a state kept in memory), nothing is blocked. */
    int64_t quiet = 0;
    if (current && st->ncache == 0)
        quiet = !st->path ? INT64_MAX : st->checked_ms ? st->checked_ms + AMP_STATE_RECHECK_MS : 0;
    atomic_store_explicit(&st->quiet_until, quiet, memory_order_release);
    pthread_mutex_unlock(&st->lock);
    return found;
}

/* Read, let change() edit the cache, write: all under the lock. */
static int modify(struct amp_state *st, int (*change)(struct amp_state *, void *), void *arg)
{
    int rc = -1;

    pthread_mutex_lock(&st->lock);
    atomic_store_explicit(&st->quiet_until, 0, memory_order_release);
    if (!st->path) {
        rc = change(st, arg);
    } else if ((st->pid == current_pid() && st->file.fd >= 0) || reopen(st) == 0) {
        if (lock_current(st) == 0) {
            if (read_locked(st) == 0 && change(st, arg) == 0)
                rc = write_locked(st);
            unlock(st);
        }
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

/* Drops records that no longer stop anything. */
static void prune(struct amp_state *st, int64_t now)
{
    size_t j = 0;

    for (size_t i = 0; i < st->ncache; i++)
        if (amp_block_active(&st->cache[i], now))
            st->cache[j++] = st->cache[i];
    st->ncache = j;
}

static int change_record(struct amp_state *st, void *arg)
{
    const struct amp_block *b = arg;

    prune(st, b->recorded_at);
    for (size_t i = 0; i < st->ncache; i++)
        if (st->cache[i].key == b->key) {
            st->cache[i] = *b;
            return 0;
        }
    if (st->ncache >= AMP_STATE_MAX_RECORDS)
        return -1;
    struct amp_block *v = realloc(st->cache, (st->ncache + 1) * sizeof(*v));
    if (!v)
        return -1;
    st->cache = v;
    st->cache[st->ncache++] = *b;
    return 0;
}

int amp_state_record(struct amp_state *st, const struct amp_block *b)
{
    return modify(st, change_record, (void *)b);
}

struct clear_args {
    int (*match)(const struct amp_block *, void *);
    void *arg;
    size_t removed;
};

static int change_clear(struct amp_state *st, void *arg)
{
    struct clear_args *c = arg;
    size_t j = 0;

    for (size_t i = 0; i < st->ncache; i++) {
        if (!c->match || c->match(&st->cache[i], c->arg))
            c->removed++;
        else
            st->cache[j++] = st->cache[i];
    }
    st->ncache = j;
    return 0;
}

int amp_state_clear(struct amp_state *st, int (*match)(const struct amp_block *, void *),
                    void *arg, size_t *removed)
{
    struct clear_args c = { match, arg, 0 };
    int rc = modify(st, change_clear, &c);

    if (removed)
        *removed = c.removed;
    return rc;
}

int amp_state_list(struct amp_state *st, int64_t now, struct amp_block **out, size_t *n)
{
    pthread_mutex_lock(&st->lock);
    int rc = refresh(st, 1);
    *out = calloc(st->ncache + 1, sizeof(**out));
    *n = 0;
    if (!*out)
        rc = -1;
    for (size_t i = 0; *out && i < st->ncache; i++)
        if (amp_block_active(&st->cache[i], now))
            (*out)[(*n)++] = st->cache[i];
    pthread_mutex_unlock(&st->lock);
    return rc;
}
