// The scheduler's plan math (src/sched/plan.cpp): shares proportional to the weights, tile
// alignment, devices left out, and every index covered exactly once.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <numeric>

#include "sched/balance.hpp"
#include "sched/split.hpp"

using anycl::Parallel;
using anycl::detail::Piece;
using anycl::detail::plan_pieces;
using anycl::detail::Range;
using anycl::detail::split_range;
using anycl::detail::SplitProblem;

namespace {

void require_partition(const std::vector<Range>& r, std::size_t extent, std::size_t align) {
  std::size_t at = 0;
  for (const Range& x : r) {
    REQUIRE(x.begin == at);
    REQUIRE(x.end >= x.begin);
    if (x.end != extent) REQUIRE(x.end % align == 0);
    at = x.end;
  }
  REQUIRE(at == extent);
}

// Every (row, col) of the index space is in exactly one piece.
void require_cover(const std::vector<Piece>& pieces, std::size_t rows, std::size_t cols) {
  std::vector<int> hits(rows * cols, 0);
  for (const Piece& p : pieces) {
    REQUIRE(p.data.size() > 0);
    REQUIRE(p.model.size() > 0);
    REQUIRE(p.data.end <= rows);
    REQUIRE(p.model.end <= cols);
    for (std::size_t i = p.data.begin; i < p.data.end; ++i)
      for (std::size_t j = p.model.begin; j < p.model.end; ++j) ++hits[i * cols + j];
  }
  REQUIRE(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
}

}  // namespace

TEST_CASE("split_range gives shares proportional to the weights, on tile boundaries", "[sched]") {
  const auto r = split_range(1024, {1, 3}, 16);
  require_partition(r, 1024, 16);
  CHECK(r[0].size() == 256);
  CHECK(r[1].size() == 768);
  const auto even = split_range(2048, {2, 2}, 32);
  CHECK(even[0].size() == 1024);
  CHECK(even[1].size() == 1024);
}

TEST_CASE("split_range keeps a ragged end on the last granule and balances leftovers", "[sched]") {
  for (std::size_t extent : {1u, 7u, 100u, 1000u, 1001u})
    for (std::size_t align : {1u, 4u, 16u}) {
      const std::vector<double> w = {1, 2, 0.5};
      const auto r = split_range(extent, w, align);
      INFO("extent " << extent << " align " << align);
      require_partition(r, extent, align);
      // No device may finish later than it would with one granule less anywhere else: the
      // slowest device's time is within one granule of the ideal.
      const double ideal = double(extent) / 3.5;
      for (std::size_t i = 0; i < w.size(); ++i) CHECK(double(r[i].size()) / w[i] <= ideal + double(align) / w[i] + 1e-9);
    }
}

TEST_CASE("split_range gives nothing to a zero weight or a share that rounds to nothing", "[sched]") {
  const auto zero = split_range(512, {1, 0, 1}, 8);
  require_partition(zero, 512, 8);
  CHECK(zero[1].size() == 0);
  CHECK(zero[0].size() == 256);
  // A device 1000x slower than the other: on 64 rows in tiles of 16 it would take 16 rows at
  // 1000x the cost; giving it nothing is faster.
  const auto slow = split_range(64, {1000, 1}, 16);
  CHECK(slow[0].size() == 64);
  CHECK(slow[1].size() == 0);
  // All weights zero: nobody gets anything (the caller keeps such a call off the split path).
  const auto none = split_range(10, {0, 0}, 1);
  CHECK(none[0].size() + none[1].size() == 0);
}

// Weights near DBL_MAX sum to infinity; the shares must still be finite and cover the range.
TEST_CASE("split_range with huge weights still covers the range in proportion", "[sched]") {
  for (std::size_t align : {1u, 4u, 16u}) {
    INFO("align " << align);
    const auto lopsided = split_range(1000, {1e308, 1}, align);
    require_partition(lopsided, 1000, align);
    CHECK(lopsided[0].size() == 1000);
    CHECK(lopsided[1].size() == 0);
    const auto even = split_range(1024, {1e308, 1e308}, align);
    require_partition(even, 1024, align);
    CHECK(even[0].size() == 512);
    CHECK(even[1].size() == 512);
  }
  const auto thirds = split_range(999, {1e308, 1e308, 1e308}, 1);
  require_partition(thirds, 999, 1);
  for (const Range& r : thirds) CHECK(r.size() == 333);
  const auto infinite = split_range(100, {HUGE_VAL, 1}, 1);
  require_partition(infinite, 100, 1);
  CHECK(infinite[0].size() == 100);
}

TEST_CASE("plan_pieces covers the index space once for every mode", "[sched]") {
  const std::vector<std::vector<double>> weight_sets = {{1, 1}, {1, 3}, {1, 1, 1, 1}, {2, 1, 1, 3, 1, 1}, {1, 0, 1}};
  for (const auto& w : weight_sets)
    for (Parallel mode : {Parallel::Auto, Parallel::Data, Parallel::Model, Parallel::Hybrid})
      for (std::size_t rows : {1u, 5u, 64u, 250u})
        for (std::size_t cols : {1u, 9u, 128u}) {
          INFO("devices " << w.size() << " mode " << int(mode) << " rows " << rows << " cols " << cols);
          const SplitProblem p{rows, cols, 4, 8, true, 1e12};
          const auto pieces = plan_pieces(mode, p, w);
          require_cover(pieces, rows, cols);
          for (const Piece& pc : pieces) REQUIRE(w[pc.device] > 0);
        }
}

TEST_CASE("plan_pieces: data splits rows, model splits columns, hybrid both", "[sched]") {
  const SplitProblem p{256, 512, 16, 16, true, 1e12};
  const auto data = plan_pieces(Parallel::Data, p, {1, 1});
  REQUIRE(data.size() == 2);
  CHECK(data[0].data == Range{0, 128});
  CHECK(data[0].model == Range{0, 512});
  CHECK(data[1].device == 1);
  const auto model = plan_pieces(Parallel::Model, p, {1, 1});
  REQUIRE(model.size() == 2);
  CHECK(model[1].data == Range{0, 256});
  CHECK(model[1].model == Range{256, 512});
  const auto hybrid = plan_pieces(Parallel::Hybrid, p, {1, 1, 1, 1});
  REQUIRE(hybrid.size() == 4);
  std::map<std::size_t, int> per_device;
  for (const Piece& pc : hybrid) {
    CHECK(pc.data.size() == 128);
    CHECK(pc.model.size() == 256);
    ++per_device[pc.device];
  }
  CHECK(per_device.size() == 4);
  // Columns that cannot be split (grouped convolutions): model falls back to data.
  const SplitProblem fixed{256, 512, 16, 16, false, 1e12};
  for (const Piece& pc : plan_pieces(Parallel::Model, fixed, {1, 1})) CHECK(pc.model == Range{0, 512});
}

TEST_CASE("plan_pieces Auto keeps tiny problems and hopeless devices off the split", "[sched]") {
  // 1 MFLOP on 50 GFLOP/s devices is 20 us: one device, the fastest.
  const auto tiny = plan_pieces(Parallel::Auto, {64, 64, 16, 16, true, 1e6}, {50, 60});
  REQUIRE(tiny.size() == 1);
  CHECK(tiny[0].device == 1);
  // A big problem splits over equal devices.
  CHECK(plan_pieces(Parallel::Auto, {2048, 2048, 16, 16, true, 1.7e10}, {50, 50}).size() == 2);
  // POCL + a device 1000x slower: the slow one gets nothing.
  const auto het = plan_pieces(Parallel::Auto, {256, 256, 16, 16, true, 3.4e7 * 1000}, {50, 0.05});
  REQUIRE(het.size() == 1);
  CHECK(het[0].device == 0);
  // A batch smaller than the device count: Auto splits the channels instead.
  const auto few = plan_pieces(Parallel::Auto, {1, 256, 1, 16, true, 1e12}, {1, 1});
  REQUIRE(few.size() == 2);
  CHECK(few[0].model.size() == 128);
}

TEST_CASE("device weights: parsing and validation", "[sched]") {
  std::string why;
  const auto w = anycl::detail::parse_weights("1,0.5,2e-3", &why);
  REQUIRE(w);
  CHECK(*w == std::vector<double>{1, 0.5, 2e-3});
  CHECK_FALSE(anycl::detail::parse_weights("1,,2", &why));
  CHECK_FALSE(anycl::detail::parse_weights("1,-1", &why));
  CHECK_FALSE(anycl::detail::parse_weights("fast", &why));
  CHECK(why.find("fast") != std::string::npos);
  using anycl::detail::checked_weights;
  CHECK_THROWS_AS(checked_weights({1}, 2, "t"), anycl::Error);
  CHECK_THROWS_AS(checked_weights({0, 0}, 2, "t"), anycl::Error);
  CHECK(checked_weights({0, 1}, 2, "t") == std::vector<double>{0, 1});
}
