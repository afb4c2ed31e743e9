// anycl.Runtime, anycl.DeviceInfo, anycl.devices() and the translation of anycl::Error into the
// Python exception classes of anycl/_errors.py.

#include "py_common.hpp"

namespace anycl_py {
namespace {

void translate(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const anycl::Error& e) {
    const auto* build = dynamic_cast<const anycl::BuildError*>(&e);
    py::object make = py::module_::import("anycl._errors").attr("make_error");
    py::object exc = make(int(e.status()), e.what(), build ? py::str(build->build_log()) : py::str(""));
    PyErr_SetObject(py::type::of(exc).ptr(), exc.ptr());
  }
}

std::vector<anycl::DeviceInfo> all_devices() {
  std::vector<anycl::DeviceInfo> out;
  for (const auto& platform : anycl::discover())
    out.insert(out.end(), platform.devices.begin(), platform.devices.end());
  return out;
}

std::shared_ptr<RuntimeHandle> open_runtime(const std::string& spec) {
  py::gil_scoped_release release;  // kernel builds take a while
  return std::make_shared<RuntimeHandle>(std::make_shared<anycl::Runtime>(spec));
}

std::vector<anycl::DeviceInfo> runtime_devices(const RuntimeHandle& h) {
  auto rt = h.get("anycl.Runtime.devices");
  std::vector<anycl::DeviceInfo> out;
  for (std::size_t i = 0; i < rt->device_count(); ++i) out.push_back(rt->device(i));
  return out;
}

void bind_device_info(py::module_& m) {
  using D = anycl::DeviceInfo;
  py::class_<D>(m, "DeviceInfo", "What anycl knows about one OpenCL device (filled at discovery).")
      .def_readonly("id", &D::id).def_readonly("name", &D::name).def_readonly("vendor", &D::vendor)
      .def_readonly("version", &D::version).def_readonly("driver_version", &D::driver_version)
      .def_readonly("opencl_c_version", &D::opencl_c_version).def_readonly("platform_name", &D::platform_name)
      .def_readonly("platform_vendor", &D::platform_vendor).def_readonly("platform_version", &D::platform_version)
      .def_readonly("type", &D::type).def_readonly("compute_units", &D::compute_units)
      .def_readonly("clock_mhz", &D::clock_mhz).def_readonly("global_mem", &D::global_mem)
      .def_readonly("local_mem", &D::local_mem).def_readonly("max_alloc", &D::max_alloc)
      .def_readonly("global_mem_cache", &D::global_mem_cache)
      .def_readonly("global_mem_cacheline", &D::global_mem_cacheline)
      .def_readonly("max_work_group_size", &D::max_work_group_size)
      .def_readonly("mem_base_addr_align_bytes", &D::mem_base_addr_align_bytes).def_readonly("fp64", &D::fp64)
      .def_readonly("fp16", &D::fp16).def_readonly("unified_memory", &D::unified_memory)
      .def_readonly("compiler_available", &D::compiler_available)
      .def_readonly("vector_width_float", &D::vector_width_float)
      .def_readonly("vector_width_double", &D::vector_width_double)
      .def_readonly("vector_width_half", &D::vector_width_half).def_readonly("max_sub_devices", &D::max_sub_devices)
      .def_readonly("partition_types", &D::partition_types).def_readonly("is_sub_device", &D::is_sub_device)
      .def_readonly("partition_index", &D::partition_index).def_readonly("partition_count", &D::partition_count)
      .def("__repr__", [](const D& d) { return "<anycl.DeviceInfo " + d.id + " " + d.type + " '" + d.name + "'>"; });
}

}  // namespace

void bind_runtime(py::module_& m) {
  using namespace pybind11::literals;
  py::register_exception_translator(&translate);
  bind_device_info(m);
  m.def("devices", &all_devices, "Every device of every OpenCL platform, without opening any.");
  m.def("version", [] { return std::string(anycl::version()); }, "The C++ library's version.");
  py::class_<RuntimeHandle, std::shared_ptr<RuntimeHandle>>(m, "Runtime",
                                                           "The devices a device spec selects, with anycl's kernels built for each.")
      .def(py::init(&open_runtime), "spec"_a = "")
      .def_property_readonly("devices", &runtime_devices)
      .def_property_readonly("device_count", [](const RuntimeHandle& h) { return h.get("anycl.Runtime")->device_count(); })
      .def_property_readonly("kernel_dir", [](const RuntimeHandle& h) { return h.get("anycl.Runtime")->kernel_dir(); })
      .def_property_readonly("closed", &RuntimeHandle::closed)
      .def("close", &RuntimeHandle::close, "Releases the devices; later calls on this runtime raise anycl.Error.")
      .def("finish", [](const RuntimeHandle& h) {
             auto rt = h.get("anycl.Runtime.finish");
             py::gil_scoped_release release;
             rt->finish();
           })
      .def("release_workspace", [](const RuntimeHandle& h) { h.get("anycl.Runtime.release_workspace")->release_workspace(); })
      .def("__enter__", [](const std::shared_ptr<RuntimeHandle>& h) { return h; })
      .def("__exit__", [](RuntimeHandle& h, const py::args&) { h.close(); })
      .def("__repr__", [](const RuntimeHandle& h) {
        if (h.closed()) return std::string("<anycl.Runtime closed>");
        auto rt = h.get("anycl.Runtime");
        std::string s = "<anycl.Runtime";
        for (std::size_t i = 0; i < rt->device_count(); ++i) s += " [" + rt->device(i).id + " " + rt->device(i).name + "]";
        return s + ">";
      });
  m.def("default_runtime", &default_handle, "The runtime calls without runtime= use (ANYCL_DEVICE or the best device).");
  m.def("_close_default_runtime", &reset_default_handle);
}

}  // namespace anycl_py
