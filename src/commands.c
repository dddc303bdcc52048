/* The launcher's table of commands (commands.h), the help made from it,
 * the usage errors every command says the same way, and the two commands
 * that only print: help and version. */
#define _GNU_SOURCE
#include "commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "suggest.h"

/* Given by the Makefile: the version (from debian/changelog). */
#ifndef AMPSHIM_VERSION
#error "build with the Makefile: AMPSHIM_VERSION"
#endif

/* The -c option, the same in every command that reads a config. */
#define CONFIG_OPTION                                                                              \
    "  -c, --config FILE  the config; else $AMPSHIM_CONFIG; else the first of\n"                   \
    "                     $XDG_CONFIG_HOME/ampshim, ~/.config/ampshim, /etc/ampshim\n"             \
    "                     holding ampshim.cfg\n"
#define HELP_OPTION "  -h, --help         this help\n"
#define JSON_OPTION "  --json             one JSON document on stdout (its shape: ampshim-json(7))\n"

static int amp_cmd_help(int argc, char **argv);
static int command_help(const char *name);

const struct amp_command amp_commands[] = {
    { "run", amp_cmd_run, "ampshim run [-c FILE] [--dry-run] [--] COMMAND [ARG...]",
      "run COMMAND with libampshim.so preloaded: its libcurl calls routed",
      "The config is checked first (a bad one: exit 2, with FILE:LINE and what is\n"
      "wrong); AMPSHIM_CONFIG is exported as an absolute path, so that every child\n"
      "process reads the same file; the library goes in front of LD_PRELOAD, keeping\n"
      "what was there.\n"
      "\n"
      "Options:\n"
      "  -c, --config FILE  the config; else $AMPSHIM_CONFIG; else the first of\n"
      "                     $XDG_CONFIG_HOME/ampshim, ~/.config/ampshim, /etc/ampshim\n"
      "                     holding COMMAND.cfg, then ampshim.cfg\n"
      "  --dry-run          route nothing, add nothing: report on stderr each call that\n"
      "                     would be routed (also AMPSHIM_DRY_RUN=1)\n"
      "  --                 the end of ampshim's options: what follows is COMMAND\n"
      HELP_OPTION
      "\n"
      "Exit status: COMMAND's; 2 for a bad config; 126 when COMMAND is found but cannot\n"
      "be executed, 127 when it is not found (or the library is not).\n"
      "\n"
      "Example:\n"
      "  ampshim run -c app.cfg -- curl https://api.hubapi.com/crm/v3/objects\n" },
    { "check", amp_cmd_check, "ampshim check [-c FILE] [--json]",
      "check the config and print what it routes (the API key masked)",
      "Options:\n"
      CONFIG_OPTION
      JSON_OPTION
      HELP_OPTION
      "\n"
      "Exit status: 0 when the config loads, 2 when it does not.\n"
      "\n"
      "Example:\n"
      "  ampshim check -c /etc/ampshim/worker.cfg\n" },
    { "route", amp_cmd_route, "ampshim route [-c FILE] [--json] URL",
      "say what would happen to a call to URL, and why",
      "Which route matches and why the nearest others do not, the URL the proxy\n"
      "receives, the headers added (the key masked), whether the route is blocked now.\n"
      "\n"
      "Options:\n"
      CONFIG_OPTION
      JSON_OPTION
      HELP_OPTION
      "\n"
      "Exit status: 0 when URL is routed, 1 when not, 2 for a bad config.\n"
      "\n"
      "Example:\n"
      "  ampshim route https://acme.my.salesforce.com/services/data/v59.0/sobjects\n" },
    { "state", amp_cmd_state, "ampshim state [-c FILE] [--json]",
      "list the routes Ampersand has rate limited or locked out, and until when",
      "Read from the config's throttle.state_file, else from every default place this\n"
      "user (or root: every user) may have recorded them in; each with whose it is.\n"
      "\n"
      "Options:\n"
      CONFIG_OPTION
      JSON_OPTION
      HELP_OPTION
      "\n"
      "Example:\n"
      "  sudo ampshim state -c /etc/ampshim/worker.cfg\n" },
    { "clear", amp_cmd_clear, "ampshim clear [-c FILE] [ROUTE...]",
      "forget blocks: every one of the config's routes, or those of each ROUTE",
      "ROUTE is an installation ID or an integration name, as `ampshim state` shows it.\n"
      "The blocks counted are those `ampshim state` lists (still in force); records\n"
      "that have run out are removed with them, uncounted.\n"
      "\n"
      "Options:\n"
      CONFIG_OPTION
      HELP_OPTION
      "\n"
      "Exit status: 0; 1 when a ROUTE has no block or a state file cannot be changed.\n"
      "\n"
      "Example:\n"
      "  ampshim clear -c /etc/ampshim/worker.cfg inst-sf-1\n" },
    { "stats", amp_cmd_stats, "ampshim stats [-c FILE] [--json | --prometheus | --reset] [--output FILE]",
      "per-route counters of every process: calls routed, answers, 429s, blocks",
      "Options:\n"
      CONFIG_OPTION
      JSON_OPTION
      "  --prometheus       in Prometheus' text format (node_exporter's textfile\n"
      "                     collector)\n"
      "  --reset            set every counter to zero\n"
      "  -o, --output FILE  write FILE instead of stdout, replaced whole at the end\n"
      HELP_OPTION
      "\n"
      "--json, --prometheus and --reset go alone.\n"
      "\n"
      "Example:\n"
      "  ampshim stats --prometheus -o /var/lib/prometheus/node-exporter/ampshim.prom\n" },
    { "env", amp_cmd_env, "ampshim env [-c FILE] [--shell | --systemd | --docker]",
      "print LD_PRELOAD and AMPSHIM_CONFIG, to run a program without the launcher",
      "The config is checked first, as by run; the library is named by its real path.\n"
      "\n"
      "Options:\n"
      CONFIG_OPTION
      "  --shell            export lines for sh (the default)\n"
      "  --systemd          a systemd drop-in, with LoadCredential= for an api_key_file\n"
      "  --docker           ENV lines for a Dockerfile\n"
      HELP_OPTION
      "\n"
      "Example:\n"
      "  ampshim env --systemd -c /etc/ampshim/worker.cfg\n" },
    { "providers", amp_cmd_providers, "ampshim providers [--json] [NAME]",
      "list the provider catalog, or one provider in detail with an example route",
      amp_providers_help },
    { "help", amp_cmd_help, "ampshim help [COMMAND]",
      "this help, or a command's (the same as ampshim COMMAND --help)",
      "Options:\n"
      HELP_OPTION
      "\n"
      "Example:\n"
      "  ampshim help run\n" },
    { "version", amp_cmd_version, "ampshim version",
      "print the version (also: ampshim --version, ampshim -V)",
      "Options:\n"
      HELP_OPTION
      "\n"
      "Example:\n"
      "  ampshim version\n" },
};
const size_t amp_ncommands = sizeof(amp_commands) / sizeof(amp_commands[0]);

const struct amp_command *amp_command_find(const char *name)
{
    for (size_t i = 0; i < amp_ncommands; i++)
        if (strcmp(amp_commands[i].name, name) == 0)
            return &amp_commands[i];
    return NULL;
}

void amp_global_help(FILE *out)
{
    fputs("usage: ampshim COMMAND [OPTION...] [ARG...]\n"
          "\n"
          "Routes a program's libcurl calls to provider APIs through the Ampersand proxy,\n"
          "without changing the program: matching URLs are rewritten to the proxy and the\n"
          "x-amp-* headers are added, as configured in FILE (libconfig).\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < amp_ncommands; i++)
        fprintf(out, "  %s\n      %s\n", amp_commands[i].synopsis, amp_commands[i].summary);
    fputs("\n"
          "Common options:\n"
          "  -c, --config FILE  the config; else $AMPSHIM_CONFIG; else the first of\n"
          "                     $XDG_CONFIG_HOME/ampshim, ~/.config/ampshim, /etc/ampshim\n"
          "                     holding <program>.cfg (run), then ampshim.cfg\n"
          "  --json             (check, route, state, stats, providers) one JSON document\n"
          "                     on stdout instead of text, the key masked: ampshim-json(7)\n"
          "  -h, --help         a command's help (also: ampshim help COMMAND)\n"
          "  -V, --version      the version\n"
          "\n"
          "Environment: AMPSHIM_CONFIG (config path), AMPSHIM_LOG=error|warn|info|debug,\n"
          "AMPSHIM_DRY_RUN=1 (as run --dry-run).\n"
          "See ampshim(1), ampshim.cfg(5) and ampshim-json(7).\n",
          out);
}

static int command_help(const char *name)
{
    const struct amp_command *c = amp_command_find(name);

    if (!c)
        return 2;
    printf("usage: %s\n\n%c%s.\n\n%s", c->synopsis, c->summary[0] - 'a' + 'A', c->summary + 1, c->help);
    return 0;
}

int amp_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ampshim%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ampshim%s%s --help' for more information.\n", cmd ? " " : "", cmd ? cmd : "");
    return 2;
}

int amp_unknown_command(const char *cmd, const char *name)
{
    struct amp_suggest near;

    amp_suggest_init(&near, name, 0);
    for (size_t i = 0; i < amp_ncommands; i++)
        amp_suggest_offer(&near, amp_commands[i].name, strlen(amp_commands[i].name));
    if (near.best)
        return amp_usage_error(cmd, "unknown command '%s'; did you mean '%.*s'?", name, (int)near.best_len,
                               near.best);
    return amp_usage_error(cmd, "unknown command '%s'", name);
}

/* An unknown long option: also ambiguous when it begins more than one;
 * else the nearest of the command's own, if one is near. */
static int unknown_long(const char *cmd, const char *word, const struct option *longs)
{
    size_t len = strcspn(word + 2, "=");
    char names[256] = "";
    int n = 0;

    for (const struct option *o = longs; o->name; o++)
        if (len && strncmp(o->name, word + 2, len) == 0) {
            size_t at = strlen(names);
            snprintf(names + at, sizeof(names) - at, "%s--%s", n++ ? ", " : "", o->name);
        }
    if (n > 1)
        return amp_usage_error(cmd, "option '%.*s' is ambiguous (%s)", (int)len + 2, word, names);
    char given[AMP_SUGGEST_MAX_LEN + 1];
    struct amp_suggest near;
    snprintf(given, sizeof(given), "%.*s", (int)len, word + 2);
    /* Tighter than for a name: a command's few options are short words, and
     * another command's option (--shell to run) is better called unknown. */
    amp_suggest_init(&near, given, len >= 7 ? 2 : 1);
    for (const struct option *o = longs; o->name; o++)
        amp_suggest_offer(&near, o->name, strlen(o->name));
    if (near.best)
        return amp_usage_error(cmd, "unknown option '%.*s'; did you mean '--%.*s'?", (int)len + 2, word,
                               (int)near.best_len, near.best);
    return amp_usage_error(cmd, "unknown option '%.*s'", (int)len + 2, word);
}

/* The next option (getopt_long), or AMP_OPT_EXIT with *rc set: -h/--help
 * printed (0), an unknown, ambiguous or incomplete option said (2). */
static int next_option(int argc, char **argv, const char *shorts, const struct option *longs, int *rc)
{
    int c;

    opterr = 0;
    c = getopt_long(argc, argv, shorts, longs, NULL);
    if (c == 'h') {
        *rc = command_help(argv[0]);
        return AMP_OPT_EXIT;
    }
    if (c != '?' && c != ':')
        return c;
    /* The word that failed: getopt has passed it (a short option may be
     * one of several in it). */
    const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    int longword = strncmp(word, "--", 2) == 0;
    if (c == ':' && longword)
        *rc = amp_usage_error(argv[0], "option '%s' needs an argument", word);
    else if (c == ':')
        *rc = amp_usage_error(argv[0], "option '-%c' needs an argument", optopt);
    else if (longword && optopt)
        *rc = amp_usage_error(argv[0], "option '%.*s' takes no argument", (int)strcspn(word, "="), word);
    else if (longword)
        *rc = unknown_long(argv[0], word, longs);
    else
        *rc = amp_usage_error(argv[0], "unknown option '-%c'", optopt);
    return AMP_OPT_EXIT;
}

const struct option amp_opts_json_config[] = {
    { "json", no_argument, NULL, AMP_OPT_JSON },
    { "config", required_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};
#define HELP_ONLY (amp_opts_json_config + 2)

int amp_options(int argc, char **argv, const char *shorts, const struct option *longs, struct amp_opts *o,
                int (*own)(int c, struct amp_opts *o), int *rc)
{
    int c;

    for (;;) {
        c = next_option(argc, argv, shorts, longs, rc);
        if (c == AMP_OPT_EXIT)
            return c;
        if (c == -1)
            return 0;
        if (c == 'c') {
            o->config = optarg;
        } else if (c == AMP_OPT_JSON) {
            o->json = 1;
        } else {
            *rc = own ? own(c, o) : 0;
            if (*rc)
                return AMP_OPT_EXIT;
        }
    }
}

/* `ampshim help [COMMAND]`: the global help, or COMMAND's. */
static int amp_cmd_help(int argc, char **argv)
{
    struct amp_opts o = { 0 };
    int rc = 0;

    /* Options end at COMMAND: `help run -h` is not help's own -h. */
    if (amp_options(argc, argv, "+:h", HELP_ONLY, &o, NULL, &rc) == AMP_OPT_EXIT)
        return rc;
    if (optind == argc) {
        amp_global_help(stdout);
        return 0;
    }
    if (optind + 1 < argc)
        return amp_usage_error(argv[0], "one COMMAND at a time, not '%s' too", argv[optind + 1]);
    if (!amp_command_find(argv[optind]))
        return amp_unknown_command(argv[0], argv[optind]);
    return command_help(argv[optind]);
}

int amp_cmd_version(int argc, char **argv)
{
    struct amp_opts o = { 0 };
    int rc = 0;

    if (amp_options(argc, argv, ":h", HELP_ONLY, &o, NULL, &rc) == AMP_OPT_EXIT)
        return rc;
    if (optind < argc)
        return amp_usage_error(argv[0], "takes no arguments, not '%s'", argv[optind]);
    printf("ampshim %s\n", AMPSHIM_VERSION);
    return 0;
}
