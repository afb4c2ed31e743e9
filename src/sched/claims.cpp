#include "sched/claims.hpp"

#include "runtime/error.hpp"
#include "sched/same_memory.hpp"

namespace anycl::detail {

namespace {

// OpenCL 1.2 makes atomics atomic among the work-items of one device only. Sub-devices of one
// device share its memory system and its atomics, so they may take work-groups from one counter;
// two devices that merely share host memory may not.
bool one_physical_device(const DeviceInfo& a, const DeviceInfo& b) {
  auto parent = [](const std::string& id) { return id.substr(0, id.find('.')); };  // "P:D[.S]"
  return parent(a.id) == parent(b.id);
}

}  // namespace

bool can_claim(const DeviceSlot& a, const DeviceSlot& b, const std::vector<std::string>& variants) {
  if (!one_physical_device(a.info, b.info) || !same_memory(a, b)) return false;
  if (a.info.max_work_group_size != b.info.max_work_group_size) return false;
  for (const std::string& v : variants)
    if (!a.has_program(v) || !b.has_program(v) || a.program(v).options != b.program(v).options) return false;
  return true;
}

Claims::Claims(const DeviceSlot& home, std::size_t stages)
    : counters_(*home.workspace, *home.context, home.info, stages * sizeof(cl_int)) {
  const cl_int zero = 0;
  check(clEnqueueFillBuffer(home.queue.get(), counters_.mem(), &zero, sizeof zero, 0, stages * sizeof zero, 0,
                            nullptr, nullptr),
        "clEnqueueFillBuffer(claim counters)", home.where());
}

}  // namespace anycl::detail
