/* What the process was started with: the environment variables ampshim
 * reads and the program's name, copied by the first stage's constructor
 * (stage1_env.c) when the preload is loaded, before the application can
 * clear its environment (php-fpm's clear_env) or rewrite its argv for a
 * process title (php-fpm, nginx, postgres): the memory
 * program_invocation_short_name points into. The core, loaded later, is
 * handed the copy (stage1.h). */
#ifndef AMPSHIM_ENV_H
#define AMPSHIM_ENV_H

/* The copy: "NAME=value" strings, and the program's short name. */
struct amp_env_captured {
    const char *const *vars;
    int nvars;
    const char *program;
};

/* The copy the first stage made (NULL: none, the launcher or a test). */
void amp_env_attach(const struct amp_env_captured *c);

/* name's value now; when it is no longer set (the application cleared its
 * environment), the value it had when the library was loaded, for the few
 * ampshim reads (AMPSHIM_*, HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR:
 * stage1_env.c). NULL in
 * a setuid or setgid program, as secure_getenv. */
const char *amp_env(const char *name);

/* Whether name was set when the library was loaded (1 too when that was
 * not seen: the library loaded otherwise). No libc call: asked at every
 * process's exit. */
int amp_env_set(const char *name);

/* The program's short name (argv[0] after its last '/') when the library
 * was loaded. */
const char *amp_env_program(void);

#endif
