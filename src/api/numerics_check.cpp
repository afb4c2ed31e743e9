#include "api/numerics_check.hpp"

#include <cmath>
#include <optional>

#include "api/call_log.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {
namespace {

std::size_t extent(const Region& r) {
  if (r.line == 0 || r.lines == 0 || r.batch == 0) return 0;
  return (r.batch - 1) * r.stride + (r.lines - 1) * r.ld + r.line;
}

// Index of the first NaN or Inf of the region in `data` (which starts at the region's offset).
template <typename T>
std::optional<std::size_t> first_nonfinite(const T* data, const Region& r) {
  if (extent(r) == 0) return std::nullopt;
  for (std::size_t b = 0; b < r.batch; ++b)
    for (std::size_t l = 0; l < r.lines; ++l)
      for (std::size_t i = 0; i < r.line; ++i) {
        const std::size_t at = b * r.stride + l * r.ld + i;
        if (!std::isfinite(data[at])) return at;
      }
  return std::nullopt;
}

}  // namespace

Region gemm_region(const GemmShape& s, char which, std::size_t offset) {
  const bool row = s.layout == Layout::RowMajor;
  const std::size_t rows = gemm_stored_rows(s, which), cols = gemm_stored_cols(s, which);
  const std::size_t ld = which == 'a' ? s.lda : which == 'b' ? s.ldb : s.ldc;
  const std::size_t stride = which == 'a' ? s.stride_a : which == 'b' ? s.stride_b : s.stride_c;
  const char* name = which == 'a' ? "a" : which == 'b' ? "b" : "c";
  return {name, offset, row ? cols : rows, row ? rows : cols, ld, s.batch, stride};
}

Region dense_region(const char* name, std::size_t elems) { return {name, 0, elems, 1, elems, 1, 0}; }

void NumericsScan::host(const void* base, const Region& r, bool input, bool output) {
  if (base) tensors_.push_back({r, base, nullptr, nullptr, input, output});
}

void NumericsScan::buffer(const DeviceSlot& slot, cl_mem mem, const Region& r, bool input, bool output) {
  if (mem) tensors_.push_back({r, nullptr, &slot, mem, input, output});
}

void NumericsScan::scan(bool inputs) const {
  for (const Tensor& t : tensors_)
    if (inputs ? t.input : t.output) report(t, inputs);
}

// Host tensors are read in place; buffers are read back whole (blocking) first.
void NumericsScan::report(const Tensor& t, bool inputs) const {
  const std::size_t elem = fp64_ ? sizeof(double) : sizeof(float), n = extent(t.region);
  if (n == 0) return;
  std::vector<unsigned char> copy;
  const unsigned char* data = static_cast<const unsigned char*>(t.host) + t.region.offset * elem;
  if (t.mem) {
    copy.resize(n * elem);
    check(clEnqueueReadBuffer(t.slot->queue.get(), t.mem, CL_TRUE, t.region.offset * elem, n * elem, copy.data(), 0,
                              nullptr, nullptr),
          "clEnqueueReadBuffer(ANYCL_CHECK_NUMERICS)", t.slot->where());
    data = copy.data();
  }
  const std::optional<std::size_t> bad = fp64_ ? first_nonfinite(reinterpret_cast<const double*>(data), t.region)
                                               : first_nonfinite(reinterpret_cast<const float*>(data), t.region);
  if (bad)
    log_always_warn("ANYCL_CHECK_NUMERICS: call " + call_ + ": " + (inputs ? "input " : "output ") + t.region.name +
                    " holds NaN or Inf, first at element " + std::to_string(*bad));
}

}  // namespace anycl::detail
