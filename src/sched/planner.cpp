#include "sched/planner.hpp"

#include <algorithm>
#include <string>

#include "ops/conv2d_find.hpp"
#include "ops/conv2d_passes.hpp"
#include "ops/conv2d_select.hpp"
#include "ops/conv2d_winograd.hpp"
#include "ops/gemm_kernels.hpp"
#include "ops/programs.hpp"
#include "sched/balance.hpp"
#include "sched/claims.hpp"
#include "sched/same_memory.hpp"

namespace anycl::detail {
namespace {

// Multiply-adds x 2 of a convolution pass (the same for all three passes).
double conv_flops(const Conv2d& d) {
  return 2.0 * double(d.n) * double(d.k) * double(d.p()) * double(d.q()) * double(d.c / d.groups) * double(d.r) *
         double(d.s);
}

// What every candidate reads: the call, the runtime, and the settings read once.
struct Planning {
  Engine& rt;
  const Call& call;
  Parallel mode;
  GemmProvider provider;
  std::vector<double> weights;  // the runtime's, 0 where a device cannot take part
};

double gemm_flops(const GemmProblem& p) {
  return 2.0 * double(p.m) * double(p.n) * double(p.k) * double(p.batch);
}

// Weights of devices that built `variants` and, on device buffers, share the buffers' memory.
std::vector<double> usable_weights(Engine& rt, const Call& call, const std::vector<std::string>& variants) {
  std::vector<double> w = runtime_weights(rt);
  for (std::size_t i = 0; i < rt.size(); ++i) {
    const DeviceSlot& s = rt.slot(i);
    if (!has_programs(s, variants)) w[i] = 0;  // e.g. no fp64, no compiler and no prebuilt binary
    if (call.home && !same_memory(rt.slot(*call.home), s)) w[i] = 0;
  }
  return w;
}

double fastest(const std::vector<double>& w) { return *std::max_element(w.begin(), w.end()); }

// ---- GEMM ----

// One packed GEMM shared by every device that can claim from the first: it packs A and B once.
SharedDevices shared_gemm(const Planning& pl, const GemmCall& g) {
  if (pl.mode != Parallel::Auto || pl.provider != GemmProvider::Anycl) return {};
  std::size_t lead = pl.call.home.value_or(0);
  while (!pl.call.home && lead < pl.rt.size() && !(pl.weights[lead] > 0)) ++lead;
  if (lead == pl.rt.size() || !(pl.weights[lead] > 0) ||
      !runs_packed(pl.rt.slot(lead), g.problem, g.alpha_zero, g.precision()))
    return {};
  // Every device with a share must claim from the lead: a shared pass over some of them would
  // leave the others idle, where pieces use them all.
  SharedDevices out{{lead}, {pl.weights[lead]}, true};
  for (std::size_t i = 0; i < pl.rt.size(); ++i) {
    if (i == lead || !(pl.weights[i] > 0)) continue;
    if (!can_claim(pl.rt.slot(lead), pl.rt.slot(i), gemm_programs(g.precision()))) return {};
    out.devices.push_back(i), out.weights.push_back(pl.weights[i]);
  }
  if (out.devices.size() < 2 || !worth_splitting(gemm_flops(g.problem), fastest(pl.weights))) return {};
  return out;
}

// Blocks of C by weight; boundaries on the packed kernels' tiles (the largest over the devices).
// The kernels' row tiles run along normalized m, which is the caller's n in column-major.
std::vector<Piece> gemm_pieces(const Planning& pl, const GemmCall& g) {
  std::size_t mr = 1, nr = 1;
  for (std::size_t i = 0; i < pl.rt.size(); ++i)
    if (pl.weights[i] > 0) {
      const PackedLayout lay = packed_layout(pl.rt.slot(i), g.precision());
      mr = std::max(mr, lay.mr), nr = std::max(nr, lay.nr);
    }
  const GemmShape& s = g.shape;
  const bool col = s.layout == Layout::ColMajor;
  return plan_pieces(pl.mode, {s.m, s.n, col ? nr : mr, col ? mr : nr, true, gemm_flops(g.problem)}, pl.weights);
}

// ---- Convolution ----

// One Winograd pass (forward or backward-data) over the devices of one memory that run the same
// form of it: the panels form with the same packed-panel layout, its transformed filters within
// one workspace, or the tiled form (GPU-class devices).
SharedDevices shared_winograd(const Planning& pl, const ConvCall& c, ConvAlgo algo, std::size_t workspace_limit) {
  if (pl.mode != Parallel::Auto || algo != ConvAlgo::Winograd || c.pass == ConvPass::BackwardWeights) return {};
  Engine& rt = pl.rt;
  SharedDevices out;
  for (std::size_t i = 0; i < rt.size(); ++i)
    if (pl.weights[i] > 0 && has_programs(rt.slot(i), winograd_programs()))
      out.devices.push_back(i), out.weights.push_back(pl.weights[i]);
  if (out.devices.size() < 2 || !worth_splitting(conv_flops(c.d), fastest(out.weights))) return {};
  // The caller's buffers' device orders the call and lends the scratch: it must take part.
  if (pl.call.home && out.devices[0] != *pl.call.home) {
    const auto at = std::find(out.devices.begin(), out.devices.end(), *pl.call.home);
    if (at == out.devices.end()) return {};
    std::iter_swap(out.weights.begin() + (at - out.devices.begin()), out.weights.begin());
    std::iter_swap(at, out.devices.begin());
  }
  // One form of Winograd for all (the one each would run alone); the tiled form is split by weight.
  const DeviceSlot& home = rt.slot(out.devices[0]);
  const WinogradForm form = winograd_form(home);
  for (std::size_t i : out.devices)
    if (!same_memory(home, rt.slot(i)) || winograd_form(rt.slot(i)) != form) return {};
  // The tiled form's kernels read and write NCHW only; the panels form either layout.
  if (form == WinogradForm::Tiled) return c.d.layout == ConvLayout::Nchw ? out : SharedDevices{};
  // Every device reads and writes the home device's panels: the same tile size and register tile.
  const WinogradPlan plan = winograd_plan(c.pass, c.d);
  const WinogradLayout lay(home, plan);
  for (std::size_t i : out.devices) {
    const WinogradLayout l(rt.slot(i), plan);
    if (l.m != lay.m || l.mr != lay.mr || l.nr != lay.nr) return {};
  }
  if (lay.filter_bytes() > conv_workspace_cap(workspace_limit, home)) return {};
  out.claimed = std::all_of(out.devices.begin(), out.devices.end(),
                            [&](std::size_t i) { return can_claim(home, rt.slot(i), winograd_programs()); });
  return out;
}

// Host pointers: images (data) or output channels (model) by weight; a channel split of a
// grouped convolution would cut through groups.
std::vector<Piece> conv_host_pieces(const Planning& pl, const ConvCall& c) {
  std::size_t mr = 1;
  for (std::size_t i = 0; i < pl.rt.size(); ++i)
    if (pl.weights[i] > 0) mr = std::max(mr, packed_layout(pl.rt.slot(i)).mr);
  const Conv2d& d = c.d;
  return plan_pieces(pl.mode, {d.n, d.k, 1, mr, d.groups == 1, conv_flops(d)}, pl.weights);
}

// The fewest images whose x and y slices (dx and dy backward) both span a multiple of `align`
// bytes, so that every device's slices can be sub-buffers.
std::size_t image_granule(const Conv2d& d, std::size_t align) {
  const std::size_t x = d.c * d.h * d.w * sizeof(float), y = d.k * d.p() * d.q() * sizeof(float);
  for (std::size_t g = 1; g <= d.n; ++g)
    if (g * x % align == 0 && g * y % align == 0) return g;
  return d.n + 1;
}

// Device buffers: a batch split only (a channel split's output blocks are not contiguous).
// Backward-weights adds the devices' partial sums on the buffers' device (nn_layers' accumulate).
std::vector<Piece> conv_buffer_pieces(const Planning& pl, const ConvCall& c) {
  const DeviceSlot& home = pl.rt.slot(*pl.call.home);
  if (c.pass == ConvPass::BackwardWeights && !has_programs(home, partial_sum_programs())) return {};
  std::size_t align = 1;
  for (std::size_t i = 0; i < pl.rt.size(); ++i)
    if (pl.weights[i] > 0) align = std::max<std::size_t>(align, pl.rt.slot(i).info.mem_base_addr_align_bytes);
  const std::size_t granule = image_granule(c.d, align);
  if (granule >= c.d.n || !worth_splitting(conv_flops(c.d), fastest(pl.weights))) return {};
  std::vector<Piece> pieces;
  const std::vector<Range> images = split_range(c.d.n, pl.weights, granule);
  for (std::size_t i = 0; i < images.size(); ++i)
    if (images[i].size() > 0) pieces.push_back({i, images[i], {0, c.d.k}});
  return pieces;
}

// Auto takes the find step's winner when find is on (timed with the call's workspace cap);
// otherwise the selector's pick.
ConvAlgo choose(Engine& rt, const ConvCall& c, bool find, const Plan& plan, std::size_t device) {
  if (c.algo == ConvAlgo::Auto && find) {
    const FindSettings settings{plan.workspace_limit, rt.ops.conv_disabled};
    return find_conv_algo(rt.slot(device), rt.ops.find_memo, settings, rt.binary_cache(), c.d, c.pass).algo;
  }
  return resolve(c.pass, c.d, c.algo, rt.ops.conv_disabled, conv_thresholds(rt.slot(device)));
}

Conv2d piece_problem(const Conv2d& d, const Piece& p) {
  Conv2d sub = d;
  sub.n = p.data.size(), sub.k = p.model.size();
  return sub;
}

// A shared pass of two devices or more makes a shared plan.
bool use_shared(Plan& plan, SharedDevices shared) {
  if (shared.devices.size() < 2) return false;
  plan.kind = PlanKind::Shared, plan.device = shared.devices[0], plan.shared = std::move(shared);
  return true;
}

// Two pieces or more make a split plan; one piece of a host-pointer call names its device.
void use_pieces(Plan& plan, std::vector<Piece> pieces, bool on_host) {
  if (pieces.size() > 1) plan.kind = PlanKind::Pieces, plan.pieces = std::move(pieces);
  else if (pieces.size() == 1 && on_host) plan.device = pieces[0].device;
}

void split_gemm(Plan& plan, const Planning& pl, const GemmCall& g) {
  if (!use_shared(plan, shared_gemm(pl, g))) use_pieces(plan, gemm_pieces(pl, g), !pl.call.home);
}

void split_conv(Plan& plan, const Planning& pl, const ConvCall& c) {
  if (use_shared(plan, shared_winograd(pl, c, plan.algo, plan.workspace_limit))) return;
  std::vector<Piece> pieces = pl.call.home ? conv_buffer_pieces(pl, c) : conv_host_pieces(pl, c);
  // Host pieces take Auto's choice for their own shape; pieces of a buffer call the call's.
  if (pieces.size() > 1)
    for (Piece& p : pieces) p.algo = resolve(c.pass, piece_problem(c.d, p), pl.call.home ? plan.algo : c.algo, pl.rt.ops.conv_disabled,
                       conv_thresholds(pl.rt.slot(p.device)));
  use_pieces(plan, std::move(pieces), !pl.call.home);
}

}  // namespace

Plan plan_call(Engine& rt, const Call& call) {
  Plan plan;
  plan.provider = rt.ops.gemm_provider;
  plan.workspace_limit = rt.ops.conv_workspace_limit;
  plan.device = call.home.value_or(0);
  plan.guard_outputs = call.home && call.spread;
  const bool find = rt.ops.conv_find;
  const ConvCall* conv = std::get_if<ConvCall>(&call.op);
  // On buffers the call's device is known before the split: the find step runs there.
  if (conv)
    plan.algo = call.home ? choose(rt, *conv, find, plan, *call.home)
                          : resolve(conv->pass, conv->d, conv->algo, rt.ops.conv_disabled, conv_thresholds(rt.slot(plan.device)));
  if (call.spread && rt.size() > 1) {
    const GemmCall* gemm = std::get_if<GemmCall>(&call.op);
    const std::vector<std::string> variants = gemm ? gemm_programs(gemm->precision()) : conv_programs();
    const Planning pl{rt, call, rt.sched.parallel, plan.provider, usable_weights(rt, call, variants)};
    if (gemm) split_gemm(plan, pl, *gemm);
    else split_conv(plan, pl, *conv);
  }
  // On host pointers the device is known only now; the find step runs there.
  if (conv && !call.home && plan.kind == PlanKind::OneDevice && conv->algo == ConvAlgo::Auto && find)
    plan.algo = choose(rt, *conv, find, plan, plan.device);
  return plan;
}

}  // namespace anycl::detail
