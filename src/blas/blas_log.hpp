// libanycl_blas's diagnostics: stderr only when ANYCL_LOG asks, as for libanycl itself
// (ANYCL_LOG=warn: warnings; info, 1 or any other word except 0, off and calls: also one line
// per call; a comma-separated list takes its most verbose word).
#pragma once

namespace anycl::blas {

bool log_info_enabled() noexcept;
// printf-style; the line is prefixed with "anycl_blas: " and ended with a newline.
void log_warn(const char* format, ...) noexcept __attribute__((format(printf, 1, 2)));
void log_info(const char* format, ...) noexcept __attribute__((format(printf, 1, 2)));

}  // namespace anycl::blas
