// The trainer's checkpoint file: what must match to resume, the tensors, a CRC-32 over all of it,
// written to a temporary file, synced and renamed into place (write_file_atomic) so a reader never
// sees half a file.
//
// Layout (little-endian): "ANYCLCKP", u32 version (2), u32 0, u64 model hash, u64 steps, f32 lr,
// f32 momentum, u64 settings count, the settings (u64 each), u64 tensor count, then per tensor
// u64 elements and the floats, then u32 CRC-32 (IEEE) of every byte before it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/model_plan.hpp"

namespace anycl::detail {

struct Checkpoint {
  std::uint64_t model_hash = 0;  // model_hash() of the plan
  std::uint64_t steps = 0;
  float lr = 0, momentum = 0;
  // The other settings a resumed run must share (trainer_checkpoint.cpp: resume_settings).
  std::vector<std::uint64_t> settings;
  // The parameters, the optimizer's state sets, then each batch-norm node's running mean and
  // running variance, in plan order.
  std::vector<std::vector<float>> tensors;
};

std::uint64_t float_bits(float f);  // the float's IEEE bits

// A hash of every layer's kind, shapes and hyper-parameters: equal plans, equal hashes.
std::uint64_t model_hash(const ModelPlan& plan);

// Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) naming the path and the reason on any failure;
// on failure the file at `path` is left as it was.
void write_checkpoint(const std::string& path, const Checkpoint& c);
// Throws Error(ANYCL_ERROR_INVALID_ARGUMENT) for an unreadable, truncated, foreign, corrupt or
// newer-version file, naming the path and what is wrong.
Checkpoint read_checkpoint(const std::string& path);

}  // namespace anycl::detail
