/* What the process runs with: its configuration, loaded on the first curl
 * call and loaded again when its file (or the file its key is read from)
 * changes: edited in place, replaced by rename, a symlink swapped. A new
 * config that does not load is not used: the last good one stays, with
 * one warning naming the file and line. */
#ifndef AMPSHIM_SETTINGS_H
#define AMPSHIM_SETTINGS_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "curlapi.h"

enum amp_mode {
    AMP_OFF,     /* no config: stay out of the way */
    AMP_ON,      /* route by cfg */
    AMP_BROKEN,  /* a config was meant but cannot be used: fail closed */
};

struct amp_settings {
    /* Atomic: a reload may turn BROKEN into ON while other threads read it
     * (a plain load on x86; written once a reload at most). */
    _Atomic enum amp_mode mode;
    /* Read once per use: a reload puts a new one here (transfers under way
     * keep theirs, struct amp_handle.cfg). Never dereferenced without a
     * reference (amp_settings_hold): a reload frees the one it replaces once
     * nothing holds it. */
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

/* settings.c's alone to write: the UTC second the config's files were
 * last looked at. */
extern _Atomic int64_t amp_settings_looked_at;
/* The look itself (amp_settings_refresh's rare part). */
const struct amp_settings *amp_settings_look(const struct amp_curl *c, const struct amp_settings *s,
                                             int64_t now);

/* The same, after looking (once the UTC second has moved on since the last
 * look, from the start of a transfer) whether the config's files changed,
 * and loading them again when they did. *now: the clock it read (clock.h),
 * for the transfer to use. Inline: every transfer's start pays its common
 * case, one clock read and one compare. */
static inline const struct amp_settings *amp_settings_refresh(const struct amp_curl *c,
                                                              struct amp_now *now)
{
    const struct amp_settings *s = amp_settings_get(c);

    *now = amp_clock();
    if (s->mode == AMP_OFF ||
        now->s == atomic_load_explicit(&amp_settings_looked_at, memory_order_relaxed))
        return s;
    return amp_settings_look(c, s, now->s);
}

/* The current config, with a reference taken for the caller (NULL when
 * none was ever loaded). Taken only when a handle moves to another config,
 * never per transfer. */
const struct amp_config *amp_settings_hold(void);
/* A reference given back; the config is freed when it was the last. NULL is fine. */
void amp_settings_release(const struct amp_config *cfg);

#endif
