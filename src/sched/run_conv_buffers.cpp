#include "sched/run_conv_buffers.hpp"

#include <optional>

#include "runtime/error.hpp"
#include "sched/meet.hpp"
#include "sched/run_conv.hpp"
#include "sched/same_memory.hpp"
#include "sched/shared_floats.hpp"
#include "train/nn_kernels.hpp"

namespace anycl::detail {

namespace {

// Bytes of one image of x and of y: the tensors a batch split slices (dx and dy backward).
struct ImageBytes {
  std::size_t x, y;
  explicit ImageBytes(const Conv2d& d) : x(d.c * d.h * d.w * sizeof(float)), y(d.k * d.p() * d.q() * sizeof(float)) {}
};

// The fewest images whose x and y slices both span a multiple of `align` bytes.
std::size_t image_granule(const ImageBytes& b, std::size_t align, std::size_t images) {
  for (std::size_t g = 1; g <= images; ++g)
    if (g * b.x % align == 0 && g * b.y % align == 0) return g;
  return images + 1;
}

// A region of a caller's buffer as a buffer of its own; released once the commands using it are
// queued (they keep it alive).
class SubBuffer {
 public:
  SubBuffer(const DeviceSlot& slot, cl_mem parent, std::size_t origin, std::size_t bytes) {
    const cl_buffer_region region{origin, bytes};
    cl_int err = CL_SUCCESS;
    mem_ = clCreateSubBuffer(parent, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    check(err, "clCreateSubBuffer", slot.where());
  }
  ~SubBuffer() { clReleaseMemObject(mem_); }
  SubBuffer(const SubBuffer&) = delete;
  SubBuffer& operator=(const SubBuffer&) = delete;
  cl_mem get() const { return mem_; }

 private:
  cl_mem mem_ = nullptr;
};

}  // namespace

std::vector<Region> conv_outputs(ConvPass pass, const Conv2d& d, const ConvTensors& t) {
  const cl_mem main = pass == ConvPass::Forward ? t.y : pass == ConvPass::BackwardData ? t.x : t.w;
  std::vector<Region> out{{main, 0, output_elems(pass, d) * sizeof(float)}};
  if (pass == ConvPass::BackwardWeights && t.bias) out.push_back({t.bias, 0, d.k * sizeof(float)});
  return out;
}

std::vector<Piece> plan_conv_buffers(RuntimeImpl& rt, ConvPass pass, const Conv2d& d, std::size_t home) {
  if (rt.size() < 2) return {};
  // Backward-weights adds the devices' partial sums on home (nn_layers' accumulate).
  if (pass == ConvPass::BackwardWeights && !rt.slot(home).has_program("nn_layers")) return {};
  std::vector<double> w = conv_weights(rt);
  std::size_t align = 1;
  double fastest = 0;
  for (std::size_t i = 0; i < rt.size(); ++i) {
    const DeviceSlot& s = rt.slot(i);
    if (!same_memory(rt.slot(home), s)) w[i] = 0;
    if (!(w[i] > 0)) continue;
    align = std::max<std::size_t>(align, s.info.mem_base_addr_align_bytes);
    fastest = std::max(fastest, w[i]);
  }
  const std::size_t granule = image_granule(ImageBytes(d), align, d.n);
  if (granule >= d.n || !worth_splitting(conv_flops(d), fastest)) return {};
  std::vector<Piece> pieces;
  const std::vector<Range> images = split_range(d.n, w, granule);
  for (std::size_t i = 0; i < images.size(); ++i)
    if (images[i].size() > 0) pieces.push_back({i, images[i], {0, d.k}});
  return pieces;
}

namespace {

// A batch split's backward-weights: the first piece writes the caller's dw (and dbias), every
// other piece its own partial sums over its images, in home's pool so that home can add them.
struct PartialWeights {
  std::vector<std::unique_ptr<Workspace>> dw, dbias;
  PartialWeights(const DeviceSlot& home, const Conv2d& d, bool with_bias, std::size_t pieces) {
    for (std::size_t i = 1; i < pieces; ++i) {
      dw.push_back(shared_floats(home, d.w_size()));
      if (with_bias) dbias.push_back(shared_floats(home, d.k));
    }
  }
  ConvTensors of(std::size_t piece, const ConvTensors& t) const {
    if (piece == 0) return t;
    return {t.x, dw[piece - 1]->mem(), dbias.empty() ? nullptr : dbias[piece - 1]->mem(), t.y};
  }
  void add_into(const DeviceSlot& home, const ConvTensors& t, const Conv2d& d) const {
    for (std::size_t i = 0; i < dw.size(); ++i) {
      accumulate(home, t.w, dw[i]->mem(), d.w_size());
      if (t.bias) accumulate(home, t.bias, dbias[i]->mem(), d.k);
    }
  }
};

}  // namespace

Event run_conv_buffers(RuntimeImpl& rt, const std::vector<Piece>& pieces, ConvPass pass, const Conv2d& d,
                       const ConvTensors& t, ConvAlgo algo, std::size_t home) {
  const ImageBytes bytes(d);
  const DeviceSlot& first = rt.slot(home);
  std::vector<const DeviceSlot*> slots;
  for (const Piece& pc : pieces) slots.push_back(&rt.slot(pc.device));
  const bool weights = pass == ConvPass::BackwardWeights;
  const std::optional<PartialWeights> partials =
      weights ? std::optional<PartialWeights>(std::in_place, first, d, t.bias != nullptr, pieces.size()) : std::nullopt;
  Gate gate(first, slots, conv_outputs(pass, d, t));  // after the partials: it drains the queues on failure
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const Range images = pieces[i].rows;
    Conv2d sub = d;
    sub.n = images.size();
    const SubBuffer x(*slots[i], t.x, images.begin * bytes.x, images.size() * bytes.x);
    const SubBuffer y(*slots[i], t.y, images.begin * bytes.y, images.size() * bytes.y);
    const ConvTensors whole{x.get(), t.w, t.bias, y.get()};
    dispatch_conv(rt, pieces[i].device, pass, sub, weights ? partials->of(i, whole) : whole, algo);
  }
  gather(first, slots);
  if (weights) partials->add_into(first, t, d);
  Event done(enqueue_marker(first));
  gate.open();
  return done;
}

}  // namespace anycl::detail
