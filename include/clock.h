/* The wall clock, read once where a transfer starts and handed on: its
 * UTC second (what time(NULL) says: the coarse clock's second is the
 * kernel's own) and the coarse millisecond the state's quiet spell
 * (state.c) is measured in. One read where there were two: a clock read
 * is a system call in some sandboxes and under valgrind, and ~20
 * instructions through the vDSO. */
#ifndef AMPSHIM_CLOCK_H
#define AMPSHIM_CLOCK_H

#include <stdint.h>
#include <time.h>

struct amp_now {
    int64_t s;
    int64_t ns; /* within s */
};

static inline struct amp_now amp_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (struct amp_now){ (int64_t)ts.tv_sec, (int64_t)ts.tv_nsec };
}

static inline int64_t amp_clock_ms(struct amp_now now)
{
    return now.s * 1000 + now.ns / 1000000;
}

#endif
