/* SPDX-License-Identifier: MIT */
/*
 * spinlock.h - a test-and-set lock for the few things vCPUs share: the page
 * allocator and the console.  A waiter spins on a plain read (no bus lock
 * while the lock is held) with `pause`.  Xen may preempt the holder; the
 * waiter then spins until the holder's vCPU runs again, which Xen's
 * scheduler bounds, so no lock is held across a wait for another vCPU.
 */
#ifndef SHIM_SPINLOCK_H
#define SHIM_SPINLOCK_H

typedef struct {
    volatile int locked;
} spinlock_t;

static inline void spin_lock(spinlock_t *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (l->locked)
            asm volatile ("pause" ::: "memory");
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
