#include "py_common.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace anycl_py {

std::shared_ptr<anycl::Runtime> RuntimeHandle::get(const char* function) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!rt_) throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": argument 'runtime': the runtime is closed");
  return rt_;
}

void RuntimeHandle::close() {
  std::shared_ptr<anycl::Runtime> last;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    last.swap(rt_);
  }
  py::gil_scoped_release release;  // the destructor waits for the devices
  last.reset();
}

bool RuntimeHandle::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return !rt_;
}

namespace {
std::shared_ptr<RuntimeHandle>& default_slot() {
  static std::shared_ptr<RuntimeHandle> slot;
  return slot;
}
}  // namespace

std::shared_ptr<RuntimeHandle> default_handle() {
  auto& slot = default_slot();
  if (!slot || slot->closed()) {
    std::shared_ptr<anycl::Runtime> rt;
    {
      py::gil_scoped_release release;  // kernel builds take a while
      rt = std::make_shared<anycl::Runtime>();
    }
    if (!slot || slot->closed()) slot = std::make_shared<RuntimeHandle>(std::move(rt));
  }
  return slot;
}

void reset_default_handle() {
  auto& slot = default_slot();
  if (slot) slot->close();
  slot.reset();
}

std::shared_ptr<RuntimeHandle> handle_of(const py::object& runtime) {
  if (runtime.is_none()) return default_handle();
  try {
    return runtime.cast<std::shared_ptr<RuntimeHandle>>();
  } catch (const py::cast_error&) {
    throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT,
                       "argument 'runtime': expected an anycl.Runtime, got " +
                           std::string(py::str(py::type::of(runtime).attr("__name__"))));
  }
}

void invalid(const char* function, const char* arg, const std::string& what) {
  throw anycl::Error(ANYCL_ERROR_INVALID_ARGUMENT, std::string(function) + ": argument '" + arg + "': " + what);
}

std::string shape_text(const std::vector<py::ssize_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::string shape_text(const py::array& a) { return shape_text(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim())); }

py::array float_array(const py::handle& obj, const char* function, const char* arg, char want) {
  if (!py::isinstance<py::array>(obj))
    invalid(function, arg, "expected a numpy.ndarray, got " + std::string(py::str(py::type::of(obj).attr("__name__"))));
  auto a = py::reinterpret_borrow<py::array>(obj);
  // Equality with the native types also refuses byte-swapped float arrays.
  const char code = a.dtype().equal(py::dtype::of<float>()) ? 'f' : a.dtype().equal(py::dtype::of<double>()) ? 'd' : 0;
  if (code == 0 || (want && code != want))
    invalid(function, arg,
            "dtype " + std::string(py::str(a.dtype())) + ", expected " +
                (want == 'f' ? "float32" : want == 'd' ? "float64" : "float32 or float64"));
  return a;
}

double finite(double value, const char* function, const char* arg) {
  if (!std::isfinite(value)) invalid(function, arg, "must be finite, got " + std::to_string(value));
  return value;
}

std::string float32_text(float v) {
  char text[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, double(v));
    if (std::strtof(text, nullptr) == v) break;
  }
  std::string s = text;
  return s.find_first_of(".eni") == std::string::npos ? s + ".0" : s;
}

py::float_ float32_value(float v) { return py::float_(std::stod(float32_text(v))); }

}  // namespace anycl_py
