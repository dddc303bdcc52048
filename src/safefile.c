/* Files that may not be files. */
#define _GNU_SOURCE
#include "safefile.h"
#include "arena.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INCLUDE_DEPTH 10

/* path read into memory from a (the arena, or malloc when NULL). */
static int read_regular(const char *path, size_t max, struct amp_arena *a, char **out,
                        size_t *len, char *err, size_t errlen)
{
    struct stat sb;
    char *buf = NULL;
    size_t used = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

    *out = NULL;
    if (fd < 0) {
        int e = errno;

        /* "Permission denied" alone does not tell a service's operator that the file is
         * root's and the service runs as its own user: say both, and the fix. */
        if (e == EACCES && stat(path, &sb) == 0)
            snprintf(err, errlen, "%s: cannot open: %s: it is uid %u's, mode %04o, and this process "
                     "runs as uid %u: make it readable by that uid", path, strerror(e),
                     (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777), (unsigned)geteuid());
        else
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        errno = e;
        return -2;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        goto fail;
    }
    if ((size_t)sb.st_size > max) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
        goto fail;
    }
    buf = a ? amp_arena_alloc(a, (size_t)sb.st_size + 1) : malloc((size_t)sb.st_size + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    /* Up to the size seen; a file that grows meanwhile is read no further. */
    while (used < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + used, (size_t)sb.st_size - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    buf[used] = '\0';
    *out = buf;
    if (len)
        *len = used;
    return 0;
fail:
    if (!a)
        free(buf);
    close(fd);
    return -1;
}

int amp_safefile_read(const char *path, size_t max, char **out, size_t *len, char *err,
                     size_t errlen)
{
    return read_regular(path, max, NULL, out, len, err, errlen);
}

int amp_safefile_read_in(struct amp_arena *a, const char *path, size_t max, char **out,
                        size_t *len, char *err, size_t errlen)
{
    return read_regular(path, max, a, out, len, err, errlen);
}

/* What the includes seen so far were: AMP_INCLUDE_ABSOLUTE, AMP_INCLUDE_RELATIVE. */
static int check_from(const char *dir, const char *file, const char *text, size_t len, int depth,
                      int *kinds, char *err, size_t errlen)
{
    int line = 1;

    /* Text, all of it: libconfig reads past a NUL byte, this scan would not. */
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: holds a NUL byte: not a config file", file);
        return -1;
    }
    /* No directive at all, as nearly every config: nothing to follow. */
    if (!strstr(text, "@include"))
        return 0;
    for (const char *p = text; *p; line++) {
        const char *eol = strchr(p, '\n'), *q = p;
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        while (q < p + n && (*q == ' ' || *q == '\t'))
            q++;
        if ((size_t)(p + n - q) > 8 && strncmp(q, "@include", 8) == 0) {
            const char *open = memchr(q + 8, '"', (size_t)(p + n - q - 8));
            const char *close = open ? memchr(open + 1, '"', (size_t)(p + n - open - 1)) : NULL;
            if (!close) {
                snprintf(err, errlen, "%s:%d: @include needs a \"file name\"", file, line);
                return -1;
            }
            /* libconfig reads escapes in the name ("a\"b"); a name that has
             * any is refused rather than read otherwise than libconfig will. */
            if (memchr(open + 1, '\\', (size_t)(close - open - 1))) {
                snprintf(err, errlen, "%s:%d: @include: a file name with a backslash is not supported",
                         file, line);
                return -1;
            }
            /* A relative name is the top config's folder's, at every depth: what
             * libconfig does with the include folder config.c gives it. libconfig
             * 1.5 puts that folder before an absolute name too, so the two kinds
             * cannot both be read as written: refused, not read otherwise. */
            int nlen = (int)(close - open - 1);
            int kind = open[1] == '/' ? AMP_INCLUDE_ABSOLUTE : AMP_INCLUDE_RELATIVE;
            if (*kinds & ~kind) {
                snprintf(err, errlen, "%s:%d: @include: relative and absolute file names mixed: "
                         "write them all one way (a relative one is read in the main config's folder)",
                         file, line);
                return -1;
            }
            *kinds |= kind;
            char *inc = NULL, *body = NULL, why[512];
            size_t blen = 0;
            if (kind == AMP_INCLUDE_ABSOLUTE || !dir)
                inc = strndup(open + 1, (size_t)nlen);
            else if (asprintf(&inc, "%s/%.*s", dir, nlen, open + 1) < 0)
                inc = NULL;
            if (!inc) {
                snprintf(err, errlen, "%s:%d: out of memory", file, line);
                return -1;
            }
            int rc = -1;
            if (depth >= MAX_INCLUDE_DEPTH)
                snprintf(err, errlen, "%s:%d: @include nested more than %d deep", file, line,
                         MAX_INCLUDE_DEPTH);
            else if (amp_safefile_read(inc, AMP_MAX_CONFIG_BYTES, &body, &blen, why, sizeof(why)) < 0)
                snprintf(err, errlen, "%s:%d: @include %s", file, line, why);
            else
                rc = check_from(dir, inc, body, blen, depth + 1, kinds, err, errlen);
            free(body);
            free(inc);
            if (rc < 0)
                return -1;
        }
        p += n + (eol ? 1 : 0);
    }
    return 0;
}

int amp_safefile_check_includes(const char *dir, const char *file, const char *text, size_t len, int *kinds,
                                char *err, size_t errlen)
{
    *kinds = 0;
    return check_from(dir, file, text, len, 0, kinds, err, errlen);
}
