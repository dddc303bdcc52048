/* A thread calls curl without pause while the main thread loads a plugin
 * linked against the other libcurl flavour (libflavour_plug.so) and fetches
 * through it: the worker's calls look at the loaded objects while the
 * dlopen is under way, and must not take the process for one with a single
 * libcurl then (the plugin's handle would go to the program's libcurl).
 *   flavour_race PLUGIN URL  ->  the plugin's result (7 for a refused URL) */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static volatile int stop;
static CURL *h;

static void *worker(void *arg)
{
    long v;

    (void)arg;
    while (!stop)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &v);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    long v, status = 0;
    h = curl_easy_init();
    /* The program's libcurl found, then the one-libcurl shortcut taken. */
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &v);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &v);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    for (volatile int i = 0; i < 1000000; i++)
        ;
    void *p = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!p) {
        printf("dlopen: %s\n", dlerror());
        return 2;
    }
    int (*fetch)(const char *, long *) = (int (*)(const char *, long *))dlsym(p, "plug_fetch");
    int rc = fetch(argv[2], &status);
    stop = 1;
    pthread_join(t, NULL);
    curl_easy_cleanup(h);
    printf("%d\n", rc);
    return 0;
}
