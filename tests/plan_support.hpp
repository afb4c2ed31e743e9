// What the planner decides for a call, as the public functions would ask it (sched/planner.hpp).
#pragma once

#include <optional>
#include <vector>

#include "anycl/anycl.hpp"
#include "ops/conv2d_select.hpp"
#include "sched/planner.hpp"

namespace anycl_test {

// `home`: the device of the call's buffers; none: host pointers.
template <typename T>
anycl::detail::Plan gemm_plan(anycl::Runtime& rt, const anycl::GemmShape& s, T alpha = T(1),
                              std::optional<std::size_t> home = std::nullopt) {
  return anycl::detail::plan_call(anycl::detail::engine(rt), {anycl::detail::gemm_call(s, alpha), home, true});
}

inline anycl::detail::Plan conv_plan(anycl::Runtime& rt, anycl::ConvPass pass, const anycl::Conv2d& d,
                                     std::optional<std::size_t> home = std::nullopt,
                                     anycl::ConvAlgo algo = anycl::ConvAlgo::Auto) {
  return anycl::detail::plan_call(anycl::detail::engine(rt), {anycl::detail::ConvCall{pass, d, algo}, home, true});
}

// The pieces of a split plan (none for other kinds).
inline std::vector<anycl::detail::Piece> pieces_of(const anycl::detail::Plan& p) {
  return p.kind == anycl::detail::PlanKind::Pieces ? p.pieces : std::vector<anycl::detail::Piece>{};
}

// The devices of a shared pass (none for other kinds).
inline std::vector<std::size_t> shared_of(const anycl::detail::Plan& p) {
  return p.kind == anycl::detail::PlanKind::Shared ? p.shared.devices : std::vector<std::size_t>{};
}

// Every device the plan uses.
inline std::vector<std::size_t> devices_of(const anycl::detail::Plan& p) {
  if (p.kind == anycl::detail::PlanKind::Shared) return p.shared.devices;
  if (p.kind == anycl::detail::PlanKind::OneDevice) return {p.device};
  std::vector<std::size_t> out;
  for (const auto& piece : p.pieces) out.push_back(piece.device);
  return out;
}

}  // namespace anycl_test
