// Internal error helpers: OpenCL status names and checked calls.
#pragma once

#include <string>

#include "anycl/runtime.hpp"

namespace anycl::detail {

// "CL_OUT_OF_RESOURCES" for -5; "CL_UNKNOWN_ERROR(-1234)" for codes the table lacks.
std::string cl_error_name(cl_int code);

// Throws Error(ANYCL_ERROR_OPENCL or a closer status) when err != CL_SUCCESS:
// "<call> failed on <where>: CL_..." .
void check(cl_int err, const char* call, const std::string& where);

[[noreturn]] void fail(Status status, const std::string& message);

// The status a caller should see for an OpenCL error code.
Status status_for(cl_int code);

}  // namespace anycl::detail
