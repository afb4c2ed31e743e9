#include "ops/conv2d_packing.hpp"

#include "ops/gemm_kernels.hpp"

namespace anycl::detail {

PackedFilter::PackedFilter(const DeviceSlot& slot, const ConvGeom& g, cl_mem w, bool transposed, std::size_t w_off) {
  const PackedLayout lay = packed_layout(slot);
  const std::size_t rows = transposed ? g.CRS : std::size_t(g.Kg), depth = transposed ? std::size_t(g.Kg) : g.CRS;
  const std::size_t block = lay.a_panel_elems(rows, depth);
  all_ = std::make_unique<Workspace>(*slot.workspace, *slot.context, slot.info, block * g.groups * sizeof(float));
  // W_g is row-major Kg x CRS, so this is the GEMM's pack_a (vectorised, tuned), all groups as
  // one batch. A per-element kernel with div/mod took ~5% of a 1x1 layer's time.
  GemmProblem p;
  p.m = rows, p.k = depth, p.trans_a = transposed, p.lda = g.CRS, p.a_off = w_off;
  p.batch = std::size_t(g.groups), p.stride_a = std::size_t(g.Kg) * g.CRS;
  enqueue_pack_a<float>(slot, p, w, all_->mem(), block, g.groups);
  for (cl_int grp = 1; grp < g.groups; ++grp) {
    parts_.push_back(std::make_unique<Workspace>(*slot.workspace, *slot.context, slot.info, block * sizeof(float)));
    check(clEnqueueCopyBuffer(slot.queue.get(), all_->mem(), parts_.back()->mem(), grp * block * sizeof(float), 0,
                              block * sizeof(float), 0, nullptr, nullptr),
          "clEnqueueCopyBuffer(packed filter)", slot.where());
  }
}

}  // namespace anycl::detail
