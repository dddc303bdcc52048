/* A config's routes list as the loader reads it: read straight from the
 * text when the list is in the plain form nearly every config has, else
 * taken from libconfig's parse. libconfig then parses only the rest of the
 * file (its routes list emptied, its lines kept), which for a config of a
 * thousand routes is most of the start-up cost avoided. */
#ifndef AMPSHIM_ROUTELIST_H
#define AMPSHIM_ROUTELIST_H

#include <libconfig.h>
#include <stddef.h>

struct amp_arena;

/* An element of an aggregate setting. */
struct amp_rvalue {
    int type;                 /* CONFIG_TYPE_* */
    int line;
    const char *str;          /* CONFIG_TYPE_STRING: the string, else NULL */
};

/* One setting of a route (or of the proxy group). */
struct amp_rsetting {
    const char *name;
    int line;
    int type;                 /* CONFIG_TYPE_* */
    const char *str;          /* CONFIG_TYPE_STRING: the string, else NULL */
    const struct amp_rvalue *elems; /* an array or list: its elements */
    size_t nelems;
};

/* One element of the routes list (a group, if it is a route). */
struct amp_rdef {
    int line;
    int is_group;
    const struct amp_rsetting *settings;
    size_t nsettings;
};

struct amp_routelist {
    struct amp_rdef *v;
    size_t n;
    /* Read from the text: where the list's "(" and ")" are, the line of
     * the "(", and how many line breaks lie between them. */
    size_t open, close;
    int open_line, lines;
};

/* text's top-level routes list, when it is in the plain form (groups of
 * settings whose values are strings without escapes, control characters
 * or line breaks, or arrays of such strings, each on the line of what
 * follows it) and the rest of the text (len bytes) is made of what
 * libconfig reads without doubt (no @include, nothing but names, numbers,
 * strings, punctuation, white space and comments). 1, *out, and in *rest
 * the text with the list left empty ("()" and a line break: as long
 * whatever the number of routes) for libconfig to parse, its lines mapped
 * back by amp_routelist_line: both in memory of scratch; the names and
 * strings of *out are ended in place, so that text is no longer libconfig's
 * to read. 0 when not (text untouched: libconfig reads all of it); -1 when
 * out of memory. */
int amp_routelist_read(char *text, size_t len, struct amp_arena *scratch,
                       struct amp_routelist *out, char **rest);

/* The line of text that line of the rest (libconfig's) is. */
int amp_routelist_line(const struct amp_routelist *list, int line);

/* The same from libconfig's routes list. -1 when out of memory. */
int amp_routelist_from(const config_setting_t *list, struct amp_arena *scratch,
                       struct amp_routelist *out);

/* One of libconfig's settings as a struct amp_rsetting (its elements too).
 * -1 when out of memory. */
int amp_rsetting_from(const config_setting_t *s, struct amp_arena *scratch,
                      struct amp_rsetting *out);

#endif
