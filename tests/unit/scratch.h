/* A scratch folder for one test program, removed whatever a test left. */
#ifndef AMPSHIM_TEST_SCRATCH_H
#define AMPSHIM_TEST_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static char scratch[128];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* /tmp/ampshim-test-NAME-XXXXXX */
static int scratch_make(const char *name)
{
    snprintf(scratch, sizeof(scratch), "/tmp/ampshim-test-%s-XXXXXX", name);
    return mkdtemp(scratch) ? 0 : -1;
}

#endif
