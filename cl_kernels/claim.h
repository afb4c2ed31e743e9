/* Claimed work-groups: devices that share one memory split a kernel by
 * taking its work-groups from one counter instead of each running a fixed
 * part of the index space. Every device launches the whole index space; each
 * group takes the next linear index from the counter (dimension 0 fastest,
 * the order a device would run them in) and the groups that come after the
 * last one exit at once. A device slowed down part-way through (another
 * process on its core, a busy memory channel) simply takes fewer groups,
 * where a fixed split would make every other device wait for it.
 * The host zeroes the counter before any device starts the kernel. */
#ifndef ANYCL_CLAIM_H
#define ANYCL_CLAIM_H

/* The next number from the counter, one atomic per group, shared through
 * `taken`. Every work-item of the group must call it (it has a barrier). */
static inline int take_claim(__global volatile int *counter, __local volatile int *taken)
{
    if (get_local_id(0) == 0 && get_local_id(1) == 0 && get_local_id(2) == 0)
        *taken = atomic_inc(counter);
    barrier(CLK_LOCAL_MEM_FENCE);
    return *taken;
}

static inline int launched_groups(void)
{
    return (int)(get_num_groups(0) * get_num_groups(1) * get_num_groups(2));
}

/* The linear index of the group this work-group claimed, or -1 when every
 * group has been taken. Every work-item of the group must call it. */
static inline int claim_group(__global volatile int *counter, __local volatile int *taken)
{
    const int g = take_claim(counter, taken);
    return g < launched_groups() ? g : -1;
}

/* Guided claims, for kernels whose work-groups loop over items: the next run
 * of consecutive items, 1/divisor of what is left (at least one), so runs
 * start long, which keeps a device on neighbouring items, and end short,
 * which evens out the devices' finish. A claim's grain, not its atomic, is
 * what costs: claimed 16 channels at a time, the Winograd input transform ran
 * up to 2x slower on two POCL sub-devices than in runs of tile panels.
 * Returns the first item and sets *end one past the last; first == *end
 * when every item has been taken. The size comes from a read of the counter
 * before the add, so it may be a little stale: runs never overlap nor leave
 * gaps, since the add itself is atomic. Every work-item must call it. */
static inline int claim_guided(__global volatile int *counter, const int items, const int divisor,
                               __local volatile int *taken, int *end)
{
    barrier(CLK_LOCAL_MEM_FENCE); /* everyone has read the last claim */
    if (get_local_id(0) == 0 && get_local_id(1) == 0 && get_local_id(2) == 0) {
        const int left = items - atomic_or(counter, 0); /* an atomic read: a plain one races with the adds */
        const int run = max(1, left / divisor);
        *taken = left > 0 ? atomic_add(counter, run) : items;
        taken[1] = min(items, *taken + run);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    const int first = min(*taken, items);
    *end = max(first, min(taken[1], items));
    return first;
}

/* This work-item's global id along `dim` when its group is the linear group g. */
static inline int claimed_id(const int g, const uint dim)
{
    const int n0 = (int)get_num_groups(0), n1 = (int)get_num_groups(1);
    const int group = dim == 0 ? g % n0 : dim == 1 ? (g / n0) % n1 : g / (n0 * n1);
    return group * (int)get_local_size(dim) + (int)get_local_id(dim) + (int)get_global_offset(dim);
}

#endif /* ANYCL_CLAIM_H */
