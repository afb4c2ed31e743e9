// The pipeline's stage cut (train/stage_plan.hpp): against every possible cut of small models,
// enumerated by brute force, the chosen one has the least largest stage cost (then the least
// largest parameter share) among those within the parameter bound, and it keeps that bound.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <random>
#include <utility>

#include "train/stage_plan.hpp"

namespace {

using anycl::detail::ModelPlan;
using Score = std::pair<double, std::size_t>;

// Largest stage cost and parameters of a cut, or nothing when a stage breaks the bound.
bool score_of(const ModelPlan& plan, const std::vector<std::size_t>& bounds, std::size_t samples, Score& out) {
  std::size_t largest = 0;
  for (std::size_t l = 0; l < plan.layers.size(); ++l)
    largest = std::max(largest, anycl::detail::range_parameters(plan, l, l + 1));
  const std::size_t cap = plan.parameter_count() / (bounds.size() - 1) + largest;
  out = {0, 0};
  for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
    double cost = 0;
    for (std::size_t l = bounds[s]; l < bounds[s + 1]; ++l)
      cost += anycl::detail::layer_cost(plan.layers[l], anycl::detail::range_parameters(plan, l, l + 1), samples);
    const std::size_t params = anycl::detail::range_parameters(plan, bounds[s], bounds[s + 1]);
    if (params > cap) return false;
    out = {std::max(out.first, cost), std::max(out.second, params)};
  }
  return true;
}

// The best score over every cut into `stages` non-empty stages.
Score brute_force(const ModelPlan& plan, std::size_t stages, std::size_t samples) {
  Score best{1e300, 0};
  std::vector<std::size_t> bounds{0};
  std::function<void()> extend = [&] {
    if (bounds.size() == stages) {
      bounds.push_back(plan.layers.size());
      Score s;
      if (score_of(plan, bounds, samples, s)) best = std::min(best, s);
      bounds.pop_back();
      return;
    }
    for (std::size_t b = bounds.back() + 1; b < plan.layers.size(); ++b) {
      bounds.push_back(b);
      extend();
      bounds.pop_back();
    }
  };
  extend();
  return best;
}

anycl::ModelSpec random_model(unsigned seed) {
  std::mt19937 gen(seed);
  anycl::ModelSpec m;
  m.channels = 1 + gen() % 3, m.height = m.width = 8;
  const std::size_t convs = gen() % 3, denses = 1 + gen() % 4;
  for (std::size_t i = 0; i < convs; ++i) m.layers.push_back(anycl::ConvLayer{1 + gen() % 16, 3, 1});
  if (gen() % 2) m.layers.push_back(anycl::MaxPoolLayer{2});
  for (std::size_t i = 0; i < denses; ++i) m.layers.push_back(anycl::DenseLayer{1 + gen() % 300, true});
  m.layers.push_back(anycl::DenseLayer{2 + gen() % 9});
  return m;
}

}  // namespace

TEST_CASE("Stage cut: the least costly largest stage within the parameter bound", "[pipeline]") {
  for (unsigned seed = 1; seed <= 30; ++seed) {
    const ModelPlan plan = anycl::detail::plan_model(random_model(seed));
    for (std::size_t stages = 1; stages <= std::min<std::size_t>(4, plan.layers.size()); ++stages)
      for (std::size_t samples : {1, 16}) {
        INFO("model " << seed << " (" << plan.layers.size() << " layers), " << stages << " stages, " << samples
                      << " samples");
        const std::vector<std::size_t> bounds = anycl::detail::partition_layers(plan, stages, samples);
        REQUIRE(bounds.size() == stages + 1);
        CHECK(bounds.front() == 0);
        CHECK(bounds.back() == plan.layers.size());
        for (std::size_t s = 0; s < stages; ++s) CHECK(bounds[s] < bounds[s + 1]);
        Score got;
        REQUIRE(score_of(plan, bounds, samples, got));  // within the bound
        const Score want = brute_force(plan, stages, samples);
        CHECK(got.first == Approx(want.first).epsilon(1e-12));
        CHECK(got.second == want.second);
      }
  }
}

TEST_CASE("Stage cut: more stages than layers is a clear error", "[pipeline]") {
  anycl::ModelSpec m;
  m.channels = m.height = m.width = 4;
  m.layers = {anycl::DenseLayer{8, true}, anycl::DenseLayer{3}};
  const ModelPlan plan = anycl::detail::plan_model(m);
  CHECK_THROWS_WITH(anycl::detail::partition_layers(plan, 3, 4), Catch::Contains("3 stages for a model of 2 layers"));
  CHECK_THROWS_WITH(anycl::detail::partition_layers(plan, 0, 4), Catch::Contains("0 stages"));
}
