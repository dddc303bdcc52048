/* Reading a file the user named (the config, its includes, the key file,
 * the catalog) inside someone else's process: only a regular file, opened
 * without blocking (a FIFO would hang the host at its first curl call, a
 * folder would make libconfig's scanner exit it), and only up to a size. */
#ifndef AMPSHIM_SAFEFILE_H
#define AMPSHIM_SAFEFILE_H

#include <stddef.h>

/* Configs past this are refused: libconfig's parse grows quadratically with
 * a string's length (a 4 MB string took 7-13 s, 2 MB 1.8 s, 1 MB 0.5 s),
 * and 10,000 routes take about 800 KB. */
#define AMP_MAX_CONFIG_BYTES (1u << 20)

/* The whole of path, NUL-terminated (its length in *len), malloc'd into
 * *out. -1 with "PATH: why" in err: unreadable, not a regular file, larger
 * than max bytes; -2 when it cannot be opened at all (missing, no
 * permission: what a chmod, a chown or the file's arrival may change). */
int amp_safefile_read(const char *path, size_t max, char **out, size_t *len, char *err,
                     size_t errlen);
/* The same in memory of the arena a (freed with it). */
struct amp_arena;
int amp_safefile_read_in(struct amp_arena *a, const char *path, size_t max, char **out,
                        size_t *len, char *err, size_t errlen);

/* text (len bytes) is a config libconfig can be given: no NUL byte, and
 * each @include directive ("@include \"file\"" at the start of a line)
 * names a regular file within the size limit whose own text passes too
 * (10 deep, as libconfig); a name with a backslash (an escape libconfig
 * would read) is refused. A relative name is read in dir, the top config's
 * folder (NULL: the current one), at every depth, as libconfig does with the
 * include folder config.c gives it; *kinds says which kinds of name were
 * seen (AMP_INCLUDE_*), and a mix of the two is refused (libconfig 1.5 puts its
 * include folder before an absolute name too). 0, or -1 with "FILE:LINE: why"
 * in err (FILE the one holding the directive). */
#define AMP_INCLUDE_ABSOLUTE 1
#define AMP_INCLUDE_RELATIVE 2
int amp_safefile_check_includes(const char *dir, const char *file, const char *text, size_t len, int *kinds,
                                char *err, size_t errlen);

#endif
