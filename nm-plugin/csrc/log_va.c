// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one step of libteamdctl's log API that Rust cannot do portably: make a
 * va_list. The caller's log function takes one, so each message (formatted in
 * Rust already) goes out as format "%s" and the text, through a variadic call
 * here whose va_start builds the va_list this target's ABI wants.
 */

#include <stdarg.h>

struct teamdctl;

typedef void (*teamdctl_log_fn)(struct teamdctl *tdc, int priority,
				const char *file, int line, const char *fn,
				const char *format, va_list args);

static void log_va(teamdctl_log_fn log_fn, struct teamdctl *tdc, int priority,
		   const char *file, int line, const char *fn,
		   const char *format, ...)
{
	va_list args;

	va_start(args, format);
	log_fn(tdc, priority, file, line, fn, format, args);
	va_end(args);
}

/* Hidden: libteamdctl.so.0 exports the teamdctl_* functions only. */
__attribute__((visibility("hidden")))
void rteam_teamdctl_log(teamdctl_log_fn log_fn, struct teamdctl *tdc,
			int priority, const char *file, int line,
			const char *fn, const char *text)
{
	log_va(log_fn, tdc, priority, file, line, fn, "%s", text);
}
