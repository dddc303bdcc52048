/* Every place the shared state may be in, and whose it is (places.h). */
#define _GNU_SOURCE
#include "places.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counts.h"
#include "state.h"

struct list {
    struct amp_place *v;
    size_t n, cap;
};

static void name_owner(struct amp_place *p)
{
    struct passwd *pw = getpwuid(p->uid);

    if (pw && pw->pw_name[0] && strlen(pw->pw_name) < sizeof(p->user)) {
        snprintf(p->user, sizeof(p->user), "%s", pw->pw_name);
        p->gid = pw->pw_gid;
    } else {
        snprintf(p->user, sizeof(p->user), "uid %u", (unsigned)p->uid);
    }
}

/* The same file or folder as one listed already (by name, or by what the
 * folder is: /run/user/0 may also be $XDG_RUNTIME_DIR). */
static int listed(const struct list *l, const char *path)
{
    struct stat a, b;

    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].path, path) == 0)
            return 1;
        char *da = strdup(l->v[i].path), *db = strdup(path);
        int same = 0;
        if (da && db && strrchr(da, '/') && strrchr(db, '/')) {
            *strrchr(da, '/') = '\0';
            *strrchr(db, '/') = '\0';
            same = lstat(da, &a) == 0 && lstat(db, &b) == 0 && a.st_dev == b.st_dev &&
                   a.st_ino == b.st_ino && !strcmp(strrchr(l->v[i].path, '/'), strrchr(path, '/'));
        }
        free(da);
        free(db);
        if (same)
            return 1;
    }
    return 0;
}

static int add(struct list *l, const char *path, uid_t uid, gid_t gid, int first)
{
    if (listed(l, path))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        struct amp_place *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    struct amp_place *p = &l->v[l->n];
    memset(p, 0, sizeof(*p));
    if (snprintf(p->path, sizeof(p->path), "%s", path) >= (int)sizeof(p->path))
        return 0;
    p->uid = uid;
    p->gid = gid;
    p->first = first;
    name_owner(p);
    l->n++;
    return 0;
}

/* dir is a real folder (not a symlink) of uid's that nobody else may
 * write to: the library would use it, and so may we, as uid. */
static int owned_private(const char *dir, uid_t uid, gid_t *gid)
{
    struct stat st;

    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 022))
        return 0;
    *gid = st.st_gid;
    return 1;
}

/* The state folder dir of uid, when it is one and holds a state or a
 * counters file (looked at with lstat: a symlink is listed, and refused
 * when opened, as the library would refuse it). */
static int add_folder(struct list *l, const char *dir, uid_t uid)
{
    char state[4096], counts[4096 + 16];
    struct stat st;
    gid_t gid;

    if (!owned_private(dir, uid, &gid) ||
        snprintf(state, sizeof(state), "%s/state", dir) >= (int)sizeof(state) ||
        amp_counts_path(state, counts, sizeof(counts)) < 0)
        return 0;
    if (lstat(state, &st) < 0 && lstat(counts, &st) < 0)
        return 0;
    return add(l, state, uid, gid, 0);
}

/* "ampshim-N" or "ampshim-N.M": N, else -1. */
static long tmp_owner(const char *name)
{
    char *end;

    if (strncmp(name, "ampshim-", 8) != 0 || name[8] < '0' || name[8] > '9')
        return -1;
    errno = 0;
    unsigned long uid = strtoul(name + 8, &end, 10);
    if (errno || uid > 0x7fffffffUL)
        return -1;
    if (*end == '.') {
        if (end[1] < '0' || end[1] > '9')
            return -1;
        strtoul(end + 1, &end, 10);
    }
    return *end ? -1 : (long)uid;
}

/* Each entry of the folder dir handed to take (with arg), until one fails
 * (-1, out of memory); a folder that cannot be read holds nothing. */
static int each_entry(struct list *l, const char *dir, int (*take)(struct list *, const char *, long),
                      long arg)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (!d)
        return 0;
    while (rc == 0) {
        e = readdir(d);
        if (!e)
            break;
        rc = take(l, e->d_name, arg);
    }
    closedir(d);
    return rc;
}

/* /tmp/ampshim-N[.M], when it is of user only (>= 0) or of any (-1). */
static int take_tmp(struct list *l, const char *name, long only)
{
    char dir[300];
    long uid = tmp_owner(name);

    if (uid < 0 || (only >= 0 && uid != only))
        return 0;
    snprintf(dir, sizeof(dir), "/tmp/%s", name);
    return add_folder(l, dir, (uid_t)uid);
}

/* /run/user/N/ampshim: its runtime folder and ours both N's own. */
static int add_run(struct list *l, uid_t uid)
{
    char run[64], dir[80];
    gid_t gid;

    snprintf(run, sizeof(run), "/run/user/%u", (unsigned)uid);
    snprintf(dir, sizeof(dir), "%s/ampshim", run);
    return owned_private(run, uid, &gid) ? add_folder(l, dir, uid) : 0;
}

/* /run/user/N, for any user N. */
static int take_run(struct list *l, const char *name, long unused)
{
    char *end;

    (void)unused;
    if (name[0] < '0' || name[0] > '9')
        return 0;
    unsigned long uid = strtoul(name, &end, 10);
    return !*end && uid <= 0x7fffffffUL ? add_run(l, (uid_t)uid) : 0;
}

/* The config's state_file: whose is the file (or, before it is made, its
 * folder). A symlink's own owner: the state module refuses it anyway. */
static int add_given(struct list *l, const char *path)
{
    struct stat st;
    char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;

    if (!dir)
        return -1;
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    int known = lstat(path, &st) == 0 || (slash && lstat(dir, &st) == 0);
    free(dir);
    return add(l, path, known ? st.st_uid : geteuid(), known ? st.st_gid : getegid(), 1);
}

int amp_places_find(const char *state_file, int others, struct amp_place **out, size_t *n)
{
    struct list l = { 0 };
    char path[4096];
    uid_t me = geteuid();
    const char *run = secure_getenv("XDG_RUNTIME_DIR");
    int rc;

    *out = NULL;
    *n = 0;
    if (state_file) {
        rc = add_given(&l, state_file);
    } else if (amp_state_default_path(path, sizeof(path)) < 0) {
        return -1;
    } else {
        rc = add(&l, path, me, getegid(), 1);
        if (rc == 0 && run && run[0] == '/' && snprintf(path, sizeof(path), "%s/ampshim", run) <
                                                   (int)sizeof(path))
            rc = add_folder(&l, path, me);
        if (rc == 0)
            rc = add_run(&l, me);
        if (rc == 0)
            rc = each_entry(&l, "/tmp", take_tmp, others && me == 0 ? -1 : (long)me);
        if (rc == 0 && others && me == 0)
            rc = each_entry(&l, "/run/user", take_run, 0);
    }
    if (rc < 0) {
        free(l.v);
        amp_state_warnf("out of memory");
        return -1;
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

/* The groups this process had before it acted as another user. */
static gid_t saved_groups[256];
static int nsaved = -1;

int amp_places_enter(const struct amp_place *p, char *err, size_t errlen)
{
    if (p->uid == geteuid())
        return 0;
    if (getuid() != 0) {
        snprintf(err, errlen, "%s belongs to %s: only root may use it", p->path, p->user);
        return -1;
    }
    nsaved = getgroups(sizeof(saved_groups) / sizeof(saved_groups[0]), saved_groups);
    if (nsaved < 0 || setgroups(1, &p->gid) < 0 || setegid(p->gid) < 0 || seteuid(p->uid) < 0) {
        snprintf(err, errlen, "cannot act as %s for %s: %s", p->user, p->path, strerror(errno));
        amp_places_leave(p);
        return -1;
    }
    return 0;
}

void amp_places_leave(const struct amp_place *p)
{
    (void)p;
    if (nsaved < 0 || getuid() != 0)
        return;
    /* Back to root first: only root may set the rest back. */
    if (seteuid(0) < 0 || setegid(getgid()) < 0 || setgroups((size_t)nsaved, saved_groups) < 0)
        abort(); /* never go on half one user, half another */
    nsaved = -1;
}

void amp_places_whose(const struct amp_place *p, char *buf, size_t len)
{
    if (strncmp(p->user, "uid ", 4) == 0)
        snprintf(buf, len, "%s", p->user);
    else
        snprintf(buf, len, "%s (uid %u)", p->user, (unsigned)p->uid);
}
