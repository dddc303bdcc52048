/* The launcher's JSON writer: see json.h. */
#define _GNU_SOURCE
#include "json.h"

#include <time.h>

#include <string.h>

static void put(struct amp_json *j, const char *s, size_t n)
{
    if (n && fwrite(s, 1, n, j->out) != n)
        j->failed = 1;
}

static void puts_(struct amp_json *j, const char *s)
{
    put(j, s, strlen(s));
}

/* The length of the valid UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 when there is none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c == 0xe0)
        len = 3, lo = 0xa0;
    else if (c == 0xed)
        len = 3, hi = 0x9f;
    else if (c >= 0xe1 && c <= 0xef)
        len = 3;
    else if (c == 0xf0)
        len = 4, lo = 0x90;
    else if (c >= 0xf1 && c <= 0xf3)
        len = 4;
    else if (c == 0xf4)
        len = 4, hi = 0x8f;
    else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* s[0..n) as the inside of a JSON string. */
static void put_escaped(struct amp_json *j, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[8];

    while (n) {
        size_t len = utf8_len(p, n);
        if (len == 0) {
            puts_(j, "\\ufffd");
            len = 1;
        } else if (len == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            puts_(j, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
        } else if (len > 1) {
            put(j, (const char *)p, len);
        } else if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            put(j, esc, 2);
        } else if (*p == '\n' || *p == '\r' || *p == '\t' || *p == '\b' || *p == '\f') {
            esc[0] = '\\';
            esc[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : *p == '\t' ? 't' : *p == '\b' ? 'b' : 'f';
            put(j, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
            puts_(j, esc);
        } else {
            put(j, (const char *)p, 1);
        }
        p += len;
        n -= len;
    }
}

/* A quoted string, the secret written as its mask. */
static void put_string(struct amp_json *j, const char *s, size_t n)
{
    size_t slen = j->secret ? strlen(j->secret) : 0;
    const char *hit;

    puts_(j, "\"");
    while (slen) {
        hit = memmem(s, n, j->secret, slen);
        if (!hit)
            break;
        put_escaped(j, s, (size_t)(hit - s));
        put_escaped(j, j->mask, strlen(j->mask));
        n -= (size_t)(hit - s) + slen;
        s = hit + slen;
    }
    put_escaped(j, s, n);
    puts_(j, "\"");
}

static void newline(struct amp_json *j, int depth)
{
    if (!j->indent)
        return;
    puts_(j, "\n");
    for (int i = 0; i < depth * j->indent; i++)
        puts_(j, " ");
}

/* What comes before a value: the comma, the indentation, the key. */
static void before(struct amp_json *j, const char *key)
{
    if (j->done) {
        j->failed = 1;
        return;
    }
    if (j->depth == 0) {
        if (key)
            j->failed = 1;
        return;
    }
    int level = j->depth - 1;
    if (!key != !j->object[level])
        j->failed = 1;
    if (j->items[level])
        puts_(j, ",");
    j->items[level] = 1;
    newline(j, j->depth);
    if (key) {
        put_string(j, key, strlen(key));
        puts_(j, j->indent ? ": " : ":");
    }
}

static void after(struct amp_json *j)
{
    if (j->depth == 0)
        j->done = 1;
}

void amp_json_init(struct amp_json *j, FILE *out, int indent)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
    j->indent = indent < 0 ? 0 : indent;
}

void amp_json_hide(struct amp_json *j, const char *secret, const char *mask)
{
    j->secret = secret && *secret ? secret : NULL;
    j->mask = mask ? mask : "";
}

static void open_(struct amp_json *j, const char *key, int object)
{
    before(j, key);
    puts_(j, object ? "{" : "[");
    if (j->depth >= AMP_JSON_MAX_DEPTH) {
        j->failed = 1;
        return;
    }
    j->items[j->depth] = 0;
    j->object[j->depth] = (unsigned char)object;
    j->depth++;
}

void amp_json_object(struct amp_json *j, const char *key)
{
    open_(j, key, 1);
}

void amp_json_array(struct amp_json *j, const char *key)
{
    open_(j, key, 0);
}

void amp_json_end(struct amp_json *j)
{
    if (j->depth == 0) {
        j->failed = 1;
        return;
    }
    j->depth--;
    if (j->items[j->depth])
        newline(j, j->depth);
    puts_(j, j->object[j->depth] ? "}" : "]");
    after(j);
}

void amp_json_strn(struct amp_json *j, const char *key, const char *value, size_t len)
{
    before(j, key);
    if (value)
        put_string(j, value, len);
    else
        puts_(j, "null");
    after(j);
}

void amp_json_str(struct amp_json *j, const char *key, const char *value)
{
    amp_json_strn(j, key, value, value ? strlen(value) : 0);
}

void amp_json_int(struct amp_json *j, const char *key, long long value)
{
    char buf[32];

    before(j, key);
    snprintf(buf, sizeof(buf), "%lld", value);
    puts_(j, buf);
    after(j);
}

void amp_json_bool(struct amp_json *j, const char *key, int value)
{
    before(j, key);
    puts_(j, value ? "true" : "false");
    after(j);
}

void amp_json_null(struct amp_json *j, const char *key)
{
    before(j, key);
    puts_(j, "null");
    after(j);
}

int amp_json_finish(struct amp_json *j)
{
    if (!j->done || j->depth)
        j->failed = 1;
    puts_(j, "\n");
    if (fflush(j->out) != 0 || ferror(j->out))
        j->failed = 1;
    return j->failed ? -1 : 0;
}

void amp_json_time(struct amp_json *j, const char *key, const char *utc_key, long long t)
{
    char iso[40] = "";
    struct tm tm;
    time_t tt = (time_t)t;

    amp_json_int(j, key, t);
    if (gmtime_r(&tt, &tm) && strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm))
        amp_json_str(j, utc_key, iso);
    else
        amp_json_null(j, utc_key);
}
