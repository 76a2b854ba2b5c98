/* SPDX-License-Identifier: MIT */
/*
 * hosted.h - the world as the shim's MMU code sees it on the host
 * (plat_hosted.c): mmu_plat.h on top of the model, and how a run ends.
 *
 * mmu_error(), mmu_failure(), a page fault and a domain crash all leave the
 * code under test through model_end_run(), which jumps back to the
 * model_run() that started it with the outcome and the message.
 */
#ifndef TESTS_MODEL_HOSTED_H
#define TESTS_MODEL_HOSTED_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

#define HOSTED_LOG_BYTES 16384

/* Runs fn(arg); returns how it ended (OUT_NONE if it returned) and the message. */
enum outcome model_run(void (*fn)(void *), void *arg, char *msg, size_t len);

/* Leaves the run with the outcome and message model_end_run() recorded (vcpus.c, on vCPU 0). */
__attribute__((noreturn)) void model_end_run_now(void);

/* What mmu_print() printed since the last reset (also echoed if MODEL_VERBOSE is set). */
void hosted_log_reset(void);
const char *hosted_log(void);

#endif
