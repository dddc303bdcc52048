/* The config a launcher command runs with (cli.h): found, loaded, its
 * errors said in the text and the --json form, the key's files checked. */
#define _GNU_SOURCE
#include "cli.h"
#include "config_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "curlapi.h"

int amp_cli_find_config(const char *given, const char *prog, char *buf, size_t len, char *err,
                        size_t errlen)
{
    const char *env = getenv("AMPSHIM_CONFIG");

    if (!given && env && *env)
        given = env;
    if (given) {
        snprintf(buf, len, "%s", given);
        return 0;
    }
    if (amp_config_discover(prog, buf, len) == 0)
        return 0;
    /* Each place named once: the program's own config is ampshim.cfg too
     * when the program is the launcher itself. */
    if (strcmp(prog, "ampshim") == 0)
        snprintf(err, errlen,
                 "no config: give -c FILE, set AMPSHIM_CONFIG, or create ~/.config/ampshim/ampshim.cfg");
    else
        snprintf(err, errlen,
                 "no config: give -c FILE, set AMPSHIM_CONFIG, or create ~/.config/ampshim/%s.cfg "
                 "or ~/.config/ampshim/ampshim.cfg",
                 prog);
    return -1;
}

struct amp_config *amp_cli_load(const char *path, const char *cmd, int json)
{
    struct amp_config *cfg;
    char err[1024];

    if (amp_config_load(path, amp_curl_linked(), &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        if (json)
            amp_cli_json_failure(cmd, path, err, 1, 2);
        return NULL;
    }
    return cfg;
}

struct amp_config *amp_cli_find_and_load(const char *given, const char *cmd, int json, char *path,
                                         size_t len)
{
    char err[512];

    if (amp_cli_find_config(given, "ampshim", path, len, err, sizeof(err)) < 0) {
        fprintf(stderr, "ampshim: %s\n", err);
        if (json)
            amp_cli_json_failure(cmd, NULL, err, 0, 2);
        return NULL;
    }
    return amp_cli_load(path, cmd, json);
}

int amp_cli_warn_key_files(const struct amp_config *cfg)
{
    char msg[2 * PATH_MAX + 128];

    if (!amp_cfg_key_exposed(cfg, msg, sizeof(msg)))
        return 0;
    amp_cli_say(1, "%s", msg);
    return 1;
}
