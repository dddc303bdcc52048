/* `ampshim env`: what a unit, a shell or a Dockerfile needs to run a
 * program with ampshim without the launcher (the forms: wire.c). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "wire.h"

/* For a config that loads (checked first, as for run), with the library
 * the launcher would preload, by its real path. */
static int print_env(const char *path, enum amp_wire_form form)
{
    char lib[2 * PATH_MAX], real[PATH_MAX], abs[PATH_MAX];
    struct amp_config *cfg, *again = NULL;

    if (amp_absolute_config(path, abs, sizeof(abs)) < 0)
        return 2;
    cfg = amp_cli_load(path, NULL, 0);
    if (!cfg)
        return 2;
    /* Loaded by the absolute path the library will be given: a relative
     * api_key_file then reads absolute too. */
    if (strcmp(path, abs) != 0) {
        again = amp_cli_load(abs, NULL, 0);
        if (!again) {
            amp_config_free(cfg);
            return 2;
        }
    }
    int rc = 0;
    if (amp_find_library(lib, sizeof(lib)) < 0)
        rc = 127;
    else
        amp_wire_print(stdout, form, realpath(lib, real) ? real : lib, abs, again ? again : cfg);
    if (!rc && fflush(stdout) != 0) {
        fprintf(stderr, "ampshim: could not write the output\n");
        rc = 1;
    }
    amp_config_free(again);
    amp_config_free(cfg);
    return rc;
}

static const struct option options[] = {
    { "config", required_argument, NULL, 'c' },
    { "shell", no_argument, NULL, AMP_OPT_OWN + AMP_WIRE_SHELL },
    { "systemd", no_argument, NULL, AMP_OPT_OWN + AMP_WIRE_SYSTEMD },
    { "docker", no_argument, NULL, AMP_OPT_OWN + AMP_WIRE_DOCKER },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* The form, given once at the most. */
struct form {
    enum amp_wire_form form;
    int given;
};

static int form_option(int c, struct amp_opts *o)
{
    struct form *f = o->own;

    if (f->given++)
        return amp_usage_error("env", "--shell, --systemd and --docker go alone");
    f->form = (enum amp_wire_form)(c - AMP_OPT_OWN);
    return 0;
}

int amp_cmd_env(int argc, char **argv)
{
    char path[PATH_MAX], err[512];
    struct form f = { AMP_WIRE_SHELL, 0 };
    struct amp_opts o = { .own = &f };
    int rc = 0;

    if (amp_options(argc, argv, ":c:h", options, &o, form_option, &rc) == AMP_OPT_EXIT)
        return rc;
    if (optind < argc)
        return amp_usage_error(argv[0], "takes no arguments, not '%s'", argv[optind]);
    if (amp_cli_find_config(o.config, "ampshim", path, sizeof(path), err, sizeof(err)) < 0) {
        fprintf(stderr, "ampshim: %s\n", err);
        return 2;
    }
    return print_env(path, f.form);
}
