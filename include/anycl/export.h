/* ANYCL_API marks what libanycl.so exports; the library is meant to build everything else hidden
 * (-fvisibility=hidden), so only the public headers' declarations reach users. */
#ifndef ANYCL_EXPORT_H
#define ANYCL_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define ANYCL_API __attribute__((visibility("default")))
#else
#define ANYCL_API
#endif

#endif /* ANYCL_EXPORT_H */
