#include "sched/run_conv_buffers.hpp"

#include "runtime/error.hpp"
#include "runtime/finish_on_unwind.hpp"
#include "sched/meet.hpp"
#include "sched/run_conv.hpp"
#include "sched/same_memory.hpp"

namespace anycl::detail {

namespace {

// Bytes of one image of the pass's input and of its output (x and y forward, dy and dx back).
struct ImageBytes {
  std::size_t in, out;
  ImageBytes(ConvPass pass, const Conv2d& d) {
    const std::size_t x = d.c * d.h * d.w * sizeof(float), y = d.k * d.p() * d.q() * sizeof(float);
    in = pass == ConvPass::Forward ? x : y, out = pass == ConvPass::Forward ? y : x;
  }
};

// The fewest images whose input and output slices both span a multiple of `align` bytes.
std::size_t image_granule(const ImageBytes& b, std::size_t align, std::size_t images) {
  for (std::size_t g = 1; g <= images; ++g)
    if (g * b.in % align == 0 && g * b.out % align == 0) return g;
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

std::vector<Piece> plan_conv_buffers(RuntimeImpl& rt, ConvPass pass, const Conv2d& d, std::size_t home) {
  if (rt.size() < 2 || pass == ConvPass::BackwardWeights) return {};
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
  const std::size_t granule = image_granule(ImageBytes(pass, d), align, d.n);
  if (granule >= d.n || !worth_splitting(conv_flops(d), fastest)) return {};
  std::vector<Piece> pieces;
  const std::vector<Range> images = split_range(d.n, w, granule);
  for (std::size_t i = 0; i < images.size(); ++i)
    if (images[i].size() > 0) pieces.push_back({i, images[i], {0, d.k}});
  return pieces;
}

Event run_conv_buffers(RuntimeImpl& rt, const std::vector<Piece>& pieces, ConvPass pass, const Conv2d& d,
                       const ConvTensors& t, ConvAlgo algo, std::size_t home) {
  const bool forward = pass == ConvPass::Forward;
  const ImageBytes bytes(pass, d);
  std::vector<const DeviceSlot*> slots;
  for (const Piece& pc : pieces) slots.push_back(&rt.slot(pc.device));
  FinishOnUnwind unwind;
  unwind.add(slots);
  fork(rt.slot(home), slots);
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const Range images = pieces[i].rows;
    Conv2d sub = d;
    sub.n = images.size();
    const SubBuffer in(*slots[i], forward ? t.x : t.y, images.begin * bytes.in, images.size() * bytes.in);
    const SubBuffer out(*slots[i], forward ? t.y : t.x, images.begin * bytes.out, images.size() * bytes.out);
    const ConvTensors part = forward ? ConvTensors{in.get(), t.w, t.bias, out.get()}
                                     : ConvTensors{out.get(), t.w, nullptr, in.get()};
    dispatch_conv(rt, pieces[i].device, pass, sub, part, algo);
  }
  return join(rt.slot(home), slots);
}

}  // namespace anycl::detail
