/* `ampshim env`: what a systemd unit, a shell or a Dockerfile needs to run
 * a program with ampshim without the launcher. */
#ifndef AMPSHIM_WIRE_H
#define AMPSHIM_WIRE_H

#include <stdio.h>

#include "config.h"

enum amp_wire_form { AMP_WIRE_SHELL, AMP_WIRE_SYSTEMD, AMP_WIRE_DOCKER };

/* Prints to out, in form, the settings that preload lib and point the
 * library at config (an absolute path; cfg is it, loaded): quoted for that
 * form, and for an api_key_file under systemd the LoadCredential= line
 * that hands it over (config.h, AMP_KEY_CREDENTIAL). Never the key. */
void amp_wire_print(FILE *out, enum amp_wire_form form, const char *lib, const char *config,
                    const struct amp_config *cfg);

#endif
