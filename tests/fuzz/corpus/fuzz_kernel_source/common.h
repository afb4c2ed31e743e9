/* Shared helpers for the anycl GEMM kernels.
 * Expects REAL (float|double) and VW (1|2|4|8|16) to be defined by the
 * including kernel file (which gives them defaults) or by -D options. */
#ifndef ANYCL_COMMON_H
#define ANYCL_COMMON_H

#ifndef REAL
#define REAL float
#endif
#ifndef VW
#define VW 4
#endif

/* Two levels so that macro arguments are expanded before pasting. */
#define ANYCL_CAT_(a, b) a##b
#define CONCAT(a, b) ANYCL_CAT_(a, b)

/* `float`/`double` are keywords, not macros, so pasting REAL onto a suffix
 * yields an identifier we can map to 0/1 and test in #if. */
#define float_IS_DOUBLE 0
#define double_IS_DOUBLE 1
#define REAL_IS_DOUBLE CONCAT(REAL, _IS_DOUBLE)

#if REAL_IS_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* OpenCL C has no 1-wide vector type nor vload1/vstore1, so VW == 1 maps
 * onto plain scalars; everything else uses the built-in vector types. */
/* VLOAD/VSTORE take a plain element pointer (vloadN's own offset argument
 * counts in units of N, which is easy to get wrong). */
#if VW == 1
#define REALV REAL
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#else
#define REALV CONCAT(REAL, VW)
#define VLOAD(p) CONCAT(vload, VW)(0, (p))
#define VSTORE(v, p) CONCAT(vstore, VW)((v), 0, (p))
#endif

/* Element e of a REALV; only used in edge paths, never in hot loops. */
#if VW == 1
#define VELEM(v, e) (v)
#else
#define VELEM(v, e) (((REAL *)&(v))[(e)])
#endif

#endif /* ANYCL_COMMON_H */
