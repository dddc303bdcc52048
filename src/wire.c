/* The three forms of `ampshim env`. Each quotes for its reader: sh (single
 * quotes), systemd (a double-quoted assignment; % starts a specifier),
 * Dockerfile ENV (double quotes; $ starts a substitution). */
#define _GNU_SOURCE
#include "wire.h"

#include <stdlib.h>
#include <string.h>

/* 'value', a single quote written '\'' */
static void shell_quoted(FILE *out, const char *v)
{
    fputc('\'', out);
    for (; *v; v++)
        if (*v == '\'')
            fputs("'\\''", out);
        else
            fputc(*v, out);
    fputc('\'', out);
}

/* "value" with each character of specials after a backslash, and each %
 * doubled when percent is set (systemd's specifiers). */
static void double_quoted(FILE *out, const char *v, const char *specials, int percent)
{
    fputc('"', out);
    for (; *v; v++) {
        if (strchr(specials, *v))
            fputc('\\', out);
        else if (percent && *v == '%')
            fputc('%', out);
        fputc(*v, out);
    }
    fputc('"', out);
}

/* A path in a line systemd reads unquoted: only its specifiers escaped. */
static void systemd_plain(FILE *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '%')
            fputc('%', out);
        fputc(*v, out);
    }
}

static void assign(FILE *out, enum amp_wire_form form, const char *name, const char *value)
{
    char *both = NULL;

    switch (form) {
    case AMP_WIRE_SHELL:
        fprintf(out, "export %s=", name);
        shell_quoted(out, value);
        /* What the shell preloads already stays, after the library. */
        if (strcmp(name, "LD_PRELOAD") == 0)
            fputs("\"${LD_PRELOAD:+:$LD_PRELOAD}\"", out);
        break;
    case AMP_WIRE_SYSTEMD:
        fputs("Environment=", out);
        if (asprintf(&both, "%s=%s", name, value) < 0)
            both = NULL;
        double_quoted(out, both ? both : "", "\\\"", 1);
        free(both);
        break;
    case AMP_WIRE_DOCKER:
        fprintf(out, "ENV %s=", name);
        double_quoted(out, value, "\\\"$", 0);
        break;
    }
    fputc('\n', out);
}

void amp_wire_print(FILE *out, enum amp_wire_form form, const char *lib, const char *config,
                    const struct amp_config *cfg)
{
    const char *origin = cfg->api_key_origin ? cfg->api_key_origin : "";

    if (form == AMP_WIRE_SYSTEMD)
        fputs("# a drop-in: /etc/systemd/system/UNIT.service.d/ampshim.conf, then systemctl "
              "daemon-reload\n[Service]\n", out);
    assign(out, form, "LD_PRELOAD", lib);
    assign(out, form, "AMPSHIM_CONFIG", config);
    if (form == AMP_WIRE_SYSTEMD && strncmp(origin, "api_key_file ", 13) == 0) {
        /* systemd reads the file as root and hands the service a copy. */
        fputs("LoadCredential=" AMP_KEY_CREDENTIAL ":", out);
        systemd_plain(out, origin + 13);
        fputc('\n', out);
    } else if (strncmp(origin, "api_key_env ", 12) == 0) {
        fprintf(out, "# the key: set %s in the environment%s\n", origin + 12,
                form == AMP_WIRE_SYSTEMD ? " (EnvironmentFile= of a file only root reads)" : "");
    }
}
