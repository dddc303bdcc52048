/* What `ampshim state|clear|stats` know of the config they are given: its
 * routes (it loaded), what its text still says (it did not: rescue.h), or
 * nothing (no config); where the shared state is (places.h), and its
 * blocks read as each place's owner. And the state file of `check` and
 * `route`. Launcher only. */
#ifndef AMPSHIM_KNOWN_H
#define AMPSHIM_KNOWN_H

#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "config.h"
#include "counts.h"
#include "places.h"
#include "rescue.h"
#include "state.h"

struct known {
    struct amp_config *cfg;
    struct amp_rescue rescue;
    int broken;       /* a config was given but did not load */
    const char *path; /* the config's path, NULL when none */
};

/* The config of -c (given), AMPSHIM_CONFIG or discovery, into k (path is
 * its buffer); none at all is no error: the default state still answers.
 * A config that does not load is said (a warning) and read for what it
 * still says. 0, or the exit status when the config cannot even be named
 * (said, in both forms with json). */
int amp_known_load(struct known *k, const char *given, const char *cmd, int json, char *path,
                   size_t len);
void amp_known_free(struct known *k);

/* The config's route with key, or NULL. */
const struct amp_route *amp_known_route(const struct known *k, uint64_t key);
/* Whether a block belongs to the config's routes: by key; for a broken
 * config, by the IDs its text names; every block when nothing is known. */
int amp_known_block(const struct known *k, const struct amp_block *b);
/* The same for a counters record. */
int amp_known_counts(const struct known *k, const struct amp_counts *c);

/* Where to look: the config's state_file alone, else every default place
 * (places.h), other users' too when a config names the routes to look
 * for, only this process's default without one. 0, or -1 said. */
int amp_known_places(const struct known *k, struct amp_place **places, size_t *n);
/* Every active block of a place (read as its owner); *v malloc'd. */
void amp_known_place_blocks(const struct amp_place *p, int64_t now, struct amp_block **v, size_t *n);

/* The shared state's path: the config's (throttle.state_file), else the
 * default. 0, or -1 when there is none. */
int amp_known_state_path(const struct amp_config *cfg, char *path, size_t len);
/* The state at path (read, never made); NULL when there is none yet or it
 * cannot be opened (said). */
struct amp_state *amp_known_open_at(const char *path);
/* The same at amp_known_state_path's path (into path). */
struct amp_state *amp_known_open(const struct amp_config *cfg, char *path, size_t len);

#endif
