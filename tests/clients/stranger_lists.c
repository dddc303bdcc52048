/* A stranger's header lists and URLs on one handle (stranger.py): a list of
 * twelve lines (the entry's rooms hold twelve) grown by a line after it was
 * set, libcurl sending it as it is then, without the option set again; a
 * line's string rewritten in place; the list freed and another of three
 * set; URLs past 256 bytes and short ones by turns; a duplicate made, its
 * original closed, another handle made and used (taking the freed entry),
 * and the duplicate performed without an option set again.
 * Usage: stranger_lists ROUTED_BASE THIRD_BASE. Prints each response code. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static void go(CURL *h, const char *base, const char *tag, int longurl)
{
    char url[1024];
    long code = 0;

    snprintf(url, sizeof(url), "%s/%s%s%.*s", base, tag, longurl ? "?p=" : "", longurl ? 400 : 0,
             "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
             "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
             "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
             "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
             "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww");
    curl_easy_setopt(h, CURLOPT_URL, url);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    printf("%s %d %ld\n", tag, (int)rc, code);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    const char *sf = argv[1], *third = argv[2];
    char line[13][32];
    struct curl_slist *l = NULL;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < 12; i++) {
        snprintf(line[i], sizeof(line[i]), "X-L%02d-a: v%d", i, i);
        l = curl_slist_append(l, line[i]);
    }
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    go(h, sf, "a1", 1);
    go(h, third, "a2", 0);
    go(h, sf, "a3", 0);
    /* grown past the rooms, the option not set again: libcurl reads the list as it is now */
    l = curl_slist_append(l, "X-L12-a: v12");
    go(h, sf, "a4", 1);
    go(h, third, "a5", 1);
    /* a line rewritten in place (the same node, another string's bytes) */
    strcpy(l->next->data, "X-L01-a: w1");
    go(h, sf, "a6", 0);
    curl_slist_free_all(l);
    l = NULL;
    for (int i = 0; i < 3; i++) {
        snprintf(line[i], sizeof(line[i]), "X-L%02d-b: v%d", i, i);
        l = curl_slist_append(l, line[i]);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    go(h, sf, "b1", 1);
    CURL *d = curl_easy_duphandle(h);
    curl_easy_cleanup(h);
    struct curl_slist *other = NULL;
    for (int i = 0; i < 14; i++) {
        char s[32];
        snprintf(s, sizeof(s), "X-L%02d-c: v%d", i, i);
        other = curl_slist_append(other, s);
    }
    CURL *n = curl_easy_init();
    curl_easy_setopt(n, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(n, CURLOPT_HTTPHEADER, other);
    go(n, sf, "c1", 1);
    /* the duplicate: its URL and list as copied (b's), nothing set again */
    CURLcode rc = curl_easy_perform(d);
    long code = 0;
    curl_easy_getinfo(d, CURLINFO_RESPONSE_CODE, &code);
    printf("dup %d %ld\n", (int)rc, code);
    go(d, third, "d2", 0);
    go(n, third, "c2", 0);
    curl_easy_cleanup(n);
    curl_easy_cleanup(d);
    curl_slist_free_all(other);
    curl_slist_free_all(l);
    curl_global_cleanup();
    return 0;
}
