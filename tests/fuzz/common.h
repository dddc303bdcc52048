/* What the fuzz targets share: a check that aborts (so libFuzzer keeps the
 * input as a reproducer), the input cut into lines, and a private scratch
 * folder for the targets that need files. */
#ifndef AMPSHIM_FUZZ_COMMON_H
#define AMPSHIM_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* A broken property: say which, then abort(). */
#define FUZZ_CHECK(cond, ...)                                                            \
    do {                                                                                 \
        if (!(cond))                                                                     \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                           \
    } while (0)

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* The input as NUL-terminated lines, split on '\n'; the last of max lines
 * keeps the rest. v[i] is NULL for lines the input does not have, so a
 * missing field and an empty one differ. */
#define FUZZ_MAX_LINES 16
struct fuzz_lines {
    char *buf;
    char *v[FUZZ_MAX_LINES];
    size_t n;
};
int fuzz_lines(const uint8_t *data, size_t size, size_t max, struct fuzz_lines *out);
void fuzz_lines_free(struct fuzz_lines *l);

/* A folder of our own (mkdtemp under $TMPDIR, else /tmp), made on the
 * first call and removed when the process exits normally; run.sh removes
 * $TMPDIR too, for runs that end in a crash. */
const char *fuzz_scratch(void);
/* Everything in the scratch folder removed (what an input left there). */
void fuzz_scratch_empty(void);
/* data as the whole content of path; 0 or -1. */
int fuzz_write_file(const char *path, const uint8_t *data, size_t size);

#endif
