/* What `ampshim state|stats|clear` can still learn from a config that does
 * not load (a typo, a bad value): its state_file and the installation IDs
 * and integration names of its routes, read from the raw text by name
 * (`name = "value";`, comments skipped), without judging the rest. So the
 * operator's tools keep working exactly when they are needed. Launcher
 * only. */
#ifndef AMPSHIM_RESCUE_H
#define AMPSHIM_RESCUE_H

#include <stddef.h>

struct amp_rescue {
    char *state_file; /* throttle.state_file as written; NULL: not found */
    char *project;    /* proxy.project_id; NULL: not found */
    char **ids;       /* every installation_id and integration_name value */
    size_t nids;
};

/* Reads path (a regular file of at most 1 MB, opened without blocking).
 * 0, or -1 when it cannot be read at all (*r then empty). */
int amp_rescue_read(const char *path, struct amp_rescue *r);
void amp_rescue_free(struct amp_rescue *r);

#endif
