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

/* Claims over a stage's items instead of its work-groups, for kernels whose
 * natural work-groups are too small to claim one at a time: each device
 * launches the same number of groups, and claim number n takes the `span`
 * consecutive items n*span .. n*span+span-1 (span = ceil(items / groups)),
 * which the group's work-items then share. Returns the first item and sets
 * *end one past the last; both are `items` when every claim has been taken.
 * On two POCL sub-devices the Winograd input transform claimed 16 channels at
 * a time ran 1.4-2x slower than in runs of a few tile panels: the atomics and
 * the devices' interleaved reads and writes cost more than the stage. Every
 * work-item must call it. */
static inline int claim_span(__global volatile int *counter, const int items, __local volatile int *taken,
                             int *end)
{
    const int n = take_claim(counter, taken), groups = launched_groups();
    const int span = (items + groups - 1) / groups;
    const int first = n < groups ? min(n * span, items) : items;
    *end = min(first + span, items);
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
