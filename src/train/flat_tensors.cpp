#include "train/flat_tensors.hpp"

#include <algorithm>

namespace anycl::detail {

FlatTensors carve_tensors(Runtime& rt, std::size_t device, const std::vector<std::size_t>& sizes, std::size_t first,
                          std::size_t last) {
  const std::size_t align = std::max<std::size_t>(rt.device(device).mem_base_addr_align_bytes, sizeof(float));
  std::vector<std::size_t> offsets;  // bytes
  std::size_t end = 0;
  for (std::size_t t = first; t < last; ++t) {
    offsets.push_back(end);
    end += (sizes[t] * sizeof(float) + align - 1) / align * align;
  }
  FlatTensors f;
  f.tensors.resize(sizes.size());
  if (end == 0) return f;
  f.whole = rt.alloc(end, device);
  const std::vector<float> zeros(end / sizeof(float), 0.f);
  rt.write(f.whole, zeros.data(), end);
  for (std::size_t t = first; t < last; ++t)
    f.tensors[t] = rt.wrap(f.whole.native(), offsets[t - first], sizes[t] * sizeof(float), device);
  return f;
}

}  // namespace anycl::detail
