#include "sched/gate.hpp"

#include <memory>
#include <new>

#include "runtime/error.hpp"
#include "runtime/launch.hpp"
#include "runtime/log.hpp"

namespace anycl::detail {

Gate::Gate(const DeviceSlot& home, const std::vector<const DeviceSlot*>& slots, std::vector<Region> outputs)
    : home_(home), slots_(slots), outputs_(std::move(outputs)) {
  cl_int err = CL_SUCCESS;
  gate_ = clCreateUserEvent(home.context->get(), &err);
  check(err, "clCreateUserEvent", home.where());
  try {
    before_ = enqueue_marker(home);
    enqueue_wait(home, {gate_});
    for (const DeviceSlot* s : slots_)
      if (s != &home) enqueue_wait(*s, {before_, gate_});
  } catch (...) {
    release_devices();  // what waits already may run: nothing of the call is queued yet
    if (before_) clReleaseEvent(before_);
    throw;
  }
}

void Gate::open() {
  if (!gate_) return;
  const cl_int err = clSetUserEventStatus(gate_, CL_COMPLETE);
  if (err == CL_SUCCESS) return release_gate();
  // Still closed: unwinding runs the destructor, which tries again, lets the devices drain and
  // puts the outputs back before the caller sees this error.
  check(err, "clSetUserEventStatus (opening the gate of a device-buffer call)", home_.where());
}

void Gate::release_gate() noexcept {
  clReleaseEvent(gate_);
  gate_ = nullptr;
}

bool Gate::release_devices() noexcept {
  const cl_int err = clSetUserEventStatus(gate_, CL_COMPLETE);
  release_gate();
  if (err == CL_SUCCESS) return true;
  try {
    log_warn("clSetUserEventStatus failed on " + home_.where() + " (" + cl_error_name(err) +
             "): the devices' queues stay blocked behind the call's gate; not waiting for them");
  } catch (...) {  // nothing more to say without memory
  }
  return false;
}

Gate::~Gate() {
  if (gate_) restore_outputs();
  if (before_) clReleaseEvent(before_);
}

// Best effort: the call's error is already on its way to the caller.
void Gate::restore_outputs() noexcept {
  cl_int err = CL_SUCCESS;
  cl_command_queue q = clCreateCommandQueue(home_.context->get(), home_.device.id(), 0, &err);
  std::vector<std::unique_ptr<char[]>> saved;
  for (const Region& r : outputs_) {
    saved.emplace_back(err == CL_SUCCESS ? new (std::nothrow) char[r.bytes] : nullptr);
    if (saved.back() && clEnqueueReadBuffer(q, r.mem, CL_TRUE, r.offset, r.bytes, saved.back().get(), 1, &before_,
                                            nullptr) != CL_SUCCESS)
      saved.back().reset();
  }
  // A gate that stays closed ran nothing of the call: the outputs are as they were, and waiting
  // for the queues would never return.
  if (release_devices()) {
    clFinish(home_.queue.get());
    for (const DeviceSlot* s : slots_) clFinish(s->queue.get());
    for (std::size_t i = 0; i < outputs_.size(); ++i)
      if (saved[i])
        clEnqueueWriteBuffer(q, outputs_[i].mem, CL_TRUE, outputs_[i].offset, outputs_[i].bytes, saved[i].get(), 0,
                             nullptr, nullptr);
  }
  if (q) clReleaseCommandQueue(q);
}

}  // namespace anycl::detail
