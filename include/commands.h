/* The launcher's commands, in one table (commands.c): what dispatches them,
 * what `ampshim help` and `ampshim COMMAND --help` print, and what the bash
 * completion and the SYNOPSIS of ampshim(1) are checked against
 * (tests/integration/cli.py). A command's handler gets argv[0] = its
 * name and parses its own options with amp_options. Launcher only. */
#ifndef AMPSHIM_COMMANDS_H
#define AMPSHIM_COMMANDS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

struct amp_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis; /* "ampshim NAME ...", a line each form */
    const char *summary;  /* one line, no period */
    const char *help;     /* what `--help` prints after the usage and the
                             summary: more words if needed, "Options:" (its
                             own only, -h too), an "Example:" */
};

extern const struct amp_command amp_commands[];
extern const size_t amp_ncommands;

/* The row of name, or NULL. */
const struct amp_command *amp_command_find(const char *name);

/* The global help: a synopsis line and a summary per command, the options
 * every command shares, where the manual is. */
void amp_global_help(FILE *out);

/* A usage error of command cmd (NULL: of ampshim itself), two lines on
 * stderr: "ampshim CMD: WHAT" and "Try 'ampshim CMD --help' for more
 * information.". 2 (the exit status). */
int amp_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The usage error of an unknown command name, given to cmd (NULL: to
 * ampshim itself), with the nearest command's name when one is near. 2. */
int amp_unknown_command(const char *cmd, const char *name);

/* What most commands take: -c/--config FILE and --json; own: what a
 * command's own options fill in. */
struct amp_opts {
    const char *config;
    int json;
    void *own;
};

/* The value of --json, and the first value free for a command's own long
 * options without a short one. */
enum { AMP_OPT_JSON = 256, AMP_OPT_OWN = 260 };

/* --json, --config and --help; from the second, --config and --help. */
extern const struct option amp_opts_json_config[];
#define AMP_OPTS_CONFIG (amp_opts_json_config + 1)

/* A command's options (argv[0] its name), with getopt_long: shorts should
 * start with ':' (after a '+' where the first operand ends the options,
 * as for run) and hold "h", longs should hold "help". -c/--config and
 * --json go into o; any other is handed to own (NULL: none), which returns
 * 0, or the exit status of a usage error it said. -h/--help prints the
 * command's help; an unknown, ambiguous or incomplete option is said (two
 * lines). 0 at the end of the options (optind is then the first operand),
 * or AMP_OPT_EXIT with *rc the exit status (0 after the help). */
#define AMP_OPT_EXIT (-2)
int amp_options(int argc, char **argv, const char *shorts, const struct option *longs, struct amp_opts *o,
                int (*own)(int c, struct amp_opts *o), int *rc);

/* The handlers of the table's rows, each in the file of its job (help's is
 * commands.c's own). */
int amp_cmd_run(int argc, char **argv);       /* cmd_run.c */
int amp_cmd_check(int argc, char **argv);     /* cmd_check.c */
int amp_cmd_route(int argc, char **argv);     /* cmd_route.c */
int amp_cmd_state(int argc, char **argv);     /* cmd_state.c */
int amp_cmd_clear(int argc, char **argv);     /* cmd_state.c */
int amp_cmd_stats(int argc, char **argv);     /* stats.c */
int amp_cmd_env(int argc, char **argv);       /* cmd_env.c */
int amp_cmd_providers(int argc, char **argv); /* cmd_providers.c */
int amp_cmd_version(int argc, char **argv);   /* commands.c */

/* The providers command's help (the part after its usage and summary),
 * beside its handler in cmd_providers.c. */
extern const char amp_providers_help[];

#endif
