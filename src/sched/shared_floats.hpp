// Scratch that several devices of one split call write or read.
#pragma once

#include <algorithm>
#include <memory>

#include "runtime/runtime_impl.hpp"
#include "runtime/workspace.hpp"

namespace anycl::detail {

// `elems` floats from home's pool, in the context every device of the call shares. Hand it back
// only once the call's end is queued on home (join, or a host wait): home's later users of the
// pool then run after every device is done with it.
inline std::unique_ptr<Workspace> shared_floats(const DeviceSlot& home, std::size_t elems) {
  return std::make_unique<Workspace>(*home.workspace, *home.context, home.info,
                                     workspace_bytes({std::max<std::size_t>(elems, 1), sizeof(float)}));
}

}  // namespace anycl::detail
