kernel void fill(global float* b) { b[get_global_id(0)] = (float)get_global_id(0); }
kernel void add_one(global const float* in, global float* out) {
  const size_t i = get_global_id(0);
  out[i] = in[i] + 1.0f;
}
