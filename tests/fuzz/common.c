/* Helpers shared by the fuzz targets (see common.h). */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "\n==FUZZ CHECK FAILED== %s:%d: %s\n  ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

int fuzz_lines(const uint8_t *data, size_t size, size_t max, struct fuzz_lines *out)
{
    memset(out, 0, sizeof(*out));
    if (max > FUZZ_MAX_LINES)
        max = FUZZ_MAX_LINES;
    if (!(out->buf = malloc(size + 1)))
        return -1;
    memcpy(out->buf, data, size);
    out->buf[size] = '\0';
    /* An empty input has no line at all: every field absent. */
    for (char *p = out->buf; size > 0 && out->n < max;) {
        out->v[out->n++] = p;
        char *nl = out->n < max ? memchr(p, '\n', (size_t)(out->buf + size - p)) : NULL;
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    return 0;
}

void fuzz_lines_free(struct fuzz_lines *l)
{
    free(l->buf);
    memset(l, 0, sizeof(*l));
}

static char scratch[PATH_MAX];

/* nftw callbacks: everything below the folder, and the folder itself. */
static int rm_below(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag;
    return ftw->level > 0 ? remove(path) : 0;
}

static int rm_all(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void scratch_remove(void)
{
    if (scratch[0])
        nftw(scratch, rm_all, 8, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_scratch(void)
{
    if (scratch[0])
        return scratch;
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof(scratch), "%s/ampshim-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(scratch)) {
        /* Without it the target cannot run at all: a setup error, not a finding. */
        perror(scratch);
        _exit(2);
    }
    atexit(scratch_remove);
    return scratch;
}

void fuzz_scratch_empty(void)
{
    nftw(fuzz_scratch(), rm_below, 8, FTW_DEPTH | FTW_PHYS);
}

int fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = fd < 0 ? -1 : 0;

    for (size_t off = 0; rc == 0 && off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            rc = -1;
        else
            off += (size_t)w;
    }
    if (fd >= 0 && close(fd) < 0)
        rc = -1;
    return rc;
}
