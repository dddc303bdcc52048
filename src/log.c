/* Logging. One write(2) per line so that lines from several threads and
 * processes never interleave, and no stdio buffer of the host is touched. */
#define _GNU_SOURCE
#include "log.h"
#include "env.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

atomic_int amp_log_level_now = -1;

static int level_from_env(void)
{
    const char *v = amp_env("AMPSHIM_LOG");
    static const char *const names[] = { "error", "warn", "info", "debug" };

    if (v)
        for (int i = 0; i < 4; i++)
            if (strcasecmp(v, names[i]) == 0)
                return i;
    return AMP_LOG_WARN;
}

int amp_log_enabled(enum amp_log_level level)
{
    int cur = atomic_load_explicit(&amp_log_level_now, memory_order_relaxed);

    if (cur < 0) {
        cur = level_from_env();
        atomic_store_explicit(&amp_log_level_now, cur, memory_order_relaxed);
    }
    return (int)level <= cur;
}

static void vlog(const char *tag, const char *fmt, va_list ap)
{
    char line[1024];
    int saved = errno;
    int n = snprintf(line, sizeof(line), "ampshim[%s %ld]: %s", amp_env_program(),
                     (long)getpid(), tag);

    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    for (ssize_t off = 0, w; off < n; off += w) {
        w = write(STDERR_FILENO, line + off, (size_t)(n - off));
        if (w <= 0 && errno != EINTR)
            break;
        if (w < 0)
            w = 0;
    }
    errno = saved;
}

void amp_log(enum amp_log_level level, const char *fmt, ...)
{
    static const char *const tags[] = { "error: ", "warning: ", "", "debug: " };
    va_list ap;

    if (!amp_log_enabled(level))
        return;
    va_start(ap, fmt);
    vlog(tags[level], fmt, ap);
    va_end(ap);
}

void amp_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

size_t amp_mask_hidden(size_t len)
{
    /* A key of 8 characters or fewer would be half revealed by its last 4. */
    return len <= 8 ? len : len - 4;
}

void amp_mask(const char *secret, char *out, size_t outlen)
{
    size_t len = secret ? strlen(secret) : 0;

    snprintf(out, outlen, "****%s", secret ? secret + amp_mask_hidden(len) : "");
}

void amp_mask_in_place(char *secret, size_t len)
{
    memset(secret, '*', amp_mask_hidden(len));
}
