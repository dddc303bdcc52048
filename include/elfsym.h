/* Finding a symbol in an object already loaded, from its dynamic section in
 * memory: how we reach glibc's own dlsym and dlvsym once ours are exported. */
#ifndef AMPSHIM_ELFSYM_H
#define AMPSHIM_ELFSYM_H

#include <link.h>

/* The address of the symbol called name defined by the loaded object that
 * contains address `inside` (any address in it, e.g. a function of it), or
 * NULL. Only the object's own definitions (not undefined references); the
 * default version when the symbol has several (dlsym@@GLIBC_2.34 over
 * dlsym@GLIBC_2.2.5), else any. Functions (STT_FUNC/STT_GNU_IFUNC: for an
 * IFUNC return NULL, we do not call resolvers) and objects. Async-signal-safe,
 * allocates nothing, takes no lock, calls nothing that could reach dlsym.
 * (The one exception to "no lock": dladdr1, which finds the object, holds
 * glibc's recursive dl_load_lock. And unlike dlsym, a name with only hidden
 * versions, name@VER, gives that.) */
void *amp_elf_symbol(const void *inside, const char *name);

/* The same, in the first loaded object whose file name starts with
 * soname_prefix ("libc.so."), found in the loader's own list (_r_debug)
 * rather than through dladdr, which another preload may define. */
void *amp_elf_symbol_in(const char *soname_prefix, const char *name);

/* The same, in the object dl_iterate_phdr describes with info: from its
 * program headers alone, without a call to the loader (which
 * dl_iterate_phdr's callback must not make: it holds the loader's lock). */
void *amp_elf_symbol_at(const struct dl_phdr_info *info, const char *name);

#endif
