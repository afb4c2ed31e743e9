// anycl-bench's time_in_turns (tools/bench/timing.cpp): the calls of a comparison alternate call by
// call, the order reversed every other round, and each call's median comes from its own runs.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "opponents.hpp"

using anycl_bench::PreparedCall;

TEST_CASE("time_in_turns runs every call once a round, the order reversed every other round") {
  std::vector<int> order;
  std::vector<PreparedCall> calls(3);
  for (int i = 0; i < 3; ++i) {
    calls[i].run = [&order, i] { order.push_back(i); };
    calls[i].first_call_ms = 10.0 + i;
    calls[i].note = "call " + std::to_string(i);
  }
  const std::vector<anycl_bench::Timing> times = anycl_bench::time_in_turns(calls, 1e6, 1, 3);
  // One warm-up round, then three timed ones: 0 1 2, 2 1 0, 0 1 2, 2 1 0.
  CHECK(order == std::vector<int>{0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0});
  REQUIRE(times.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(times[i].runs == 3);
    CHECK(times[i].first_call_ms == 10.0 + i);
    CHECK(times[i].note == "call " + std::to_string(i));
  }
}

TEST_CASE("time_in_turns gives each call the median of its own runs") {
  // A call that sleeps 4 ms against one that returns at once: their medians stay apart however
  // they interleave (sleep overshoots; it never comes short).
  std::vector<PreparedCall> calls(2);
  calls[0].run = [] {};
  calls[1].run = [] { std::this_thread::sleep_for(std::chrono::milliseconds(4)); };
  const std::vector<anycl_bench::Timing> times = anycl_bench::time_in_turns(calls, 2e6, 0, 5);
  REQUIRE(times.size() == 2);
  CHECK(times[0].median_ms < 1.0);
  CHECK(times[1].median_ms >= 4.0);
  // GFLOP/s from the median: 2e6 flops / (median ms * 1e6).
  CHECK(times[1].gflops == Approx(2.0 / times[1].median_ms).epsilon(1e-12));
}
