// anycl.Array: a row-major float32/float64 tensor in one device's memory, which the calls on
// Arrays (gemm, conv2d*) use in place.
#pragma once

#include <memory>
#include <vector>

#include "py_common.hpp"

namespace anycl_py {

class Array {
 public:
  // A copy of the NumPy array `data` on `device` of the runtime.
  Array(const py::object& data, const py::object& runtime, std::size_t device);
  // An array of `shape` on the handle's runtime, uninitialised (the output of a call).
  Array(std::shared_ptr<RuntimeHandle> handle, std::size_t device, char code, std::vector<py::ssize_t> shape);
  // The producer's memory in place: `buffer` holds the elements from element `offset` on, and
  // `owner` keeps the producer alive (and is released with the GIL held).
  Array(std::shared_ptr<RuntimeHandle> handle, anycl::Buffer buffer, std::size_t offset, char code,
        std::vector<py::ssize_t> shape, std::shared_ptr<void> owner);

  py::array numpy() const;
  py::capsule dlpack(const py::object& stream) const;
  // The runtime for a call on this array, checked open; `function` names the call in the error.
  std::shared_ptr<anycl::Runtime> runtime(const char* function) const;

  const std::shared_ptr<RuntimeHandle>& handle() const { return handle_; }
  const anycl::Buffer& buffer() const { return buffer_; }
  std::size_t offset() const { return offset_; }  // in elements
  char code() const { return code_; }              // 'f' float32, 'd' float64
  std::size_t item() const { return code_ == 'f' ? 4 : 8; }
  const std::vector<py::ssize_t>& shape() const { return shape_; }
  std::size_t size() const;  // elements
  std::size_t device() const { return buffer_.device(); }
  bool shares_host_memory() const { return rt_->device(buffer_.device()).unified_memory; }
  bool is_view() const { return owner_ != nullptr; }  // the producer's memory, not a copy
  // Whether the two arrays are the same memory in part: one buffer, or views of overlapping
  // producer memory (two imports of one tensor are two buffers over the same bytes).
  bool overlaps(const Array& other) const;

  // The elements at the start of a buffer: buffer() itself at offset 0, else a device-side copy
  // (convolution takes tensors at their buffer's start).
  anycl::Buffer at_start(const char* function) const;

 private:
  std::shared_ptr<RuntimeHandle> handle_;
  std::shared_ptr<anycl::Runtime> rt_;  // the buffer's context lives while the array does
  anycl::Buffer buffer_;
  std::size_t offset_ = 0;
  char code_ = 'f';
  std::vector<py::ssize_t> shape_;
  std::shared_ptr<void> owner_;
};

// `obj`'s Array if it is an anycl.Array, else nullptr.
const Array* as_array(const py::handle& obj);
// `obj` as an Array operand of a call on Arrays, else invalid() naming `arg`. With `first`: on
// the same runtime and device as it.
const Array& array_arg(const py::handle& obj, const char* function, const char* arg, const Array* first = nullptr);
// The runtime of a call on Arrays: theirs; `runtime`, if given, must be it.
std::shared_ptr<anycl::Runtime> runtime_of(const Array& first, const py::object& runtime, const char* function);
std::string dtype_name(char code);

}  // namespace anycl_py
