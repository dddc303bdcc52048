/* review17: 8 threads at once: half dlopen libcurl (RTLD_LOCAL or RTLD_DEEPBIND
 * by argv[3]) and perform a GET of argv[1] through dlsym'd functions, half take
 * curl_easy_init by dlsym(RTLD_DEFAULT) while the core is being loaded.
 * Not linked against libcurl. argv[2]: a --resolve entry. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *url, *res;
static int flags = RTLD_NOW | RTLD_LOCAL;
static pthread_barrier_t go;

static size_t sink(char *b, size_t s, size_t n, void *u) { (void)b, (void)u; return s * n; }

static void *opener(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&go);
    void *h = dlopen("libcurl.so.4", flags);
    if (!h) { printf("dlopen: %s\n", dlerror()); return NULL; }
    void *(*init)(void) = (void *(*)(void))dlsym(h, "curl_easy_init");
    int (*setopt)(void *, int, ...) = (int (*)(void *, int, ...))dlsym(h, "curl_easy_setopt");
    int (*perform)(void *) = (int (*)(void *))dlsym(h, "curl_easy_perform");
    void *(*append)(void *, const char *) = (void *(*)(void *, const char *))dlsym(h, "curl_slist_append");
    void *e = init();
    setopt(e, 10002 /* URL */, url);
    setopt(e, 10203 /* RESOLVE */, append(NULL, res));
    setopt(e, 20011 /* WRITEFUNCTION */, sink);
    printf("perform rc=%d\n", perform(e));
    return NULL;
}

static void *looker(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&go);
    for (int i = 0; i < 1000; i++)
        if (dlsym(RTLD_DEFAULT, "curl_easy_init") == (void *)1)
            puts("?");
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[8];
    url = argv[1], res = argv[2];
    if (argc > 3 && !strcmp(argv[3], "deepbind"))
        flags |= RTLD_DEEPBIND;
    pthread_barrier_init(&go, NULL, 8);
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, i % 2 ? looker : opener, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    return 0;
}
