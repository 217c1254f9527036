// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * For the unit tests only (linked by them, not by the library): a log
 * function as a C caller writes one, reading the va_list with vsnprintf, that
 * hands the result to a Rust callback.
 */

#include <stdarg.h>
#include <stdio.h>

struct teamdctl;

typedef void (*rteam_test_sink)(struct teamdctl *tdc, int priority,
				const char *fn, const char *text);

static rteam_test_sink sink;

void rteam_test_set_sink(rteam_test_sink s)
{
	sink = s;
}

void rteam_test_log_fn(struct teamdctl *tdc, int priority, const char *file,
		       int line, const char *fn, const char *format,
		       va_list args)
{
	char buf[256];

	(void) file;
	(void) line;
	vsnprintf(buf, sizeof(buf), format, args);
	if (sink)
		sink(tdc, priority, fn, buf);
}
