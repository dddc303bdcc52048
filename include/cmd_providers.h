/* `ampshim providers [--json] [NAME]`: the provider catalog, or one
 * provider in detail with a route for it (cmd_providers.c). */
#ifndef AMPSHIM_CMD_PROVIDERS_H
#define AMPSHIM_CMD_PROVIDERS_H

/* argv[0] is "providers"; its own options parsed here. 0; 2 for a usage
 * error, an unknown NAME or a catalog that cannot be read. */
int amp_cmd_providers(int argc, char **argv);

/* Its help: the usage line, the options, an example. */
extern const char amp_cmd_providers_help[];

#endif
