#include "ops/conv2d_packing.hpp"

#include "ops/gemm_kernels.hpp"

namespace anycl::detail {

PackedFilter::PackedFilter(const DeviceSlot& slot, const ConvGeom& g, cl_mem w, bool transposed) {
  const PackedLayout lay = packed_layout(slot);
  const std::size_t rows = transposed ? g.CRS : std::size_t(g.Kg), depth = transposed ? std::size_t(g.Kg) : g.CRS;
  const std::size_t block = lay.a_panel_elems(rows, depth);
  all_ = std::make_unique<Workspace>(*slot.workspace, *slot.context, slot.info, block * g.groups * sizeof(float));
  run_kernel(slot, "conv_im2col", transposed ? "conv_pack_filter_t" : "conv_pack_filter", {block, std::size_t(g.groups), 1},
             {64, 1, 1}, w, all_->mem(), g.Kg, cl_int(g.CRS), g.groups);
  for (cl_int grp = 1; grp < g.groups; ++grp) {
    parts_.push_back(std::make_unique<Workspace>(*slot.workspace, *slot.context, slot.info, block * sizeof(float)));
    check(clEnqueueCopyBuffer(slot.queue.get(), all_->mem(), parts_.back()->mem(), grp * block * sizeof(float), 0,
                              block * sizeof(float), 0, nullptr, nullptr),
          "clEnqueueCopyBuffer(packed filter)", slot.where());
  }
}

}  // namespace anycl::detail
