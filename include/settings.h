/* What the process runs with: its configuration, loaded on the first curl
 * call and loaded again when its file (or the file its key is read from)
 * changes: edited in place, replaced by rename, a symlink swapped. A new
 * config that does not load is not used: the last good one stays, with
 * one warning naming the file and line. */
#ifndef AMPSHIM_SETTINGS_H
#define AMPSHIM_SETTINGS_H

#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "curlapi.h"

enum amp_mode {
    AMP_OFF,     /* no config: stay out of the way */
    AMP_ON,      /* route by cfg */
    AMP_BROKEN,  /* a config was meant but cannot be used: fail closed */
};

struct amp_settings {
    enum amp_mode mode;
    /* Read once per use: a reload puts a new one here (transfers under way
     * keep theirs, struct amp_handle.cfg). */
    struct amp_config *_Atomic cfg;
    char error[512];  /* why BROKEN: "FILE:LINE: what is wrong" */
};

extern struct amp_settings amp_settings_now;
extern atomic_int amp_settings_loaded;
const struct amp_settings *amp_settings_load(const struct amp_curl *c);

static inline const struct amp_settings *amp_settings_get(const struct amp_curl *c)
{
    if (atomic_load_explicit(&amp_settings_loaded, memory_order_acquire))
        return &amp_settings_now;
    return amp_settings_load(c);
}

/* The same, after looking (once the UTC second has moved on since the last
 * look, from the start of a transfer) whether the config's files changed,
 * and loading them again when they did. *now: the UTC second it read. */
const struct amp_settings *amp_settings_refresh(const struct amp_curl *c, int64_t *now);

#endif
