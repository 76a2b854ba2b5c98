/* SPDX-License-Identifier: MIT */
/* vcpus.h - several vCPUs on the model (vcpus.c): set up, initialise, run. */
#ifndef TESTS_MODEL_VCPUS_H
#define TESTS_MODEL_VCPUS_H

#include <stdint.h>

#include "model.h"

/* n vCPUs from now on; seed picks the interleaving; permille: the chance of a switch at a hypercall. */
void model_vcpus_init(unsigned int n, uint64_t seed, unsigned int permille);
/* VCPUOP_initialise: vCPU v starts on these L4s (Xen takes their references). */
int model_vcpu_initialise(unsigned int v, unsigned long l4_mfn, unsigned long user_l4_mfn);
/* fn(id) on every vCPU, vCPU 0 on this stack; returns when all have returned. */
void model_vcpus_run(void (*fn)(unsigned int id));

#endif
