// anycl C++ API: the umbrella header.
#pragma once

#include "anycl/conv2d.hpp"
#include "anycl/gemm.hpp"
#include "anycl/parallel.hpp"
#include "anycl/peak.hpp"
#include "anycl/profile.hpp"
#include "anycl/runtime.hpp"
#include "anycl/train.hpp"
