/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * teamdctl.h - C interface of rteam's libteamdctl.so.0, a drop-in for
 * libteam's teamd control library (same functions, same semantics).
 *
 * Return values: 0 on success or a negative errno. Strings returned by the
 * *_get_raw functions and stored through p_cfg belong to the library: they
 * stay valid until the same data is fetched again (refresh or the matching
 * *_direct call) or the context is freed, and must not be modified or freed.
 * The value stored by teamdctl_state_item_value_get is the caller's to free().
 */

#ifndef _TEAMDCTL_H_
#define _TEAMDCTL_H_

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A library context: one connection to one teamd plus its reply cache. */
struct teamdctl;

/* Context life cycle. TEAMDCTL_LOG (number, or err/info/debug) sets the
 * initial log priority; the default is LOG_ERR. */
struct teamdctl *teamdctl_alloc(void);
void teamdctl_free(struct teamdctl *tdc);

/* Logging: messages at or below the priority go to log_fn (stderr lines
 * "libteamdctl: <function>: <text>" by default). */
void teamdctl_set_log_fn(struct teamdctl *tdc,
			 void (*log_fn)(struct teamdctl *tdc, int priority,
					const char *file, int line,
					const char *fn, const char *format,
					va_list args));
int teamdctl_get_log_priority(struct teamdctl *tdc);
void teamdctl_set_log_priority(struct teamdctl *tdc, int priority);

/* Connection to the teamd of team_name. cli_type "usock" or "dbus" forces
 * that transport; NULL tries usock, then dbus. addr is unused (zmq only).
 * Connecting fills the cache (teamdctl_refresh). */
int teamdctl_connect(struct teamdctl *tdc, const char *team_name,
		     const char *addr, const char *cli_type);
void teamdctl_disconnect(struct teamdctl *tdc);
int teamdctl_refresh(struct teamdctl *tdc);

/* Ports. */
int teamdctl_port_add(struct teamdctl *tdc, const char *port_devname);
int teamdctl_port_remove(struct teamdctl *tdc, const char *port_devname);
int teamdctl_port_config_update_raw(struct teamdctl *tdc,
				    const char *port_devname,
				    const char *port_config_raw);
int teamdctl_port_config_get_raw_direct(struct teamdctl *tdc,
					const char *port_devname,
					char **p_cfg);

/* Configuration and state: cached (NULL before the first fetch) or fetched
 * now (_direct), which also updates the cache. */
char *teamdctl_config_get_raw(struct teamdctl *tdc);
int teamdctl_config_get_raw_direct(struct teamdctl *tdc, char **p_cfg);
char *teamdctl_config_actual_get_raw(struct teamdctl *tdc);
int teamdctl_config_actual_get_raw_direct(struct teamdctl *tdc, char **p_cfg);
char *teamdctl_state_get_raw(struct teamdctl *tdc);
int teamdctl_state_get_raw_direct(struct teamdctl *tdc, char **p_cfg);

/* State items by path, e.g. "runner.active_port". */
int teamdctl_state_item_value_get(struct teamdctl *tdc, const char *item_path,
				  char **p_value);
int teamdctl_state_item_value_set(struct teamdctl *tdc, const char *item_path,
				  const char *value);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* _TEAMDCTL_H_ */
