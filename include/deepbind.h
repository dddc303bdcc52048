/* Does a shared object need libcurl directly? Read from its ELF file, for
 * the first stage's dlopen: RTLD_DEEPBIND (PHP loads its extensions so)
 * would bind such an object to its own libcurl ahead of our hooks, so it is
 * loaded without (stage1.c). */
#ifndef AMPSHIM_DEEPBIND_H
#define AMPSHIM_DEEPBIND_H

/* 1 when the ELF file at path (a path with a '/') lists a libcurl among
 * its DT_NEEDED entries; 0 otherwise, and for anything unreadable. */
int amp_deepbind_needs_libcurl(const char *path);

#endif
