/* Where the launcher looks for the shared state (state.h) and its counters
 * (counts.h), and whose they are. A service records them in its own
 * user's default place (/tmp/ampshim-33/state for www-data, or under its
 * XDG_RUNTIME_DIR), while the operator runs `ampshim state|stats|clear` as
 * root, or as that user with another environment: so the launcher looks in
 * every default place it may read, not only in the one its own library
 * would use. Launcher only: the library keeps its one default.
 *
 * A place of another user's is taken only when its folder is that user's
 * own and private (owner and mode checked with lstat, never through a
 * symlink), and is used while acting as that user (places_enter): nothing
 * is read or written there that its owner could not, and a file made
 * there is the owner's. */
#ifndef AMPSHIM_PLACES_H
#define AMPSHIM_PLACES_H

#include <stddef.h>
#include <sys/types.h>

struct amp_place {
    char path[4096];  /* the state file; its counters are path + ".counts" */
    uid_t uid;        /* its owner: whose blocks and counters these are */
    gid_t gid;
    char user[64];    /* the owner's name ("uid N" when it has none) */
    int first;        /* the place this process's library would use (or the
                         config's state_file): always shown */
};

/* The places to look in. state_file (the config's throttle.state_file),
 * when given, is the only one. Else, first, the default of this process
 * (amp_state_default_path: $XDG_RUNTIME_DIR/ampshim/state, else
 * /tmp/ampshim-UID[.N]/state); then the other default places of this user
 * (/tmp/ampshim-UID and .N, $XDG_RUNTIME_DIR/ampshim, /run/user/UID/ampshim)
 * and, when others is set and this process runs as root, every other
 * user's (/tmp/ampshim-N[.M] owned by N, /run/user/N/ampshim), each only
 * when a state or counters file is there. *out is malloc'd. 0, or -1 when
 * not even the first place can be named (said through amp_state_warnf). */
int amp_places_find(const char *state_file, int others, struct amp_place **out, size_t *n);

/* Acting as the place's owner (effective uid, gid and groups), when it is
 * another user's and this process runs as root; amp_places_leave goes back.
 * 0, or -1 with a sentence in err (a place of another user's, not root). */
int amp_places_enter(const struct amp_place *p, char *err, size_t errlen);
void amp_places_leave(const struct amp_place *p);

/* "www-data (uid 33)" into buf. */
void amp_places_whose(const struct amp_place *p, char *buf, size_t len);

#endif
