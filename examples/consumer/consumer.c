/* Uses anycl from plain C: creates a runtime on the default device, multiplies two small
 * matrices and checks the result. Exit 0 on success. */
#include <anycl/anycl.h>
#include <math.h>
#include <stdio.h>

int main(void) {
  anycl_runtime* rt = NULL;
  anycl_status st = anycl_runtime_create(NULL, &rt);
  if (st != ANYCL_SUCCESS) {
    fprintf(stderr, "anycl_runtime_create: %s: %s\n", anycl_status_string(st), anycl_last_error());
    return 1;
  }
  float a[6] = {1, 2, 3, 4, 5, 6}; /* 2x3 */
  float b[6] = {7, 8, 9, 10, 11, 12}; /* 3x2 */
  float c[4] = {0, 0, 0, 0};
  st = anycl_sgemm(rt, ANYCL_ROW_MAJOR, ANYCL_NO_TRANS, ANYCL_NO_TRANS, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2);
  if (st != ANYCL_SUCCESS) {
    fprintf(stderr, "anycl_sgemm: %s: %s\n", anycl_status_string(st), anycl_last_error());
    anycl_runtime_destroy(rt);
    return 1;
  }
  /* The product computed by hand in the loop below, not typed in. */
  int ok = 1;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      float ref = 0;
      for (int p = 0; p < 3; ++p) ref += a[i * 3 + p] * b[p * 2 + j];
      ok &= fabsf(ref - c[i * 2 + j]) < 1e-4f;
    }
  printf("consumer: device '%s', C = [%g %g; %g %g] %s\n", anycl_runtime_device_name(rt, 0), c[0], c[1], c[2], c[3],
         ok ? "ok" : "WRONG");
  anycl_runtime_destroy(rt);
  return ok ? 0 : 1;
}
