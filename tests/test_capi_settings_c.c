/* The C half of test_capi_settings: runtime options, device information, the settings' getters
 * and the convolution calls with a chosen algorithm, from strict C99. Each function returns 0 on
 * success, else the number of the failed check (test_capi_settings.cpp reports it). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "anycl/anycl.h"

/* anycl_runtime_options_init, and every way anycl_runtime_create_with_options refuses a struct. */
int capi_options_checks(const char* kernel_dir, const char* headers_only_dir) {
  anycl_runtime_options o;
  anycl_runtime* rt = NULL;
  memset(&o, 0x5a, sizeof o);
  anycl_runtime_options_init(&o);
  if (o.struct_size != sizeof o) return 1;
  if (o.device_spec || o.kernel_path || o.cache_dir || o.binary_path) return 2;
  if (o.cache != 1 || o.binary_only != 0) return 3; /* the test environment sets neither */
  anycl_runtime_options_init(NULL);                /* harmless */

  if (anycl_runtime_create_with_options(NULL, &rt) != ANYCL_ERROR_INVALID_ARGUMENT) return 4;
  if (!strstr(anycl_last_error(), "options is NULL")) return 5;
  if (anycl_runtime_create_with_options(&o, NULL) != ANYCL_ERROR_INVALID_ARGUMENT) return 6;
  o.struct_size = 0;
  rt = (anycl_runtime*)&o;
  if (anycl_runtime_create_with_options(&o, &rt) != ANYCL_ERROR_INVALID_ARGUMENT || rt != NULL) return 7;
  if (!strstr(anycl_last_error(), "anycl_runtime_options_init")) return 8;
  o.struct_size = sizeof o + 8;
  if (anycl_runtime_create_with_options(&o, &rt) != ANYCL_ERROR_UNSUPPORTED) return 9;
  if (!strstr(anycl_last_error(), "newer anycl.h")) return 10;

  /* The kernel path is used: a kernel folder (it has common.h) without the kernel files is
   * KERNEL_NOT_FOUND naming it. */
  anycl_runtime_options_init(&o);
  o.kernel_path = headers_only_dir;
  if (anycl_runtime_create_with_options(&o, &rt) != ANYCL_ERROR_KERNEL_NOT_FOUND || rt != NULL) return 11;
  if (!strstr(anycl_last_error(), headers_only_dir)) return 12;
  o.kernel_path = kernel_dir;
  o.device_spec = "no-such-device-anywhere";
  if (anycl_runtime_create_with_options(&o, &rt) != ANYCL_ERROR_NO_DEVICE) return 13;
  /* binary_only with a binary folder holding none: nothing is compiled, the missing binary named. */
  anycl_runtime_options_init(&o);
  o.binary_only = 1;
  o.binary_path = headers_only_dir;
  if (anycl_runtime_create_with_options(&o, &rt) != ANYCL_ERROR_KERNEL_NOT_FOUND || rt != NULL) return 14;
  if (!strstr(anycl_last_error(), "no prebuilt binary") || !strstr(anycl_last_error(), headers_only_dir)) return 15;
  return 0;
}

/* A runtime from options with the given cache folder and cache switch; the caller inspects the
 * folder. */
int capi_create_with_cache(const char* device_spec, const char* kernel_dir, const char* cache_dir, int cache) {
  anycl_runtime_options o;
  anycl_runtime* rt = NULL;
  anycl_runtime_options_init(&o);
  o.device_spec = device_spec;
  o.kernel_path = kernel_dir;
  o.cache_dir = cache_dir;
  o.cache = cache;
  if (anycl_runtime_create_with_options(&o, &rt) != ANYCL_SUCCESS || !rt) return 1;
  if (anycl_runtime_device_count(rt) != 1) return 2;
  anycl_runtime_destroy(rt);
  return 0;
}

/* Device 0's information into *info, its id and name copied to id_out and name_out (size bytes
 * each; the runtime's strings go with it, so the string pointers are cleared); the caller
 * compares it with OpenCL's own answers. */
int capi_device_info(const char* device_spec, anycl_device_info* info, char* id_out, char* name_out, size_t size) {
  anycl_runtime* rt = NULL;
  const char* name;
  int failed = 0;
  if (anycl_runtime_create(device_spec, &rt) != ANYCL_SUCCESS) return 1;
  info->struct_size = sizeof *info - 1;
  if (anycl_runtime_device_info(rt, 0, info) != ANYCL_ERROR_INVALID_ARGUMENT) failed = 2;
  info->struct_size = sizeof *info + 8;
  if (!failed && anycl_runtime_device_info(rt, 0, info) != ANYCL_ERROR_UNSUPPORTED) failed = 11;
  /* The first version's struct ended at is_sub_device: filled up to there, nothing past it. */
  memset(info, 0xAB, sizeof *info);
  info->struct_size = offsetof(anycl_device_info, global_mem_cache_bytes);
  if (!failed && (anycl_runtime_device_info(rt, 0, info) != ANYCL_SUCCESS || info->compute_units == 0 ||
                  info->global_mem_cache_bytes != 0xABABABABABABABABull ||
                  info->global_mem_cacheline_bytes != 0xABABABABu))
    failed = 12;
  info->struct_size = sizeof *info;
  if (!failed && anycl_runtime_device_info(rt, 1, info) != ANYCL_ERROR_INVALID_ARGUMENT) failed = 3;
  if (!failed && !strstr(anycl_last_error(), "out of range")) failed = 4;
  if (!failed && anycl_runtime_device_info(rt, 0, NULL) != ANYCL_ERROR_INVALID_ARGUMENT) failed = 5;
  if (!failed && anycl_runtime_device_info(NULL, 0, info) != ANYCL_ERROR_INVALID_ARGUMENT) failed = 6;
  if (!failed && anycl_runtime_device_info(rt, 0, info) != ANYCL_SUCCESS) failed = 7;
  name = anycl_runtime_device_name(rt, 0);
  if (!failed && (!info->name || !name || strcmp(info->name, name) != 0)) failed = 8;
  if (!failed && (!info->id || strlen(info->id) >= size || strlen(info->name) >= size)) failed = 9;
  if (!failed && (!info->vendor || !info->version || !info->driver_version || !info->platform_name)) failed = 10;
  if (!failed) {
    strcpy(id_out, info->id);
    strcpy(name_out, info->name);
  }
  info->id = info->name = info->vendor = info->version = info->driver_version = info->platform_name = NULL;
  anycl_runtime_destroy(rt);
  return failed;
}

/* Every setter has a getter that reads back what was set; bad values change nothing. */
int capi_getters(const char* device_spec, int clblast_built) {
  anycl_runtime* rt = NULL;
  anycl_parallel mode;
  anycl_gemm_provider provider;
  double w[2] = {0, 0}, two = 2.5;
  int m;
  if (anycl_runtime_create(device_spec, &rt) != ANYCL_SUCCESS) return 1;
  if (anycl_runtime_get_parallel(rt, &mode) != ANYCL_SUCCESS || mode != ANYCL_PARALLEL_AUTO) return 2;
  for (m = ANYCL_PARALLEL_HYBRID; m >= ANYCL_PARALLEL_AUTO; --m) {
    if (anycl_runtime_set_parallel(rt, (anycl_parallel)m) != ANYCL_SUCCESS) return 3;
    if (anycl_runtime_get_parallel(rt, &mode) != ANYCL_SUCCESS || (int)mode != m) return 4;
  }
  if (anycl_runtime_set_parallel(rt, (anycl_parallel)7) != ANYCL_ERROR_INVALID_ARGUMENT) return 5;
  if (anycl_runtime_get_parallel(rt, &mode) != ANYCL_SUCCESS || mode != ANYCL_PARALLEL_AUTO) return 6;
  if (anycl_runtime_get_parallel(rt, NULL) != ANYCL_ERROR_INVALID_ARGUMENT) return 7;
  if (anycl_runtime_get_parallel(NULL, &mode) != ANYCL_ERROR_INVALID_ARGUMENT) return 8;

  if (anycl_runtime_get_gemm_provider(rt, &provider) != ANYCL_SUCCESS || provider != ANYCL_GEMM_ANYCL) return 9;
  if (anycl_runtime_set_gemm_provider(rt, ANYCL_GEMM_CLBLAST) != (clblast_built ? ANYCL_SUCCESS : ANYCL_ERROR_UNSUPPORTED))
    return 10;
  if (anycl_runtime_get_gemm_provider(rt, &provider) != ANYCL_SUCCESS ||
      provider != (clblast_built ? ANYCL_GEMM_CLBLAST : ANYCL_GEMM_ANYCL))
    return 11;
  if (anycl_runtime_get_gemm_provider(rt, NULL) != ANYCL_ERROR_INVALID_ARGUMENT) return 12;

  if (anycl_runtime_set_device_weights(rt, &two, 1) != ANYCL_SUCCESS) return 13;
  if (anycl_runtime_get_device_weights(rt, w, 1) != ANYCL_SUCCESS || w[0] != 2.5) return 14;
  if (anycl_runtime_get_device_weights(rt, w, 2) != ANYCL_ERROR_INVALID_ARGUMENT) return 15;
  if (!strstr(anycl_last_error(), "device count")) return 16;
  if (anycl_runtime_get_device_weights(rt, NULL, 1) != ANYCL_ERROR_INVALID_ARGUMENT) return 17;

  if (anycl_runtime_set_conv_workspace_limit(rt, 0) != ANYCL_ERROR_INVALID_ARGUMENT) return 18;
  if (anycl_runtime_set_conv_workspace_limit(NULL, 1) != ANYCL_ERROR_INVALID_ARGUMENT) return 19;
  anycl_runtime_destroy(rt);
  return 0;
}

/* ---- convolution with a chosen algorithm, against plain loops in double ---- */

static float next_value(unsigned* state) {
  *state = *state * 1664525u + 1013904223u;
  return (float)((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static float* random_floats(size_t count, unsigned seed) {
  float* v = (float*)malloc(count * sizeof *v);
  size_t i;
  for (i = 0; v && i < count; ++i) v[i] = next_value(&seed);
  return v;
}

/* One loop nest serves the three passes: each (image, out channel, out pixel, in channel of the
 * group, filter tap) adds one product to y (forward), dx (backward data) or dw (backward weights). */
static void conv_reference(const anycl_conv2d_desc* d, size_t p, size_t q, const float* x, const float* w,
                           const float* dy, double* y, double* dx, double* dw) {
  size_t n, k, i, j, c, r, s;
  const size_t cg = d->c / d->groups, kg = d->k / d->groups;
  for (n = 0; n < d->n; ++n)
    for (k = 0; k < d->k; ++k)
      for (i = 0; i < p; ++i)
        for (j = 0; j < q; ++j)
          for (c = 0; c < cg; ++c)
            for (r = 0; r < d->r; ++r)
              for (s = 0; s < d->s; ++s) {
                const long hh = (long)(i * d->stride_h + r * d->dilation_h) - (long)d->pad_top;
                const long ww = (long)(j * d->stride_w + s * d->dilation_w) - (long)d->pad_left;
                size_t xi, wi, yi;
                if (hh < 0 || ww < 0 || hh >= (long)d->h || ww >= (long)d->w) continue;
                xi = ((n * d->c + (k / kg) * cg + c) * d->h + (size_t)hh) * d->w + (size_t)ww;
                wi = ((k * cg + c) * d->r + r) * d->s + s;
                yi = ((n * d->k + k) * p + i) * q + j;
                if (y) y[yi] += (double)x[xi] * w[wi];
                if (dx) dx[xi] += (double)dy[yi] * w[wi];
                if (dw) dw[wi] += (double)dy[yi] * x[xi];
              }
}

/* |got - want| <= tol * (1 + max |want|) everywhere. */
static int close_to(const float* got, const double* want, size_t count, double tol) {
  double scale = 1;
  size_t i;
  for (i = 0; i < count; ++i) scale = fabs(want[i]) + 1 > scale ? fabs(want[i]) + 1 : scale;
  for (i = 0; i < count; ++i)
    if (!(fabs(got[i] - want[i]) <= tol * scale)) return 0;
  return 1;
}

/* Runs `pass` (0 forward, 1 backward data, 2 backward weights) with `algo`; 0 when it matches
 * the loops within `tol`, else a failure number. `status` gets the call's status; an output
 * that a failed call must leave untouched is checked to be. */
int capi_conv_algo(const char* device_spec, const anycl_conv2d_desc* d, int pass, anycl_conv_algo algo, double tol,
                   anycl_status* status) {
  anycl_runtime* rt = NULL;
  size_t p = 0, q = 0, xs, ws, ys, out_count, i;
  float *x, *w, *dy, *out;
  double* want;
  int failed = 0;
  if (anycl_conv2d_output_size(d, &p, &q) != ANYCL_SUCCESS) return 1;
  xs = d->n * d->c * d->h * d->w, ws = d->k * (d->c / d->groups) * d->r * d->s, ys = d->n * d->k * p * q;
  out_count = pass == 0 ? ys : pass == 1 ? xs : ws;
  x = random_floats(xs, 1), w = random_floats(ws, 2), dy = random_floats(ys, 3);
  out = (float*)malloc(out_count * sizeof *out);
  want = (double*)calloc(out_count, sizeof *want);
  if (!x || !w || !dy || !out || !want) failed = 2;
  if (!failed && anycl_runtime_create(device_spec, &rt) != ANYCL_SUCCESS) failed = 3;
  if (!failed) {
    for (i = 0; i < out_count; ++i) out[i] = 12345.f;
    conv_reference(d, p, q, x, w, dy, pass == 0 ? want : NULL, pass == 1 ? want : NULL, pass == 2 ? want : NULL);
    *status = pass == 0   ? anycl_conv2d_forward_algo(rt, d, algo, x, w, NULL, out)
              : pass == 1 ? anycl_conv2d_backward_data_algo(rt, d, algo, dy, w, out)
                          : anycl_conv2d_backward_weights_algo(rt, d, algo, x, dy, out, NULL);
    if (*status == ANYCL_SUCCESS && !close_to(out, want, out_count, tol)) failed = 4;
    for (i = 0; *status != ANYCL_SUCCESS && i < out_count; ++i)
      if (out[i] != 12345.f) failed = 5;
  }
  anycl_runtime_destroy(rt);
  free(x);
  free(w);
  free(dy);
  free(out);
  free(want);
  return failed;
}

/* anycl_conv2d_select's pick for `d`, or -1 (and the failure) when the call fails. */
int capi_conv_select(const char* device_spec, const anycl_conv2d_desc* d, anycl_status* status) {
  anycl_runtime* rt = NULL;
  anycl_conv_algo algo = ANYCL_CONV_AUTO;
  if (anycl_runtime_create(device_spec, &rt) != ANYCL_SUCCESS) return -1;
  *status = anycl_conv2d_select(rt, d, &algo);
  if (anycl_conv2d_select(rt, d, NULL) != ANYCL_ERROR_INVALID_ARGUMENT) algo = (anycl_conv_algo)-2;
  if (anycl_conv2d_select(rt, NULL, &algo) != ANYCL_ERROR_INVALID_ARGUMENT) algo = (anycl_conv_algo)-3;
  anycl_runtime_destroy(rt);
  return *status == ANYCL_SUCCESS ? (int)algo : -1;
}

/* The workspace cap is honoured: a cap of one image's columns still computes the right result. */
int capi_conv_small_workspace(const char* device_spec, const anycl_conv2d_desc* d, size_t cap) {
  anycl_runtime* rt = NULL;
  size_t p = 0, q = 0, ys;
  float *x, *w, *y;
  double* want;
  int failed = 0;
  if (anycl_conv2d_output_size(d, &p, &q) != ANYCL_SUCCESS) return 1;
  ys = d->n * d->k * p * q;
  x = random_floats(d->n * d->c * d->h * d->w, 4), w = random_floats(d->k * (d->c / d->groups) * d->r * d->s, 5);
  y = (float*)malloc(ys * sizeof *y), want = (double*)calloc(ys, sizeof *want);
  if (!x || !w || !y || !want) failed = 2;
  if (!failed && anycl_runtime_create(device_spec, &rt) != ANYCL_SUCCESS) failed = 3;
  if (!failed && anycl_runtime_set_conv_workspace_limit(rt, cap) != ANYCL_SUCCESS) failed = 4;
  if (!failed && anycl_conv2d_forward_algo(rt, d, ANYCL_CONV_IM2COL, x, w, NULL, y) != ANYCL_SUCCESS) failed = 5;
  if (!failed) conv_reference(d, p, q, x, w, NULL, want, NULL, NULL);
  if (!failed && !close_to(y, want, ys, 1e-4)) failed = 6;
  anycl_runtime_destroy(rt);
  free(x);
  free(w);
  free(y);
  free(want);
  return failed;
}

/* anycl_version is the version the build was configured with. */
int capi_version(const char* expected) { return strcmp(anycl_version(), expected) == 0 ? 0 : 1; }
