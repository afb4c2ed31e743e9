// The public Runtime: its members, its OpenCL objects, and the program-binary export.
#include <filesystem>

#include "runtime/buffer_impl.hpp"
#include "runtime/error.hpp"
#include "runtime/huge_page_buffer.hpp"
#include "runtime/kernel_library.hpp"
#include "runtime/program_binary.hpp"
#include "sched/engine.hpp"

namespace anycl {

using detail::engine;

Runtime::Runtime(const std::string& device_spec) : Runtime(RuntimeOptions::from_env(device_spec)) {}
Runtime::Runtime(const RuntimeOptions& options) : impl_(std::make_unique<detail::Engine>(options)) {}
Runtime::Runtime(cl_context context, const std::vector<cl_command_queue>& queues, const RuntimeOptions& options)
    : impl_(std::make_unique<detail::Engine>(context, queues, options)) {}
Runtime::~Runtime() = default;
Runtime::Runtime(Runtime&&) noexcept = default;
Runtime& Runtime::operator=(Runtime&&) noexcept = default;

std::size_t Runtime::device_count() const noexcept { return impl_->size(); }
const DeviceInfo& Runtime::device(std::size_t i) const { return impl_->slot(i).info; }
const std::vector<BuildReport>& Runtime::build_reports() const noexcept { return impl_->devices.reports(); }
const std::string& Runtime::kernel_dir() const noexcept { return impl_->devices.kernel_dir(); }

void Runtime::finish() {
  for (std::size_t i = 0; i < impl_->size(); ++i)
    detail::check(clFinish(impl_->slot(i).queue.get()), "clFinish", impl_->slot(i).where());
}

void Runtime::release_workspace() {
  for (std::size_t i = 0; i < impl_->size(); ++i) impl_->slot(i).workspace->clear();
}

cl_context Runtime::context(std::size_t device) const { return impl_->slot(device).context->get(); }
cl_command_queue Runtime::queue(std::size_t device) const { return impl_->slot(device).queue.get(); }

Buffer Runtime::alloc(std::size_t bytes, std::size_t device) {
  detail::DeviceSlot& s = impl_->slot(device);
  return Buffer(std::make_shared<detail::BufferImpl>(
      detail::allocate_buffer(s.context->get(), s.info, bytes, "Runtime::alloc"), device, bytes));
}

Buffer Runtime::wrap(cl_mem mem, std::size_t offset, std::size_t bytes, std::size_t device) {
  return Buffer(detail::wrap_buffer(impl_->slot(device), device, mem, offset, bytes, "Runtime::wrap"));
}

Buffer Runtime::wrap_host(void* host, std::size_t bytes, std::size_t device) {
  return Buffer(detail::wrap_host_memory(impl_->slot(device), device, host, bytes, "Runtime::wrap_host"));
}

namespace {
void check_range(const Buffer& b, std::size_t bytes, std::size_t offset, const char* what) {
  if (!b) detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(what) + ": empty buffer");
  if (offset > b.bytes() || bytes > b.bytes() - offset)
    detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, std::string(what) + ": range [" + std::to_string(offset) + ", +" +
                                                   std::to_string(bytes) + ") exceeds the buffer's " +
                                                   std::to_string(b.bytes()) + " bytes");
}
}  // namespace

void Runtime::write(const Buffer& dst, const void* src, std::size_t bytes, std::size_t offset) {
  check_range(dst, bytes, offset, "Runtime::write");
  if (bytes == 0) return;
  if (!src) detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "Runtime::write: null source pointer");
  detail::DeviceSlot& s = impl_->slot(dst.device());
  detail::check(clEnqueueWriteBuffer(s.queue.get(), dst.native(), CL_TRUE, offset, bytes, src, 0, nullptr, nullptr),
                "clEnqueueWriteBuffer", s.where());
}

void Runtime::read(const Buffer& src, void* dst, std::size_t bytes, std::size_t offset) {
  check_range(src, bytes, offset, "Runtime::read");
  if (bytes == 0) return;
  if (!dst) detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "Runtime::read: null destination pointer");
  detail::DeviceSlot& s = impl_->slot(src.device());
  detail::check(clEnqueueReadBuffer(s.queue.get(), src.native(), CL_TRUE, offset, bytes, dst, 0, nullptr, nullptr),
                "clEnqueueReadBuffer", s.where());
}

std::vector<std::string> write_program_binaries(const Runtime& rt, const std::string& dir) {
  const detail::Engine& e = engine(rt);
  std::vector<std::string> written;
  for (std::size_t d = 0; d < e.size(); ++d) {
    const detail::DeviceSlot& slot = e.slot(d);
    for (const auto& fam : detail::kernel_families()) {
      if (!slot.has_program(fam.variant)) continue;
      const auto* shared = fam.layout_from.empty() ? nullptr : &slot.program(fam.layout_from);
      const auto plan = detail::plan_build(e.devices.build_context(), fam, slot.info, shared);
      const auto bin = detail::extract_binary(slot.program(fam.variant), plan, slot.info, slot.device.id());
      const std::string path = detail::prebuilt_path(dir, slot.info, fam.variant);
      if (bin.payload.empty())
        detail::fail(ANYCL_ERROR_OPENCL, "write_program_binaries: " + slot.where() + " returned no binary for " + path);
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
      std::string why;
      if (ec || !detail::write_file_atomic(path, detail::serialize(bin), &why))
        detail::fail(ANYCL_ERROR_INVALID_ARGUMENT, "write_program_binaries: dir: " + (ec ? path + ": " + ec.message() : why));
      written.push_back(path);
    }
  }
  return written;
}

}  // namespace anycl
