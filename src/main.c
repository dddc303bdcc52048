/* The launcher, `ampshim COMMAND`: the command named found in the table
 * (commands.c) and run. A plain program that links libcurl and libconfig
 * itself; it never contains the hooks. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "commands.h"

/* The provider catalog, beside the library as the library finds it. */
static void set_catalog_path(void)
{
    char file[PATH_MAX + 32];
    const char *dir = amp_lib_dir();

    snprintf(file, sizeof(file), "%s/providers.cfg", dir ? dir : AMPSHIM_LIBDIR);
    amp_catalog_set_path(file);
}

int main(int argc, char **argv)
{
    const struct amp_command *cmd;
    const char *first = argc > 1 ? argv[1] : NULL;

    set_catalog_path();
    if (!first) {
        amp_global_help(stderr);
        return 2;
    }
    if (!strcmp(first, "--help") || !strcmp(first, "-h")) {
        amp_global_help(stdout);
        return 0;
    }
    if (!strcmp(first, "--version") || !strcmp(first, "-V"))
        return amp_cmd_version(1, (char *[]){ "version", NULL });
    if (first[0] == '-')
        return amp_usage_error(NULL, "unknown option '%s'", first);
    cmd = amp_command_find(first);
    if (!cmd)
        return amp_unknown_command(NULL, first);
    return cmd->run(argc - 1, argv + 1);
}
