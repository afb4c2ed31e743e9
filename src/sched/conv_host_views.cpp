#include "sched/conv_host_views.hpp"

#include <cstring>
#include <vector>

namespace anycl::detail {

ConvHostViews::ConvHostViews(const DeviceSlot& slot, ConvPass pass, const Conv2d& d, const ConvHostSet& h,
                             bool async_upload) {
  struct Tensor {
    ConvRole role;
    float* host;
    cl_mem* mem;
    std::size_t elems;
  };
  const bool has_kvec = pass != ConvPass::BackwardData && h.kvec;
  const Tensor tensors[4] = {{ConvRole::Nchw, h.nchw, &set_.nchw, d.x_size()},
                             {ConvRole::Kcrs, h.kcrs, &set_.kcrs, d.w_size()},
                             {ConvRole::Nkpq, h.nkpq, &set_.nkpq, d.y_size()},
                             {ConvRole::Kvec, has_kvec ? h.kvec : nullptr, &set_.kvec, d.k}};
  std::size_t next_input = 0;
  for (const Tensor& t : tensors) {
    if (!t.host) continue;
    const bool out = writes(pass, t.role);
    std::unique_ptr<HostBuffer>& view = !out ? inputs_[next_input++] : t.role == ConvRole::Kvec ? kvec_out_ : main_out_;
    view = std::make_unique<HostBuffer>(slot, t.host, t.elems * sizeof(float), out ? HostAccess::Write : HostAccess::Read,
                                        async_upload && !out);
    *t.mem = view->mem();
  }
}

void ConvHostViews::download(const DeviceSlot& slot) {
  if (!kvec_out_) return main_out_->download(slot);
  std::vector<float> staged(kvec_out_->bytes() / sizeof(float));
  kvec_out_->download(slot, staged.data());
  main_out_->download(slot);
  std::memcpy(kvec_out_->host(), staged.data(), kvec_out_->bytes());
}

}  // namespace anycl::detail
