// A runtime on the caller's own context and queues (docs/interop.md): every handle is checked
// before anything is retained, so a refused call leaves the caller's objects as they were.
#include <algorithm>

#include "runtime/device.hpp"
#include "runtime/error.hpp"
#include "runtime/runtime_impl.hpp"

namespace anycl::detail {
namespace {

namespace bc = boost::compute;

const char* const kFunction = "anycl::Runtime(context, queues)";

[[noreturn]] void refuse(const std::string& what) {
  fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(kFunction) + ": " + what);
}

// An info query on a caller's handle; a driver that refuses it names the argument.
template <typename T, typename Query, typename Handle, typename Info>
T query(Query q, Handle h, Info what, const std::string& argument, const char* call) {
  T value{};
  const cl_int err = q(h, what, sizeof(T), &value, nullptr);
  if (err != CL_SUCCESS) refuse(argument + ": " + call + " failed: " + cl_error_name(err) + " (not a live handle?)");
  return value;
}

std::vector<cl_device_id> context_devices(cl_context context) {
  const auto count = query<cl_uint>(clGetContextInfo, context, CL_CONTEXT_NUM_DEVICES, "context", "clGetContextInfo");
  std::vector<cl_device_id> ids(count);
  const cl_int err = clGetContextInfo(context, CL_CONTEXT_DEVICES, count * sizeof(cl_device_id), ids.data(), nullptr);
  if (err != CL_SUCCESS) refuse("context: clGetContextInfo(CL_CONTEXT_DEVICES) failed: " + cl_error_name(err));
  return ids;
}

// Some drivers (POCL) list a sub-device's root device in the context made from it.
bool in_context(const std::vector<cl_device_id>& devices, cl_device_id device) {
  for (cl_device_id d = device; d != nullptr;) {
    if (std::find(devices.begin(), devices.end(), d) != devices.end()) return true;
    if (clGetDeviceInfo(d, CL_DEVICE_PARENT_DEVICE, sizeof d, &d, nullptr) != CL_SUCCESS) return false;
  }
  return false;
}

// What one caller queue stands for, read and checked.
struct CallerQueue {
  cl_command_queue queue;
  cl_device_id device;
  bool out_of_order;
};

CallerQueue check_queue(cl_context context, const std::vector<cl_device_id>& devices, cl_command_queue q,
                        std::size_t i) {
  const std::string name = "queues[" + std::to_string(i) + "]";
  if (!q) refuse(name + " is NULL");
  const auto ctx = query<cl_context>(clGetCommandQueueInfo, q, CL_QUEUE_CONTEXT, name, "clGetCommandQueueInfo");
  if (ctx != context) refuse(name + " belongs to another context than `context`");
  const auto dev = query<cl_device_id>(clGetCommandQueueInfo, q, CL_QUEUE_DEVICE, name, "clGetCommandQueueInfo");
  if (!in_context(devices, dev)) refuse(name + ": its device is not one of the context's devices");
  const auto props =
      query<cl_command_queue_properties>(clGetCommandQueueInfo, q, CL_QUEUE_PROPERTIES, name, "clGetCommandQueueInfo");
  return {q, dev, (props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0};
}

// The device's "P:D" id as anycl-query numbers it; a sub-device the caller made is not listed
// there and is named after its queue.
std::string device_id(const Discovery& found, cl_device_id device, std::size_t queue_index) {
  for (const FoundDevice& fd : found.devices)
    if (fd.id == device) return fd.info.id;
  return "queue" + std::to_string(queue_index);
}

}  // namespace

void RuntimeImpl::adopt_queues(cl_context context, const std::vector<cl_command_queue>& queues) {
  if (!context) refuse("context is NULL");
  if (queues.empty()) refuse("queues is empty (one queue per device is needed)");
  const std::vector<cl_device_id> devices = context_devices(context);
  std::vector<CallerQueue> checked;
  for (std::size_t i = 0; i < queues.size(); ++i) {
    checked.push_back(check_queue(context, devices, queues[i], i));
    for (std::size_t j = 0; j < i; ++j)
      if (checked[j].device == checked[i].device)
        refuse("queues[" + std::to_string(j) + "] and queues[" + std::to_string(i) + "] are on the same device");
  }
  // Everything checked: from here on anycl holds its own references.
  const Discovery found = discover_devices();
  auto shared = std::make_shared<bc::context>(context, true);
  for (std::size_t i = 0; i < checked.size(); ++i) {
    const CallerQueue& c = checked[i];
    const std::string name = "queues[" + std::to_string(i) + "]";
    const auto platform = query<cl_platform_id>(clGetDeviceInfo, c.device, CL_DEVICE_PLATFORM, name, "clGetDeviceInfo");
    DeviceInfo info = query_device(c.device, platform);
    info.id = device_id(found, c.device, i);
    slots_.push_back({info, bc::device(c.device, true), shared, {}, {}, std::make_unique<WorkspacePool>()});
    DeviceSlot& s = slots_.back();
    s.root_compute_units = root_compute_units(c.device);
    if (!c.out_of_order) {
      s.queue = bc::command_queue(c.queue, true);
      continue;
    }
    // anycl's steps follow each other on a queue of its own; the caller's queue gets each call's end.
    s.caller_queue = bc::command_queue(c.queue, true);
    cl_int err = CL_SUCCESS;
    cl_command_queue own = clCreateCommandQueue(context, c.device, CL_QUEUE_PROFILING_ENABLE, &err);
    check(err, "clCreateCommandQueue (in-order, beside the caller's out-of-order queue)", s.where());
    s.queue = bc::command_queue(own, false);
  }
}

}  // namespace anycl::detail
