/* What the launcher's commands share: what they say on stderr (kept for a
 * --json document's "warnings"), the head and the failure of a --json
 * document (cli_report.c); the config found and loaded for a command, and
 * the permissions of the files holding the key (cli_config.c); where the
 * library and its catalog are, and a config's absolute path (cmd_run.c).
 * Launcher only. */
#ifndef AMPSHIM_CLI_H
#define AMPSHIM_CLI_H

#include <stddef.h>

#include "config.h"
#include "json.h"

/* The version of the --json documents' shape (their "version" member):
 * raised only when a member changes meaning or goes; new members may come
 * without it. */
#define AMP_JSON_VERSION 1

/* "ampshim: [warning: ]MSG" on stderr, the message kept (the first few)
 * for amp_cli_json_warnings. */
void amp_cli_say(int warning, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, for amp_state_set_warn: a warning. */
void amp_cli_warning(const char *msg);

/* The members every --json document starts with (its object left open). */
void amp_cli_json_head(struct amp_json *j, const char *cmd, int ok, const char *config);
/* The "warnings" array: what amp_cli_say said so far. */
void amp_cli_json_warnings(struct amp_json *j);
/* Ends a --json document; a failed write is said on stderr. rc back. */
int amp_cli_json_finish(struct amp_json *j, int rc);
/* A --json document for a command that could not start: no config, or a
 * bad one (err as the text form prints it; has_file: err may start with
 * "FILE:LINE:"). rc back. */
int amp_cli_json_failure(const char *cmd, const char *config, const char *err, int has_file, int rc);
/* The key masked in masked, and hidden wherever else j would show it. */
void amp_cli_json_hide_key(struct amp_json *j, const struct amp_config *cfg, char *masked, size_t len);

/* The config path: given (-c), else AMPSHIM_CONFIG, else discovery for
 * prog (config_discover.h). 0, or -1 with the sentence in err. */
int amp_cli_find_config(const char *given, const char *prog, char *buf, size_t len, char *err,
                        size_t errlen);
/* The config at path, or NULL with the error printed (and, with json, a
 * --json failure document for command cmd). */
struct amp_config *amp_cli_load(const char *path, const char *cmd, int json);
/* amp_cli_find_config (for "ampshim") then amp_cli_load: NULL, the error
 * said (in both forms with json), when either fails. */
struct amp_config *amp_cli_find_and_load(const char *given, const char *cmd, int json, char *path,
                                         size_t len);
/* A warning when the file holding the API key (the config, or its
 * api_key_file) may be read by others; 1 when it warned. */
int amp_cli_warn_key_files(const struct amp_config *cfg);

/* The folder of libampshim.so, with the provider catalog beside it, or
 * NULL when none holds the library (cmd_run.c says where it looks). */
const char *amp_lib_dir(void);
/* lib_dir()'s libampshim.so into buf: 0, or -1 said on stderr. */
int amp_find_library(char *buf, size_t len);
/* path made absolute for the children that change folder (its folder
 * resolved, its own name kept): 0, or -1 said. */
int amp_absolute_config(const char *path, char *abs, size_t len);

#endif
