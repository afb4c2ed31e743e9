#include "api/wait_list.hpp"

#include "runtime/error.hpp"
#include "runtime/launch.hpp"

namespace anycl::detail {

void check_wait_list(const DeviceSlot& home, const std::vector<Event>& wait, const std::string& function) {
  for (std::size_t i = 0; i < wait.size(); ++i) {
    const std::string name = function + ": wait[" + std::to_string(i) + "]";
    if (!wait[i].valid()) fail(ANYCL_ERROR_INVALID_ARGUMENT, name + " is an empty event");
    cl_context ctx = nullptr;
    const cl_event ev = wait[i].native();
    const cl_int err = clGetEventInfo(ev, CL_EVENT_CONTEXT, sizeof ctx, &ctx, nullptr);
    if (err != CL_SUCCESS)
      fail(ANYCL_ERROR_INVALID_ARGUMENT, name + ": clGetEventInfo failed: " + cl_error_name(err) + " (not a live event?)");
    if (ctx != home.context->get())
      fail(ANYCL_ERROR_INVALID_ARGUMENT, name + " belongs to another OpenCL context than " + home.where() + "'s");
  }
}

void enqueue_wait_list(const DeviceSlot& home, const std::vector<Event>& wait) {
  std::vector<cl_event> events;
  for (const Event& e : wait) events.push_back(e.native());
  enqueue_wait(home, events);
}

void wait_on_host(const std::vector<Event>& wait) {
  for (const Event& e : wait) e.wait();
}

Event caller_event(const DeviceSlot& home, Event done) {
  if (!home.caller_queue.get()) return done;
  cl_event mine = done.native(), marker = nullptr;
  check(clEnqueueMarkerWithWaitList(home.caller_queue.get(), 1, &mine, &marker),
        "clEnqueueMarkerWithWaitList (the caller's out-of-order queue)", home.where());
  return Event(marker);
}

}  // namespace anycl::detail
