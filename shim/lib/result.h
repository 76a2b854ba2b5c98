/* SPDX-License-Identifier: MIT */
/*
 * result.h - the XTF result protocol: the last line is
 * "Test result: SUCCESS", "Test result: FAILURE <why>" or
 * "Test result: ERROR <why>", then the domain shuts down (poweroff on
 * success, crash otherwise, so that a runner sees both).
 */
#ifndef SHIM_RESULT_H
#define SHIM_RESULT_H

#include <stdarg.h>

__attribute__((noreturn)) void result_success(void);
__attribute__((noreturn, format(printf, 1, 2))) void result_failure(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void result_error(const char *fmt, ...);
__attribute__((noreturn)) void shim_shutdown(unsigned int reason);
/* kind is "FAILURE" or "ERROR". */
__attribute__((noreturn)) void result_vreport(const char *kind, const char *fmt, va_list ap);

#endif
