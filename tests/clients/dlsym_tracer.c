/* A preload that stands in front of dlsym too, as MangoHud, apitrace and
 * VirtualGL do: it says on stderr what was looked up, then asks the next
 * dlsym. Behind ampshim it must still be called. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

void *dlsym(void *handle, const char *name)
{
    static void *(*next)(void *, const char *);

    if (!next)
        next = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    fprintf(stderr, "tracer: dlsym %s\n", name);
    return next ? next(handle, name) : NULL;
}
