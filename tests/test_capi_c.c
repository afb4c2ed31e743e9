/* The C half of test_capi: compiled as strict C99 to prove anycl.h is valid C, and exercising the
 * runtime part of the C API from C. Returns 0 on success, else the number of the failed check. */
#include <stddef.h>
#include <string.h>

#include "anycl/anycl.h"

int anycl_test_capi_from_c(const char* device_spec, size_t* device_count) {
  anycl_runtime* rt = (anycl_runtime*)&rt; /* must be overwritten */
  anycl_status s;
  size_t i;
  anycl_conv2d_desc desc;
  memset(&desc, 0, sizeof desc);
  (void)desc;

  if (strcmp(anycl_status_string(ANYCL_SUCCESS), "ANYCL_SUCCESS") != 0) return 1;
  if (anycl_runtime_create(device_spec, NULL) != ANYCL_ERROR_INVALID_ARGUMENT) return 2;
  if (strstr(anycl_last_error(), "out is NULL") == NULL) return 3;

  s = anycl_runtime_create(device_spec, &rt);
  if (s != ANYCL_SUCCESS) return 4;
  if (rt == NULL) return 5;
  if (anycl_last_error()[0] != '\0') return 6;
  *device_count = anycl_runtime_device_count(rt);
  if (*device_count == 0) return 7;
  for (i = 0; i < *device_count; ++i) {
    const char* name = anycl_runtime_device_name(rt, i);
    if (name == NULL || name[0] == '\0') return 8;
  }
  if (anycl_runtime_device_name(rt, *device_count) != NULL) return 9;
  anycl_runtime_destroy(rt);
  anycl_runtime_destroy(NULL);

  rt = (anycl_runtime*)&rt;
  if (anycl_runtime_create("no-such-device-anywhere", &rt) != ANYCL_ERROR_NO_DEVICE) return 10;
  if (rt != NULL) return 11;
  if (strstr(anycl_last_error(), "matches no device") == NULL) return 12;
  return 0;
}
