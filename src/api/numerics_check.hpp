// ANYCL_CHECK_NUMERICS=1: a call's inputs are scanned for NaN and Inf before it runs and its
// outputs after, and each tensor holding one is reported as a warning naming the call's
// descriptor (call_log.hpp). The call itself is not failed. Buffers are read back blocking, so
// the check serializes calls: a debugging aid, not for production.
#pragma once

#include <CL/cl.h>

#include <cstddef>
#include <string>
#include <vector>

#include "anycl/gemm.hpp"

namespace anycl::detail {

struct DeviceSlot;

// The elements a tensor holds in its memory: `lines` runs of `line` elements `ld` apart, in
// `batch` items `stride` apart, from element `offset` (only the elements, never ld padding).
struct Region {
  const char* name;
  std::size_t offset, line, lines, ld, batch = 1, stride = 0;
};

// Stored operand 'a', 'b' or 'c' of a GEMM.
Region gemm_region(const GemmShape& s, char which, std::size_t offset);
// A dense tensor of `elems` elements.
Region dense_region(const char* name, std::size_t elems);

class NumericsScan {
 public:
  NumericsScan(std::string call, bool fp64) : call_(std::move(call)), fp64_(fp64) {}
  void host(const void* base, const Region& r, bool input, bool output);
  void buffer(const DeviceSlot& slot, cl_mem mem, const Region& r, bool input, bool output);
  void before() const { scan(true); }
  void after() const { scan(false); }

 private:
  struct Tensor {
    Region region;
    const void* host;
    const DeviceSlot* slot;
    cl_mem mem;
    bool input, output;
  };
  void scan(bool inputs) const;
  void report(const Tensor& t, bool inputs) const;

  std::string call_;
  bool fp64_;
  std::vector<Tensor> tensors_;
};

}  // namespace anycl::detail
