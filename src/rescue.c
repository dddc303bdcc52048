/* Settings read by name from a config's raw text (rescue.h). */
#define _GNU_SOURCE
#include "rescue.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TEXT (1024 * 1024)

static char *slurp(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    char *text = NULL;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= MAX_TEXT)
        text = malloc((size_t)st.st_size + 1);
    if (text) {
        ssize_t got = read(fd, text, (size_t)st.st_size);
        if (got < 0) {
            free(text);
            text = NULL;
        } else {
            text[got] = '\0';
        }
    }
    close(fd);
    return text;
}

/* Past spaces and comments (#, //, C's). */
static const char *skip(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* The string literal at p ('"'), unescaped; *end past it. NULL when it is
 * not one. */
static char *literal(const char *p, const char **end)
{
    char *out = malloc(strlen(p) + 1), *o = out;

    if (!out)
        return NULL;
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            *o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    if (*p != '"') {
        free(out);
        return NULL;
    }
    *end = p + 1;
    return out;
}

static void keep(char **slot, char *value)
{
    free(*slot);
    *slot = value;
}

int amp_rescue_read(const char *path, struct amp_rescue *r)
{
    char *text = slurp(path);
    const char *p;

    memset(r, 0, sizeof(*r));
    if (!text)
        return -1;
    for (p = skip(text); *p; p = skip(p)) {
        if (*p == '"') { /* a value not after a name we want: passed over */
            const char *end;
            char *v = literal(p, &end);
            free(v);
            p = v ? end : p + strlen(p);
            continue;
        }
        if (!isalpha((unsigned char)*p) && *p != '_') {
            p++;
            continue;
        }
        const char *name = p;
        while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
            p++;
        size_t len = (size_t)(p - name);
        const char *q = skip(p);
        if (*q != '=' && *q != ':')
            continue;
        q = skip(q + 1);
        const char *end;
        char *v = *q == '"' ? literal(q, &end) : NULL;
        if (!v)
            continue;
        p = end;
        if (len == 10 && !strncmp(name, "state_file", len)) {
            keep(&r->state_file, v);
        } else if (len == 10 && !strncmp(name, "project_id", len)) {
            keep(&r->project, v);
        } else if ((len == 15 && !strncmp(name, "installation_id", len)) ||
                   (len == 16 && !strncmp(name, "integration_name", len))) {
            char **ids = realloc(r->ids, (r->nids + 1) * sizeof(*ids));
            if (!ids) {
                free(v);
                continue;
            }
            r->ids = ids;
            r->ids[r->nids++] = v;
        } else {
            free(v);
        }
    }
    free(text);
    return 0;
}

void amp_rescue_free(struct amp_rescue *r)
{
    free(r->state_file);
    free(r->project);
    for (size_t i = 0; i < r->nids; i++)
        free(r->ids[i]);
    free(r->ids);
    memset(r, 0, sizeof(*r));
}
