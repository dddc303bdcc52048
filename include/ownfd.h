/* A descriptor ampshim keeps between calls (the state file, a blocked
 * call's listener and connection), with the identity (device, inode) of
 * what it was opened on. The application owns the descriptor table: a
 * daemon that closes everything and opens a log may be given our number.
 * So a kept descriptor is checked before each use or close; one that no
 * longer names what we opened is the application's now, and is forgotten:
 * never closed, read, locked or written. (Used by the library and the
 * launcher alike; plain POSIX.) */
#ifndef AMPSHIM_OWNFD_H
#define AMPSHIM_OWNFD_H

#include <sys/stat.h>
#include <unistd.h>

struct amp_ownfd {
    int fd; /* -1: none */
    dev_t dev;
    ino_t ino;
};

#define AMP_OWNFD_NONE ((struct amp_ownfd){ .fd = -1 })

/* fd (just opened by us) kept, its identity noted. -1, fd closed, when it
 * cannot be looked at. */
static inline int amp_ownfd_keep(struct amp_ownfd *o, int fd)
{
    struct stat st;

    o->fd = -1;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    o->fd = fd;
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    return 0;
}

/* 1 while o's descriptor still names what we opened (its stat in *out, if
 * asked); else it is forgotten (not closed) and 0. */
static inline int amp_ownfd_ours(struct amp_ownfd *o, struct stat *out)
{
    struct stat st;

    if (o->fd < 0)
        return 0;
    if (fstat(o->fd, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino) {
        if (out)
            *out = st;
        return 1;
    }
    o->fd = -1;
    return 0;
}

/* Closed if still ours; forgotten in any case. */
static inline void amp_ownfd_close(struct amp_ownfd *o)
{
    if (amp_ownfd_ours(o, NULL))
        close(o->fd);
    o->fd = -1;
}

#endif
