/* Does a shared object need libcurl directly? Read from its ELF file, for
 * the dlopen hook. */
#ifndef AMPSHIM_DEEPBIND_H
#define AMPSHIM_DEEPBIND_H

/* The dlopen hook's logic: RTLD_DEEPBIND (PHP loads its extensions so)
 * taken off for an object that needs libcurl, so that the preload comes
 * first for it as it does elsewhere; then glibc's dlopen. */
void *amp_deepbind_dlopen(const char *file, int flags);

#endif
