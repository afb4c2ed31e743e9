// Shared pieces of the Python extension: the runtime handle Python holds, argument errors, and
// NumPy array checks. Only the public C++ API (include/anycl) is used.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <string>

#include "anycl/anycl.hpp"

namespace anycl_py {

namespace py = pybind11;

// The object behind anycl.Runtime. close() drops the handle's reference; calls running on other
// threads hold their own reference, so the runtime is destroyed once the last of them returns.
class RuntimeHandle {
 public:
  explicit RuntimeHandle(std::shared_ptr<anycl::Runtime> rt) : rt_(std::move(rt)) {}
  // The runtime for one call; throws anycl.Error when closed.
  std::shared_ptr<anycl::Runtime> get(const char* function) const;
  void close();
  bool closed() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<anycl::Runtime> rt_;
};

// The handle a call runs on: `runtime` if given (an anycl.Runtime), else the default runtime.
std::shared_ptr<RuntimeHandle> handle_of(const py::object& runtime);
std::shared_ptr<RuntimeHandle> default_handle();
void reset_default_handle();

// Throws anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT) "FUNCTION: argument 'ARG': WHAT".
[[noreturn]] void invalid(const char* function, const char* arg, const std::string& what);

// `obj` as a NumPy array of float32 or float64 (`want` if given: 'f' or 'd'), else invalid().
py::array float_array(const py::handle& obj, const char* function, const char* arg, char want = 0);
std::string shape_text(const std::vector<py::ssize_t>& shape);
std::string shape_text(const py::array& a);
// A finite double, else invalid().
double finite(double value, const char* function, const char* arg);

// The shortest decimal that reads back as the same float32, as Python writes floats ("0.1", "1e-05",
// "1.0"), and a Python float holding it: what the user wrote rather than its float32 widening.
std::string float32_text(float v);
py::float_ float32_value(float v);

// The trainer's `processes` option: an anycl.MpiProcessGroup (when built with MPI) or None.
anycl::ProcessGroup* process_group_of(const py::handle& obj, const char* function);

}  // namespace anycl_py
