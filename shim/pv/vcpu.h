/* SPDX-License-Identifier: MIT */
/*
 * vcpu.h - what the MM code knows about vCPUs: how many there can be, a
 * set of them, and which one is running (plat_vcpu_id(), mmu_plat.h).
 * Bringing them up is the guest's business (smp.c).
 */
#ifndef SHIM_VCPU_H
#define SHIM_VCPU_H

/* The vCPUs the shim runs at most (xl's `vcpus` may ask for more: smp.c says so). */
#define MAX_VCPUS 8

/* A set of vCPUs, bit i for vCPU i: the layout of mmuext_op's vcpumask. */
typedef unsigned long vcpumask_t;

/* Xen reads a vcpumask as one word per 64 of the domain's vCPUs: the shim's cover this many. */
#define VCPUMASK_WORDS 4
#define VCPUMASK_MAX_VCPUS (VCPUMASK_WORDS * 64)

#endif
