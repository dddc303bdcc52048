/* A small streaming JSON writer for the launcher's --json output (check,
 * route, state; any later command the same way). It keeps the commas and
 * the nesting, escapes every string, and can hide a secret wherever it
 * would appear. No allocation; a misuse or a failed write is remembered
 * and reported by amp_json_finish().
 *
 * Strings: `"` and `\` are escaped, control characters (and DEL) are
 * written as \n, \t, … or \u00XX, U+2028/U+2029 as \u2028/\u2029 (so the
 * text is valid JavaScript too); valid UTF-8 passes through as it is, and
 * each byte that is not part of a valid UTF-8 sequence becomes \ufffd
 * (the output is always valid UTF-8). */
#ifndef AMPSHIM_JSON_H
#define AMPSHIM_JSON_H

#include <stddef.h>
#include <stdio.h>

#define AMP_JSON_MAX_DEPTH 16

struct amp_json {
    FILE *out;
    int indent;               /* spaces per level; 0: one line */
    int depth;
    int failed;               /* a write failed, or the calls did not nest */
    int done;                 /* the top-level value has been written */
    unsigned char items[AMP_JSON_MAX_DEPTH];  /* per level: a value already written */
    unsigned char object[AMP_JSON_MAX_DEPTH]; /* per level: 1 object, 0 array */
    const char *secret;       /* written as mask wherever it occurs in a string */
    const char *mask;
};

/* A writer of one document to out. */
void amp_json_init(struct amp_json *j, FILE *out, int indent);

/* Every occurrence of secret in a string (a key or a value) is written as
 * mask instead. secret NULL or "": nothing hidden. Both must outlive j. */
void amp_json_hide(struct amp_json *j, const char *secret, const char *mask);

/* Each value is given a key inside an object and none (NULL) inside an
 * array or at the top. */
void amp_json_object(struct amp_json *j, const char *key);
void amp_json_array(struct amp_json *j, const char *key);
/* Closes the innermost object or array. */
void amp_json_end(struct amp_json *j);

/* value NULL: null. */
void amp_json_str(struct amp_json *j, const char *key, const char *value);
void amp_json_strn(struct amp_json *j, const char *key, const char *value, size_t len);
void amp_json_int(struct amp_json *j, const char *key, long long value);
void amp_json_bool(struct amp_json *j, const char *key, int value);
void amp_json_null(struct amp_json *j, const char *key);

/* A time (Unix seconds) as two members: key, a number, and utc_key, the
 * same as an ISO 8601 string ("2026-11-30T11:20:56Z"). */
void amp_json_time(struct amp_json *j, const char *key, const char *utc_key, long long t);

/* Ends the document with a newline and flushes. 0, or -1 when a write
 * failed or the document is not one complete value. */
int amp_json_finish(struct amp_json *j);

#endif
