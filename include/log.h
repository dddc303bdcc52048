/* Logging to stderr, never stdout: lines prefixed "ampshim[<prog> <pid>]:". */
#ifndef AMPSHIM_LOG_H
#define AMPSHIM_LOG_H

#include <stdatomic.h>
#include <stddef.h>

enum amp_log_level { AMP_LOG_ERROR = 0, AMP_LOG_WARN, AMP_LOG_INFO, AMP_LOG_DEBUG };

/* Level from AMPSHIM_LOG (read once, with secure_getenv); default warn. */
int amp_log_enabled(enum amp_log_level level);
void amp_log(enum amp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line the user asked for (a dry run's reports): printed whatever the
 * level, with no level tag. */
void amp_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "****" followed by the last 4 characters of a secret; never the whole secret. */
void amp_mask(const char *secret, char *out, size_t outlen);
/* The same rule where the secret stands, keeping its length (so that every
 * count an application keeps of text holding it still holds): its first
 * amp_mask_hidden(len) characters become '*'. */
void amp_mask_in_place(char *secret, size_t len);
/* How many leading characters of a secret of len the mask hides: all of
 * one of 8 or fewer, else all but the last 4. */
size_t amp_mask_hidden(size_t len);

#define amp_error(...) amp_log(AMP_LOG_ERROR, __VA_ARGS__)
#define amp_warn(...) amp_log(AMP_LOG_WARN, __VA_ARGS__)
/* Info and debug lines are asked for inline: their arguments are not even
 * passed at the default level, on paths a request takes. */
extern atomic_int amp_log_level_now; /* -1 until AMPSHIM_LOG is read (log.c) */
static inline int amp_log_on(enum amp_log_level level)
{
    int cur = atomic_load_explicit(&amp_log_level_now, memory_order_relaxed);

    return cur < 0 ? amp_log_enabled(level) : (int)level <= cur;
}
#define amp_info(...)                                                                    \
    do {                                                                                 \
        if (amp_log_on(AMP_LOG_INFO))                                                    \
            amp_log(AMP_LOG_INFO, __VA_ARGS__);                                          \
    } while (0)
#define amp_debug(...)                                                                   \
    do {                                                                                 \
        if (amp_log_on(AMP_LOG_DEBUG))                                                   \
            amp_log(AMP_LOG_DEBUG, __VA_ARGS__);                                         \
    } while (0)

#endif
