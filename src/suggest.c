/* The nearest word by edit distance, for the "did you mean" of a misspelt
 * provider, setting, placeholder or host. Only error paths and `ampshim
 * check` call it: a config that loads never pays for it. */
#include "suggest.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;

    return m < c ? m : c;
}

/* Three rows of the classic table (the one before last is needed for a
 * swap), each cut short once every cell of a row is past max. */
size_t amp_edit_distance(const char *a, size_t alen, const char *b, size_t blen, size_t max)
{
    size_t rows[3][AMP_SUGGEST_MAX_LEN + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

    if ((alen > blen ? alen - blen : blen - alen) > max)
        return max + 1;
    if (alen > AMP_SUGGEST_MAX_LEN || blen > AMP_SUGGEST_MAX_LEN)
        return alen == blen && strncasecmp(a, b, alen) == 0 ? 0 : max + 1;
    for (size_t j = 0; j <= blen; j++)
        prev[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        int ca = tolower((unsigned char)a[i - 1]);
        size_t row_min = cur[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            int cb = tolower((unsigned char)b[j - 1]);
            size_t d = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb));
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            cur[j] = d;
            if (d < row_min)
                row_min = d;
        }
        if (row_min > max)
            return max + 1;
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[blen] > max ? max + 1 : prev[blen];
}

size_t amp_suggest_reach(size_t len)
{
    size_t r = (len + 1) / 3;

    return r < 1 ? 1 : r > 3 ? 3 : r;
}

void amp_suggest_init(struct amp_suggest *s, const char *word, size_t max)
{
    s->word = word;
    s->len = strlen(word);
    s->max = max ? max : amp_suggest_reach(s->len);
    s->best = NULL;
    s->best_len = 0;
    s->best_dist = s->max + 1;
}

/* a before b, bytewise, the shorter first when one begins the other. */
static int sorts_before(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    return c < 0 || (c == 0 && alen < blen);
}

void amp_suggest_offer(struct amp_suggest *s, const char *cand, size_t len)
{
    size_t d = amp_edit_distance(s->word, s->len, cand, len, s->max);

    /* A word that begins a longer name ("zendesk", "integration") is its
     * start, not a typo: offered, after every name within reach. */
    if (d > s->max && s->len >= 4 && len > s->len && strncasecmp(cand, s->word, s->len) == 0)
        d = s->max;
    if (d > s->max)
        return;
    if (d < s->best_dist || (d == s->best_dist && sorts_before(cand, len, s->best, s->best_len))) {
        s->best = cand;
        s->best_len = len;
        s->best_dist = d;
    }
}

const char *amp_suggest(const char *word, const char *const *cands)
{
    struct amp_suggest s;

    amp_suggest_init(&s, word, 0);
    for (const char *const *c = cands; *c; c++)
        amp_suggest_offer(&s, *c, strlen(*c));
    return s.best;
}
