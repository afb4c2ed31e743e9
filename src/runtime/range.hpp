// A half-open index range [begin, end): a device's share of an index space.
#pragma once

#include <cstddef>

namespace anycl::detail {

struct Range {
  std::size_t begin = 0, end = 0;
  std::size_t size() const noexcept { return end - begin; }
  bool operator==(const Range& o) const noexcept { return begin == o.begin && end == o.end; }
};

}  // namespace anycl::detail
