/* "Did you mean …?": the nearest of some candidates to a misspelt word, by
 * edit distance (letters added, dropped, changed, or two side by side
 * swapped; case ignored), within a reach relative to the word's length. */
#ifndef AMPSHIM_SUGGEST_H
#define AMPSHIM_SUGGEST_H

#include <stddef.h>

/* Words longer than this are never near anything but themselves. */
#define AMP_SUGGEST_MAX_LEN 255

/* The optimal-string-alignment distance between a and b (alen, blen
 * bytes), case folded (ASCII); max + 1 when it is more than max. */
size_t amp_edit_distance(const char *a, size_t alen, const char *b, size_t blen, size_t max);

/* How many edits a word of len may be from a suggestion: a third of its
 * length, at least 1, at most 3. */
size_t amp_suggest_reach(size_t len);

/* The nearest candidate offered so far. Ties go to the candidate that
 * sorts first (bytewise), so that the answer does not depend on the order
 * of a list. */
struct amp_suggest {
    const char *word;
    size_t len, max;
    const char *best;       /* NULL: none within max */
    size_t best_len, best_dist;
};

/* max 0: amp_suggest_reach(strlen(word)). */
void amp_suggest_init(struct amp_suggest *s, const char *word, size_t max);
/* One candidate of len bytes (not necessarily NUL-terminated; it must
 * outlive s). One the word (4 characters or more) begins counts as at the
 * edge of the reach. */
void amp_suggest_offer(struct amp_suggest *s, const char *cand, size_t len);
/* The nearest of a NULL-terminated list, or NULL. */
const char *amp_suggest(const char *word, const char *const *cands);

#endif
