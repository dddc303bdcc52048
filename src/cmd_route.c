/* `ampshim route URL`: what would happen to a call to URL, and why (the
 * explanation itself: explain.c). */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "explain.h"
#include "json.h"
#include "known.h"

static int route(const struct amp_config *cfg, const char *url, int json)
{
    char path[4096];
    struct amp_state *st = amp_known_open(cfg, path, sizeof(path));
    int rc;

    if (json) {
        struct amp_json j;
        char masked[64];
        amp_json_init(&j, stdout, 2);
        amp_cli_json_hide_key(&j, cfg, masked, sizeof(masked));
        amp_cli_json_head(&j, "route", 1, cfg->path);
        rc = amp_explain_json(cfg, st, url, &j);
        amp_cli_json_warnings(&j);
        amp_json_end(&j);
        rc = amp_cli_json_finish(&j, rc);
    } else {
        rc = amp_explain(cfg, st, url, stdout);
    }
    amp_state_close(st);
    return rc;
}

int amp_cmd_route(int argc, char **argv)
{
    char path[PATH_MAX];
    struct amp_opts o = { 0 };
    int rc = 0;

    if (amp_options(argc, argv, ":c:h", amp_opts_json_config, &o, NULL, &rc) == AMP_OPT_EXIT)
        return rc;
    if (optind == argc)
        return amp_usage_error(argv[0], "no URL given");
    if (optind + 1 < argc)
        return amp_usage_error(argv[0], "one URL at a time, not '%s' too", argv[optind + 1]);
    struct amp_config *cfg = amp_cli_find_and_load(o.config, "route", o.json, path, sizeof(path));
    if (!cfg)
        return 2;
    rc = route(cfg, argv[optind], o.json);
    amp_config_free(cfg);
    return rc;
}
