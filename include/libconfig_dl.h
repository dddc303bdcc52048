/* libconfig, loaded by the library only when a config is read, so that a
 * program that never calls curl gets nothing loaded into it. */
#ifndef AMPSHIM_LIBCONFIG_DL_H
#define AMPSHIM_LIBCONFIG_DL_H

#include <stddef.h>

/* 0 when libconfig is usable; -1 with a sentence in err otherwise. */
int amp_libconfig_load(char *err, size_t errlen);

#endif
