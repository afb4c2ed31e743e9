#include "sched/same_memory.hpp"

namespace anycl::detail {

namespace {

// "P:D" of a sub-device "P:D.S".
std::string parent_id(const DeviceInfo& info) { return info.id.substr(0, info.id.find('.')); }

}  // namespace

bool same_memory(const DeviceSlot& a, const DeviceSlot& b) {
  if (a.context != b.context) return false;
  if (a.info.unified_memory && b.info.unified_memory) return true;
  return a.info.is_sub_device && b.info.is_sub_device && parent_id(a.info) == parent_id(b.info);
}

}  // namespace anycl::detail
