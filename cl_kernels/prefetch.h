/* Software prefetch, for reads the hardware prefetchers miss (rows far apart,
 * strided gathers). Expects REAL. Only clang-based compilers have
 * __builtin_prefetch, and not every runtime links it (Oclgrind cannot), so a
 * caller keeps each call under its own distance define, 0 (off) in its .cl. */
#ifndef ANYCL_PREFETCH_H
#define ANYCL_PREFETCH_H

#define LINE_REALS (64 / (int)sizeof(REAL)) /* REALs in a 64-byte cache line */

/* The cache line holding p. */
static inline void prefetch_line(const __global REAL *p)
{
#ifdef __clang__
    __builtin_prefetch(p);
#endif
}

/* Every cache line of the n (>= 1) REALs from p. */
static inline void prefetch_run(const __global REAL *p, const int n)
{
    for (int l = 0; l < n; l += LINE_REALS) prefetch_line(p + l);
    prefetch_line(p + n - 1);
}

#endif /* ANYCL_PREFETCH_H */
