/* clEnqueueCopyBuffer and clEnqueueFillBuffer for test_kernels_oclgrind, done by kernels so that
 * Oclgrind's uninitialised-value shadow follows the bytes exactly (tests/oclgrind/deferred_release.cpp
 * says why). One work-item per byte; no tunables. */
__kernel void copy_bytes(__global const uchar *src, ulong src_off, __global uchar *dst, ulong dst_off)
{
    const size_t i = get_global_id(0);
    dst[dst_off + i] = src[src_off + i];
}

__kernel void fill_bytes(__global const uchar *pattern, uint pattern_size, __global uchar *dst, ulong dst_off)
{
    const size_t i = get_global_id(0);
    dst[dst_off + i] = pattern[i % pattern_size];
}
