// anycl.Array and its DLPack export. On a device that shares host memory the export maps the
// buffer (no copy); otherwise it reads it into host memory once. The DLManagedTensor owns what
// keeps that memory valid (the buffer, its runtime and the mapping, or the host copy) until the
// consumer calls its deleter.
#include "array_py.hpp"

#include <dlpack/dlpack.h>

#include <numeric>

namespace anycl_py {

namespace {
constexpr const char* kArray = "anycl.Array";

[[noreturn]] void opencl_failed(const char* function, const char* call, const anycl::Runtime& rt, std::size_t device,
                                cl_int err) {
  throw anycl::Error(ANYCL_ERROR_OPENCL, std::string(function) + ": " + call + " on device " + rt.device(device).id +
                                             " (" + rt.device(device).name + ") failed with OpenCL error " +
                                             std::to_string(err));
}
}  // namespace

std::string dtype_name(char code) { return code == 'f' ? "float32" : "float64"; }

Array::Array(const py::object& data, const py::object& runtime, std::size_t device) : handle_(handle_of(runtime)) {
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

Array::Array(std::shared_ptr<RuntimeHandle> handle, std::size_t device, char code, std::vector<py::ssize_t> shape)
    : handle_(std::move(handle)), code_(code), shape_(std::move(shape)) {
  rt_ = handle_->get(kArray);
  buffer_ = rt_->alloc(std::max<std::size_t>(size() * item(), 1), device);
}

Array::Array(std::shared_ptr<RuntimeHandle> handle, anycl::Buffer buffer, std::size_t offset, char code,
             std::vector<py::ssize_t> shape, std::shared_ptr<void> owner)
    : handle_(std::move(handle)), buffer_(std::move(buffer)), offset_(offset), code_(code), shape_(std::move(shape)),
      owner_(std::move(owner)) {
  rt_ = handle_->get(kArray);
}

std::size_t Array::size() const {
  return std::accumulate(shape_.begin(), shape_.end(), std::size_t(1),
                         [](std::size_t a, py::ssize_t b) { return a * std::size_t(b); });
}

bool Array::overlaps(const Array& other) const {
  if (buffer_.native() == other.buffer_.native()) return true;
  if (!is_view() || !other.is_view() || size() == 0 || other.size() == 0) return false;
  // A view's buffer is host memory in place: its start is the buffer's host address.
  auto range = [](const Array& a) {
    void* base = nullptr;
    clGetMemObjectInfo(a.buffer_.native(), CL_MEM_HOST_PTR, sizeof base, &base, nullptr);
    const auto first = reinterpret_cast<std::uintptr_t>(base) + a.offset_ * a.item();
    return std::make_pair(first, first + a.size() * a.item());
  };
  const auto [a0, a1] = range(*this);
  const auto [b0, b1] = range(other);
  return a0 < b1 && b0 < a1;
}

std::shared_ptr<anycl::Runtime> Array::runtime(const char* function) const { return handle_->get(function); }

py::array Array::numpy() const {
  runtime("anycl.Array.numpy");
  py::array out(py::dtype(std::string(1, code_)), shape_);
  void* dst = out.mutable_data();
  py::gil_scoped_release release;
  if (out.nbytes()) rt_->read(buffer_, dst, std::size_t(out.nbytes()), offset_ * item());
  return out;
}

anycl::Buffer Array::at_start(const char* function) const {
  if (offset_ == 0) return buffer_;
  anycl::Buffer copy = rt_->alloc(std::max<std::size_t>(size() * item(), 1), device());
  if (size() == 0) return copy;
  py::gil_scoped_release release;
  cl_command_queue q = rt_->queue(device());
  const cl_int err = clEnqueueCopyBuffer(q, buffer_.native(), copy.native(), offset_ * item(), 0, size() * item(), 0,
                                         nullptr, nullptr);
  if (err != CL_SUCCESS) opencl_failed(function, "clEnqueueCopyBuffer", *rt_, device(), err);
  clFinish(q);
  return copy;
}

const Array* as_array(const py::handle& obj) {
  if (!py::isinstance<Array>(obj)) return nullptr;
  return &obj.cast<const Array&>();
}

const Array& array_arg(const py::handle& obj, const char* function, const char* arg, const Array* first) {
  const Array* a = as_array(obj);
  if (!a)
    invalid(function, arg, "expected an anycl.Array like the other operands, got " +
                               std::string(py::str(py::type::of(obj).attr("__name__"))));
  if (first && a->handle() != first->handle()) invalid(function, arg, "is on another runtime than the first operand");
  if (first && a->device() != first->device())
    invalid(function, arg, "is on device " + std::to_string(a->device()) + ", the first operand on device " +
                               std::to_string(first->device()));
  return *a;
}

std::shared_ptr<anycl::Runtime> runtime_of(const Array& first, const py::object& runtime, const char* function) {
  if (!runtime.is_none() && handle_of(runtime) != first.handle())
    invalid(function, "runtime", "is not the runtime the arrays live on");
  return first.runtime(function);
}

namespace {

// What a capsule's consumer holds; freed by the DLManagedTensor's deleter.
struct Export {
  DLManagedTensor managed{};
  std::vector<int64_t> shape;
  std::shared_ptr<anycl::Runtime> rt;  // keeps the context and queue of the mapping alive
  anycl::Buffer buffer;
  void* mapped = nullptr;
  std::vector<unsigned char> copy;  // the host copy when the memory is not shared
  std::shared_ptr<void> owner;       // the producer of an imported array's memory

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

}  // namespace

py::capsule Array::dlpack(const py::object& stream) const {
  runtime("anycl.Array.__dlpack__");
  if (!stream.is_none()) invalid("anycl.Array.__dlpack__", "stream", "must be None for a host (kDLCPU) export");
  auto ex = std::make_unique<Export>();
  ex->rt = rt_, ex->buffer = buffer_, ex->owner = owner_;
  ex->shape.assign(shape_.begin(), shape_.end());
  const std::size_t bytes = item() * size();
  void* data = nullptr;
  if (shares_host_memory() && bytes) {
    py::gil_scoped_release release;
    cl_int err = CL_SUCCESS;
    ex->mapped = clEnqueueMapBuffer(rt_->queue(device()), buffer_.native(), CL_TRUE, CL_MAP_READ | CL_MAP_WRITE,
                                    offset_ * item(), bytes, 0, nullptr, nullptr, &err);
    if (err != CL_SUCCESS || !ex->mapped) opencl_failed("anycl.Array.__dlpack__", "clEnqueueMapBuffer", *rt_, device(), err);
    data = ex->mapped;
  } else {
    ex->copy.resize(std::max<std::size_t>(bytes, 1));
    data = ex->copy.data();
    py::gil_scoped_release release;
    if (bytes) rt_->read(buffer_, data, bytes, offset_ * item());
  }
  DLTensor& t = ex->managed.dl_tensor;
  t.data = data;
  t.device = DLDevice{kDLCPU, 0};
  t.ndim = int(ex->shape.size());
  t.dtype = DLDataType{uint8_t(kDLFloat), uint8_t(item() * 8), 1};
  t.shape = ex->shape.data();
  t.strides = nullptr;  // compact, row-major
  t.byte_offset = 0;
  ex->managed.manager_ctx = ex.get();
  ex->managed.deleter = &delete_export;
  DLManagedTensor* managed = &ex.release()->managed;
  return py::capsule(managed, "dltensor", &capsule_destructor);
}

void bind_dlpack_import(py::module_& m);

void bind_array(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<Array>(m, "Array", R"(A float32 or float64 tensor in one device's memory (row-major).

Array(data, runtime=None, device=0) copies the NumPy array `data` to the device;
anycl.from_dlpack(t) uses a CPU tensor's memory in place where the device shares host memory.
gemm and conv2d* on Arrays run on their buffers and return Arrays. numpy() copies the data back;
__dlpack__ exports it to NumPy or PyTorch without a copy on a device that shares host memory
(the buffer is mapped while the consumer holds it), with one copy otherwise.)")
      .def(py::init<const py::object&, const py::object&, std::size_t>(), "data"_a, "runtime"_a = py::none(),
           "device"_a = 0)
      .def("numpy", &Array::numpy, "A new NumPy array holding the data (one copy).")
      .def("__dlpack__", &Array::dlpack, py::kw_only(), "stream"_a = py::none())
      .def("__dlpack_device__", [](const Array&) { return py::make_tuple(int(kDLCPU), 0); })
      .def_property_readonly("shape", [](const Array& a) { return py::tuple(py::cast(a.shape())); })
      .def_property_readonly("dtype", [](const Array& a) { return py::module_::import("numpy").attr("dtype")(dtype_name(a.code())); })
      .def_property_readonly("device", &Array::device)
      .def_property_readonly("runtime", [](const Array& a) { return a.handle(); })
      .def_property_readonly("zero_copy", &Array::shares_host_memory, "True when DLPack exports map the device memory.")
      .def_property_readonly("is_view", &Array::is_view,
                             "True when the array is the memory of the tensor it was imported from (from_dlpack).");
  bind_dlpack_import(m);
}

}  // namespace anycl_py
