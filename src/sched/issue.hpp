// What issuing a split call needs: private host staging (a gathered input slice, a partial sum
// read back for adding), and the guarantee that no device still works on host memory when the
// call unwinds (FinishOnUnwind).
#pragma once

#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "runtime/finish_on_unwind.hpp"

namespace anycl::detail {

// Page-aligned host memory, so devices that share host memory view an input staged here without a
// copy. Partial sums are read back into it and added into the caller's output after every device
// finished; other outputs go straight to the caller (run_conv.cpp, run_gemm.cpp).
template <typename T>
class Staging {
 public:
  explicit Staging(std::size_t elems) : elems_(elems) {
    constexpr std::size_t align = 4096;
    const std::size_t bytes = (std::max<std::size_t>(elems, 1) * sizeof(T) + align - 1) / align * align;
    mem_.reset(static_cast<T*>(std::aligned_alloc(align, bytes)));
    if (!mem_) throw std::bad_alloc();
  }
  T* data() noexcept { return mem_.get(); }
  std::size_t size() const noexcept { return elems_; }
  std::size_t bytes() const noexcept { return elems_ * sizeof(T); }

 private:
  struct Free {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  std::size_t elems_;
  std::unique_ptr<T, Free> mem_;
};

}  // namespace anycl::detail
