// anycl.Array: a float32/float64 tensor in one device's memory, exported through DLPack. On a
// device that shares host memory the export maps the buffer (no copy); otherwise it reads it
// into host memory once. The DLManagedTensor owns what keeps that memory valid (the buffer, its
// runtime and the mapping, or the host copy) until the consumer calls its deleter.
#include <dlpack/dlpack.h>

#include <numeric>

#include "py_common.hpp"

namespace anycl_py {
namespace {

constexpr const char* kArray = "anycl.Array";

class Array {
 public:
  Array(const py::object& data, const py::object& runtime, std::size_t device) : handle_(handle_of(runtime)) {
    const py::array a = py::array::ensure(float_array(data, kArray, "data"), py::array::c_style);
    rt_ = handle_->get(kArray);
    if (device >= rt_->device_count())
      invalid(kArray, "device", std::to_string(device) + " but the runtime has " + std::to_string(rt_->device_count()));
    code_ = a.itemsize() == 4 ? 'f' : 'd';
    shape_.assign(a.shape(), a.shape() + a.ndim());
    const std::size_t bytes = std::size_t(a.nbytes());
    buffer_ = rt_->alloc(std::max<std::size_t>(bytes, 1), device);
    const void* src = a.data();
    py::gil_scoped_release release;
    if (bytes) rt_->write(buffer_, src, bytes);
  }

  py::array numpy() const {
    live("numpy");
    py::array out(py::dtype(std::string(1, code_)), shape_);
    void* dst = out.mutable_data();
    py::gil_scoped_release release;
    if (out.nbytes()) rt_->read(buffer_, dst, std::size_t(out.nbytes()));
    return out;
  }

  py::capsule dlpack(const py::object& stream) const;
  py::tuple dlpack_device() const { return py::make_tuple(int(kDLCPU), 0); }
  std::vector<py::ssize_t> shape() const { return shape_; }
  std::string dtype() const { return code_ == 'f' ? "float32" : "float64"; }
  std::size_t device() const { return buffer_.device(); }
  bool zero_copy() const { return rt_->device(buffer_.device()).unified_memory; }

 private:
  void live(const char* what) const { handle_->get((std::string(kArray) + "." + what).c_str()); }

  std::shared_ptr<RuntimeHandle> handle_;
  std::shared_ptr<anycl::Runtime> rt_;
  anycl::Buffer buffer_;
  char code_ = 'f';
  std::vector<py::ssize_t> shape_;
};

// What a capsule's consumer holds; freed by the DLManagedTensor's deleter (any thread, no GIL).
struct Export {
  DLManagedTensor managed{};
  std::vector<int64_t> shape;
  std::shared_ptr<anycl::Runtime> rt;  // keeps the context and queue of the mapping alive
  anycl::Buffer buffer;
  void* mapped = nullptr;
  std::vector<unsigned char> copy;  // the host copy when the memory is not shared

  ~Export() {
    if (!mapped) return;
    cl_command_queue q = rt->queue(buffer.device());
    cl_event done = nullptr;
    if (clEnqueueUnmapMemObject(q, buffer.native(), mapped, 0, nullptr, &done) == CL_SUCCESS) {
      clWaitForEvents(1, &done);
      clReleaseEvent(done);
    }
  }
};

void delete_export(DLManagedTensor* t) { delete static_cast<Export*>(t->manager_ctx); }

void capsule_destructor(PyObject* capsule) {
  // A consumer renames the capsule "used_dltensor" and takes over the deleter.
  if (!PyCapsule_IsValid(capsule, "dltensor")) return;
  auto* t = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
  if (t && t->deleter) t->deleter(t);
}

py::capsule Array::dlpack(const py::object& stream) const {
  live("__dlpack__");
  if (!stream.is_none()) invalid("anycl.Array.__dlpack__", "stream", "must be None for a host (kDLCPU) export");
  auto ex = std::make_unique<Export>();
  ex->rt = rt_, ex->buffer = buffer_;
  ex->shape.assign(shape_.begin(), shape_.end());
  const std::size_t item = code_ == 'f' ? 4 : 8;
  const std::size_t bytes = item * std::accumulate(shape_.begin(), shape_.end(), std::size_t(1),
                                                   [](std::size_t a, py::ssize_t b) { return a * std::size_t(b); });
  void* data = nullptr;
  if (zero_copy() && bytes) {
    py::gil_scoped_release release;
    cl_int err = CL_SUCCESS;
    ex->mapped = clEnqueueMapBuffer(rt_->queue(buffer_.device()), buffer_.native(), CL_TRUE, CL_MAP_READ | CL_MAP_WRITE,
                                    0, bytes, 0, nullptr, nullptr, &err);
    if (err != CL_SUCCESS || !ex->mapped)
      throw anycl::Error(ANYCL_ERROR_OPENCL, "anycl.Array.__dlpack__: clEnqueueMapBuffer on device " +
                                                 rt_->device(buffer_.device()).id + " failed with OpenCL error " +
                                                 std::to_string(err));
    data = ex->mapped;
  } else {
    ex->copy.resize(std::max<std::size_t>(bytes, 1));
    data = ex->copy.data();
    py::gil_scoped_release release;
    if (bytes) rt_->read(buffer_, data, bytes);
  }
  DLTensor& t = ex->managed.dl_tensor;
  t.data = data;
  t.device = DLDevice{kDLCPU, 0};
  t.ndim = int(ex->shape.size());
  t.dtype = DLDataType{uint8_t(kDLFloat), uint8_t(item * 8), 1};
  t.shape = ex->shape.data();
  t.strides = nullptr;  // compact, row-major
  t.byte_offset = 0;
  ex->managed.manager_ctx = ex.get();
  ex->managed.deleter = &delete_export;
  DLManagedTensor* managed = &ex.release()->managed;
  return py::capsule(managed, "dltensor", &capsule_destructor);
}

}  // namespace

void bind_array(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<Array>(m, "Array", R"(A float32 or float64 tensor in one device's memory (row-major).

Array(data, runtime=None, device=0) copies the NumPy array `data` to the device. numpy() copies it
back; __dlpack__ exports it to NumPy or PyTorch without a copy on a device that shares host
memory (the buffer is mapped while the consumer holds it), with one copy otherwise.)")
      .def(py::init<const py::object&, const py::object&, std::size_t>(), "data"_a, "runtime"_a = py::none(),
           "device"_a = 0)
      .def("numpy", &Array::numpy, "A new NumPy array holding the data (one copy).")
      .def("__dlpack__", &Array::dlpack, py::kw_only(), "stream"_a = py::none())
      .def("__dlpack_device__", &Array::dlpack_device)
      .def_property_readonly("shape", [](const Array& a) { return py::tuple(py::cast(a.shape())); })
      .def_property_readonly("dtype", [](const Array& a) { return py::module_::import("numpy").attr("dtype")(a.dtype()); })
      .def_property_readonly("device", &Array::device)
      .def_property_readonly("zero_copy", &Array::zero_copy, "True when DLPack exports map the device memory.");
}

}  // namespace anycl_py
