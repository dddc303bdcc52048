/* What the launcher says (cli.h): its stderr lines, kept for a --json
 * document's "warnings", and the parts every --json document shares. */
#define _GNU_SOURCE
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* What went wrong or deserves a warning, said on stderr in both forms and
 * kept for a --json document's "warnings" (the first few). */
#define MAX_WARNINGS 8
static char *warnings[MAX_WARNINGS];
static size_t nwarnings;

void amp_cli_say(int warning, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return;
    fprintf(stderr, "ampshim: %s%s\n", warning ? "warning: " : "", msg);
    if (nwarnings < MAX_WARNINGS)
        warnings[nwarnings++] = msg;
    else
        free(msg);
}

void amp_cli_warning(const char *msg)
{
    amp_cli_say(1, "%s", msg);
}

void amp_cli_json_warnings(struct amp_json *j)
{
    amp_json_array(j, "warnings");
    for (size_t i = 0; i < nwarnings; i++)
        amp_json_str(j, NULL, warnings[i]);
    amp_json_end(j);
}

void amp_cli_json_head(struct amp_json *j, const char *cmd, int ok, const char *config)
{
    amp_json_object(j, NULL);
    amp_json_int(j, "version", AMP_JSON_VERSION);
    amp_json_str(j, "command", cmd);
    amp_json_bool(j, "ok", ok);
    amp_json_str(j, "config", config);
}

/* The exit status stays the command's, as in the text form. */
int amp_cli_json_finish(struct amp_json *j, int rc)
{
    if (amp_json_finish(j) < 0)
        fprintf(stderr, "ampshim: could not write the JSON output\n");
    return rc;
}

/* The length of a "FILE:" prefix of a config error ("FILE:LINE: what" or
 * "FILE: what"; FILE the config or a file it includes), 0 when none. */
static size_t error_file_len(const char *err, const char *config)
{
    size_t n = config ? strlen(config) : 0;

    if (n && !strncmp(err, config, n) && err[n] == ':')
        return n;
    for (const char *p = strchr(err, ':'); p; p = strchr(p + 1, ':')) {
        size_t digits = strspn(p + 1, "0123456789");
        if (digits && !strncmp(p + 1 + digits, ": ", 2))
            return (size_t)(p - err);
    }
    const char *p = strstr(err, ": ");
    return p ? (size_t)(p - err) : 0;
}

int amp_cli_json_failure(const char *cmd, const char *config, const char *err, int has_file, int rc)
{
    struct amp_json j;
    size_t flen = has_file ? error_file_len(err, config) : 0;
    const char *msg = err + flen;
    long line = -1;

    amp_json_init(&j, stdout, 2);
    amp_cli_json_head(&j, cmd, 0, config);
    amp_json_object(&j, "error");
    if (flen) {
        char *end;
        amp_json_strn(&j, "file", err, flen);
        msg++;
        if (*msg >= '0' && *msg <= '9') {
            long n = strtol(msg, &end, 10);
            if (*end == ':') {
                line = n;
                msg = end + 1;
            }
        }
        msg += strspn(msg, " ");
    } else {
        amp_json_null(&j, "file");
    }
    if (line >= 0)
        amp_json_int(&j, "line", line);
    else
        amp_json_null(&j, "line");
    amp_json_str(&j, "message", msg);
    amp_json_str(&j, "text", err);
    amp_json_end(&j);
    amp_cli_json_warnings(&j);
    amp_json_end(&j);
    return amp_cli_json_finish(&j, rc);
}

/* The key is masked where it belongs, and hidden wherever else it would
 * show (a URL or a path holding it) when it is long enough that hiding it
 * cannot garble the rest. */
void amp_cli_json_hide_key(struct amp_json *j, const struct amp_config *cfg, char *masked, size_t len)
{
    amp_mask(cfg ? cfg->api_key : NULL, masked, len);
    if (cfg && cfg->api_key && strlen(cfg->api_key) >= 8)
        amp_json_hide(j, cfg->api_key, masked);
}
