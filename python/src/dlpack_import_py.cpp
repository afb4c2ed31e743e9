// anycl.from_dlpack: a CPU DLPack tensor (NumPy, PyTorch) as an anycl.Array. Where the device
// shares host memory and the tensor is compact and row-major, the Array is the tensor's memory
// (Runtime::wrap_host) and holds the producer's DLManagedTensor until it goes; otherwise the
// data is copied once.
#include <dlpack/dlpack.h>

#include <optional>

#include "array_py.hpp"

namespace anycl_py {
namespace {

constexpr const char* kImport = "anycl.from_dlpack";
constexpr std::uintptr_t kPage = 4096;  // the smallest page size of the hosts anycl runs on

// The producer's tensor, released through its deleter with the GIL held (NumPy's deleter drops a
// Python reference).
std::shared_ptr<DLManagedTensor> take(const py::capsule& capsule) {
  if (std::string(capsule.name() ? capsule.name() : "") != "dltensor")
    invalid(kImport, "tensor", "__dlpack__ returned a capsule named '" + std::string(capsule.name() ? capsule.name() : "") +
                                   "' (already consumed?)");
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  if (!managed) throw py::error_already_set();
  PyCapsule_SetName(capsule.ptr(), "used_dltensor");  // ours now: the capsule no longer frees it
  return std::shared_ptr<DLManagedTensor>(managed, [](DLManagedTensor* t) {
    if (!t->deleter) return;
    py::gil_scoped_acquire gil;
    t->deleter(t);
  });
}

char dtype_code(const DLTensor& t) {
  if (t.dtype.code == kDLFloat && t.dtype.lanes == 1 && t.dtype.bits == 32) return 'f';
  if (t.dtype.code == kDLFloat && t.dtype.lanes == 1 && t.dtype.bits == 64) return 'd';
  invalid(kImport, "tensor",
          "DLPack dtype (code " + std::to_string(t.dtype.code) + ", " + std::to_string(t.dtype.bits) + " bits, " +
              std::to_string(t.dtype.lanes) + " lanes), expected float32 or float64");
}

// Whether the strides are those of a compact row-major tensor (null strides mean that).
bool row_major(const DLTensor& t) {
  if (!t.strides) return true;
  int64_t expect = 1;
  for (int i = t.ndim - 1; i >= 0; --i) {
    if (t.shape[i] != 1 && t.strides[i] != expect) return false;
    expect *= t.shape[i];
  }
  return true;
}

// The Array on the producer's memory, or nothing where that cannot be: the device does not share
// host memory, the tensor is strided or empty, or its start is not on the device's base
// alignment and the aligned start before it is on an earlier page or mid-element. Wrapping from
// that aligned start (same page, so mapped) lets any NumPy array (16 bytes past a page when large)
// be used in place; the calls read and write only from the Array's element offset on.
std::optional<Array> view(const std::shared_ptr<RuntimeHandle>& handle, const std::shared_ptr<anycl::Runtime>& rt,
                          std::size_t device, const std::shared_ptr<DLManagedTensor>& owner, char code,
                          const std::vector<py::ssize_t>& shape, std::size_t bytes) {
  const DLTensor& t = owner->dl_tensor;
  const anycl::DeviceInfo& info = rt->device(device);
  if (!info.unified_memory || !row_major(t) || bytes == 0) return std::nullopt;
  const auto start = reinterpret_cast<std::uintptr_t>(t.data) + t.byte_offset;
  const std::uintptr_t align = std::max(1u, info.mem_base_addr_align_bytes), item = code == 'f' ? 4 : 8;
  const std::uintptr_t lead = start % align;
  if (align > kPage || lead % item != 0) return std::nullopt;
  anycl::Buffer buffer;
  try {
    buffer = rt->wrap_host(reinterpret_cast<void*>(start - lead), bytes + lead, device);
  } catch (const anycl::Error& e) {
    if (e.status() == ANYCL_ERROR_UNSUPPORTED) return std::nullopt;
    throw;
  }
  return Array(handle, std::move(buffer), lead / item, code, shape, owner);
}

py::object from_dlpack(const py::object& tensor, const py::object& runtime, std::size_t device) {
  if (as_array(tensor) && runtime.is_none() && as_array(tensor)->device() == device) return tensor;
  if (!py::hasattr(tensor, "__dlpack__") || !py::hasattr(tensor, "__dlpack_device__"))
    invalid(kImport, "tensor",
            "expected a DLPack tensor (NumPy array, PyTorch tensor), got " +
                std::string(py::str(py::type::of(tensor).attr("__name__"))));
  const auto dev = tensor.attr("__dlpack_device__")().cast<std::pair<int, int>>();
  if (dev.first != kDLCPU && dev.first != kDLCUDAHost)
    invalid(kImport, "tensor", "lives on DLPack device type " + std::to_string(dev.first) + ", expected a CPU tensor");
  auto handle = handle_of(runtime);
  auto rt = handle->get(kImport);
  if (device >= rt->device_count())
    invalid(kImport, "device", std::to_string(device) + " but the runtime has " + std::to_string(rt->device_count()));
  py::object capsule;
  try {
    capsule = tensor.attr("__dlpack__")();
  } catch (py::error_already_set& e) {
    invalid(kImport, "tensor", std::string("its __dlpack__ failed: ") + e.what());
  }
  const auto owner = take(py::reinterpret_borrow<py::capsule>(capsule));
  const DLTensor& t = owner->dl_tensor;
  const char code = dtype_code(t);
  std::vector<py::ssize_t> shape(t.shape, t.shape + t.ndim);
  std::size_t count = 1;
  for (auto d : shape) count *= std::size_t(d);
  if (auto v = view(handle, rt, device, owner, code, shape, count * (code == 'f' ? 4 : 8))) return py::cast(std::move(*v));
  // One copy: a NumPy view of the tensor, copied into a new device array while `owner` holds it
  // (the capsule is only the view's base, so that NumPy does not copy it first).
  const std::size_t item = code == 'f' ? 4 : 8;
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t compact = py::ssize_t(item);
  for (int i = t.ndim - 1; i >= 0; --i) {
    strides[std::size_t(i)] = t.strides ? py::ssize_t(t.strides[i]) * py::ssize_t(item) : compact;
    compact *= shape[std::size_t(i)];
  }
  py::array host(py::dtype(std::string(1, code)), shape, strides, static_cast<const char*>(t.data) + t.byte_offset,
                 capsule);
  return py::cast(Array(host, py::cast(handle), device));
}

}  // namespace

void bind_dlpack_import(py::module_& m) {
  using namespace pybind11::literals;
  m.def("from_dlpack", &from_dlpack, "tensor"_a, "runtime"_a = py::none(), "device"_a = 0,
        R"(An anycl.Array of a CPU DLPack tensor (NumPy array, PyTorch tensor), float32 or float64.

Where the device shares host memory (DeviceInfo.unified_memory) and the tensor is compact and
row-major, the Array is the tensor's memory, not a copy (Array.is_view): calls on it read and
write the tensor, which the Array keeps alive. Otherwise the data is copied once.)");
}

}  // namespace anycl_py
