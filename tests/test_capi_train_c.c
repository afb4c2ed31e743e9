/* The C half of test_capi_train: the trainer driven from strict C99, as another language would
 * through its FFI. Each check function returns 0 on success, else the number of the failed check
 * (test_capi_train.cpp reports it with anycl_last_error()). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anycl/anycl.h"

enum { CAPI_SMALL_CNN = 0, CAPI_SMALL_RESNET = 1, CAPI_MAX_LAYERS = 32 };

static anycl_layer conv(size_t channels, size_t kernel, size_t stride, int relu) {
  anycl_layer l;
  anycl_layer_init(&l, ANYCL_LAYER_CONV);
  l.channels = channels, l.kernel = kernel, l.pad = kernel / 2, l.stride = stride, l.relu = relu;
  return l;
}

static anycl_layer layer(anycl_layer_kind kind) {
  anycl_layer l;
  anycl_layer_init(&l, kind);
  return l;
}

static anycl_layer batch_norm(int relu) {
  anycl_layer l = layer(ANYCL_LAYER_BATCH_NORM);
  l.relu = relu;
  return l;
}

static anycl_layer sized(anycl_layer_kind kind, size_t size) {
  anycl_layer l = layer(kind);
  l.size = size, l.units = size;
  return l;
}

/* digits::small_cnn: conv(8)-ReLU-pool-conv(16)-ReLU-pool-dense(10). */
static size_t small_cnn(anycl_layer* l) {
  size_t n = 0;
  l[n++] = conv(8, 3, 1, 1);
  l[n++] = sized(ANYCL_LAYER_MAX_POOL, 2);
  l[n++] = conv(16, 3, 1, 1);
  l[n++] = sized(ANYCL_LAYER_MAX_POOL, 2);
  l[n++] = sized(ANYCL_LAYER_DENSE, 10);
  return n;
}

/* digits::small_resnet with average pooling and dropout before the classifier: a stem, an
 * identity block, a projection block (stride 2, 1x1 conv + BN shortcut). */
static size_t small_resnet(anycl_layer* l) {
  size_t n = 0;
  l[n++] = conv(16, 3, 1, 0);
  l[n++] = batch_norm(1);
  l[n++] = layer(ANYCL_LAYER_BEGIN_RESIDUAL);
  l[n++] = conv(16, 3, 1, 0);
  l[n++] = batch_norm(1);
  l[n++] = conv(16, 3, 1, 0);
  l[n++] = batch_norm(0);
  l[n++] = layer(ANYCL_LAYER_END_RESIDUAL);
  l[n++] = layer(ANYCL_LAYER_BEGIN_RESIDUAL);
  l[n++] = conv(32, 3, 2, 0);
  l[n++] = batch_norm(1);
  l[n++] = conv(32, 3, 1, 0);
  l[n++] = batch_norm(0);
  l[n++] = layer(ANYCL_LAYER_SHORTCUT);
  l[n++] = conv(32, 1, 2, 0);
  l[n++] = batch_norm(0);
  l[n++] = layer(ANYCL_LAYER_END_RESIDUAL);
  l[n++] = sized(ANYCL_LAYER_AVG_POOL, 2);
  l[n++] = layer(ANYCL_LAYER_GLOBAL_AVG_POOL);
  l[n] = layer(ANYCL_LAYER_DROPOUT);
  l[n++].rate = 0.25f;
  l[n++] = sized(ANYCL_LAYER_DENSE, 10);
  return n;
}

static anycl_status create(anycl_runtime* rt, const anycl_layer* layers, size_t count, size_t side,
                           const anycl_train_options* o, anycl_trainer** out) {
  anycl_model_desc m;
  anycl_model_desc_init(&m);
  m.channels = 1, m.height = side, m.width = side;
  m.layers = layers, m.layer_count = count;
  return anycl_trainer_create(rt, &m, o, out);
}

/* A trainer of `model` on side x side single-channel samples. */
int capi_train_create(anycl_runtime* rt, int model, size_t side, const anycl_train_options* o, anycl_trainer** out) {
  anycl_layer layers[CAPI_MAX_LAYERS];
  const size_t count = model == CAPI_SMALL_CNN ? small_cnn(layers) : small_resnet(layers);
  return create(rt, layers, count, side, o, out) == ANYCL_SUCCESS ? 0 : 1;
}

/* Steps [first, last): step s takes samples s * batch.. of x (`sample` floats each) and labels;
 * losses[s] gets its loss. */
int capi_train_steps(anycl_trainer* t, const float* x, const int* labels, size_t sample, size_t batch, size_t first,
                     size_t last, float* losses) {
  size_t s, steps = 0;
  for (s = first; s < last; ++s)
    if (anycl_trainer_step(t, x + s * batch * sample, labels + s * batch, batch, &losses[s]) != ANYCL_SUCCESS)
      return 1;
  if (anycl_trainer_steps(t, &steps) != ANYCL_SUCCESS || steps != last) return 2;
  return 0;
}

/* Steps [0, stop_at) in one trainer, a checkpoint at `path`, then a fresh trainer loads it and
 * takes steps [stop_at, last); *out gets the second trainer. */
int capi_train_resumed(anycl_runtime* rt, int model, size_t side, const anycl_train_options* o, const float* x,
                       const int* labels, size_t batch, size_t stop_at, size_t last, const char* path, float* losses,
                       anycl_trainer** out) {
  anycl_trainer* first = NULL;
  size_t steps = 0;
  float lr_saved = 0, lr_loaded = -1;
  if (capi_train_create(rt, model, side, o, &first)) return 1;
  if (capi_train_steps(first, x, labels, side * side, batch, 0, stop_at, losses)) return 2;
  if (anycl_trainer_save_checkpoint(first, path) != ANYCL_SUCCESS) return 3;
  if (anycl_trainer_learning_rate(first, &lr_saved) != ANYCL_SUCCESS) return 4;
  anycl_trainer_destroy(first);
  if (capi_train_create(rt, model, side, o, out)) return 5;
  if (anycl_trainer_load_checkpoint(*out, path) != ANYCL_SUCCESS) return 6;
  if (anycl_trainer_steps(*out, &steps) != ANYCL_SUCCESS || steps != stop_at) return 7;
  if (anycl_trainer_learning_rate(*out, &lr_loaded) != ANYCL_SUCCESS || lr_loaded != lr_saved) return 8;
  return capi_train_steps(*out, x, labels, side * side, batch, stop_at, last, losses) ? 9 : 0;
}

/* The options struct as anycl_train_options_init leaves it, for the C++ side to compare. */
void capi_train_options_defaults(anycl_train_options* o) {
  memset(o, 0x5a, sizeof *o);
  anycl_train_options_init(o);
  anycl_train_options_init(NULL); /* harmless */
}

void capi_layer_defaults(anycl_layer* l, int kind) {
  memset(l, 0x5a, sizeof *l);
  anycl_layer_init(l, (anycl_layer_kind)kind);
  anycl_layer_init(NULL, ANYCL_LAYER_CONV); /* harmless */
}

static int says(const char* needle) { return strstr(anycl_last_error(), needle) != NULL; }

/* Every way a model description is refused: the status, the message naming the layer, and *out
 * left NULL. */
int capi_train_model_errors(anycl_runtime* rt) {
  anycl_layer l[CAPI_MAX_LAYERS];
  anycl_trainer* t = (anycl_trainer*)&t;
  anycl_model_desc m;
  size_t n = small_resnet(l);

  if (create(NULL, l, n, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || t != NULL || !says("runtime is NULL")) return 1;
  if (create(rt, l, n, 8, NULL, NULL) != ANYCL_ERROR_INVALID_ARGUMENT || !says("out is NULL")) return 2;
  t = (anycl_trainer*)&t;
  if (anycl_trainer_create(rt, NULL, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || t || !says("model is NULL")) return 3;
  anycl_model_desc_init(&m);
  m.channels = m.height = m.width = 8, m.layer_count = 3;
  if (anycl_trainer_create(rt, &m, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || !says("model->layers is NULL")) return 4;
  m.struct_size = 0;
  if (anycl_trainer_create(rt, &m, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || !says("anycl_model_desc_init")) return 5;
  m.struct_size = sizeof m + 8;
  if (anycl_trainer_create(rt, &m, NULL, &t) != ANYCL_ERROR_UNSUPPORTED || !says("newer anycl.h")) return 6;

  l[4].kind = (anycl_layer_kind)99; /* inside the first block's body */
  if (create(rt, l, n, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || t || !says("layers[4].kind 99 is not")) return 7;
  memset(&l[4], 0, sizeof l[4]); /* a forgotten entry */
  if (create(rt, l, n, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || !says("layers[4].kind 0")) return 8;
  n = small_resnet(l);
  if (create(rt, l, 7, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || !says("layers[2]: ANYCL_LAYER_BEGIN_RESIDUAL has no"))
    return 9;
  l[2] = layer(ANYCL_LAYER_DROPOUT); /* the first block's END_RESIDUAL is now unmatched */
  if (create(rt, l, n, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT ||
      !says("layers[7]: ANYCL_LAYER_END_RESIDUAL outside a residual block"))
    return 10;
  n = small_resnet(l);
  l[0] = layer(ANYCL_LAYER_SHORTCUT);
  if (create(rt, l, n, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || !says("layers[0]: ANYCL_LAYER_SHORTCUT outside"))
    return 11;
  n = small_resnet(l);
  l[15] = layer(ANYCL_LAYER_SHORTCUT); /* the second block's shortcut: conv, SHORTCUT again */
  if (create(rt, l, n, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || !says("layers[15]: a second ANYCL_LAYER_SHORTCUT"))
    return 12;

  /* What the C++ trainer refuses, with the C index of the layer its message names. */
  n = small_resnet(l);
  l[14].channels = 0; /* the shortcut's conv */
  if (create(rt, l, n, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || !says("(conv) needs channels") ||
      !says("(model->layers[14])"))
    return 13;
  n = small_resnet(l);
  l[3].stride = 2; /* the identity block's body now ends at 4x4 */
  if (create(rt, l, n, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || !says("the body ends in 16x4x4") ||
      !says("(model->layers[2])"))
    return 14;
  n = small_resnet(l);
  l[19].rate = NAN;
  if (create(rt, l, n, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || !says("layers[19].rate is not finite")) return 15;
  n = small_resnet(l);
  l[n - 1].relu = 1;
  if (create(rt, l, n, 8, NULL, &t) != ANYCL_ERROR_INVALID_ARGUMENT || !says("(model->layers[20])")) return 16;
  return t == NULL ? 0 : 17;
}

/* Every way the options are refused, naming the field. */
int capi_train_option_errors(anycl_runtime* rt) {
  anycl_train_options o;
  anycl_trainer* t = (anycl_trainer*)&t;
  anycl_train_options_init(&o);
  o.batch = 0;
  if (capi_train_create(rt, CAPI_SMALL_CNN, 8, &o, &t) == 0 || t || !says("batch must be positive")) return 1;
  anycl_train_options_init(&o);
  o.lr = NAN;
  if (capi_train_create(rt, CAPI_SMALL_CNN, 8, &o, &t) == 0 || !says("options->lr is not finite")) return 2;
  o.lr = INFINITY;
  if (capi_train_create(rt, CAPI_SMALL_CNN, 8, &o, &t) == 0 || !says("options->lr is not finite")) return 3;
  anycl_train_options_init(&o);
  o.optimizer = (anycl_optimizer)7;
  if (capi_train_create(rt, CAPI_SMALL_CNN, 8, &o, &t) == 0 || !says("options->optimizer 7 is not")) return 4;
  anycl_train_options_init(&o);
  o.schedule = (anycl_lr_schedule)-1;
  if (capi_train_create(rt, CAPI_SMALL_CNN, 8, &o, &t) == 0 || !says("options->schedule -1 is not")) return 5;
  anycl_train_options_init(&o);
  o.allreduce = (anycl_allreduce)3;
  if (capi_train_create(rt, CAPI_SMALL_CNN, 8, &o, &t) == 0 || !says("options->allreduce 3 is not")) return 6;
  anycl_train_options_init(&o);
  o.struct_size = 0;
  if (capi_train_create(rt, CAPI_SMALL_CNN, 8, &o, &t) == 0 || !says("anycl_train_options_init")) return 7;
  o.struct_size = sizeof o + 8;
  if (capi_train_create(rt, CAPI_SMALL_CNN, 8, &o, &t) == 0 || !says("newer anycl.h")) return 8;
  return t == NULL ? 0 : 9;
}

/* The state a refused call must leave alone: the weights and the step count. */
typedef struct state {
  float* weights;
  size_t steps;
} state;

static int read_state(const anycl_trainer* t, size_t count, state* s) {
  s->weights = (float*)malloc(count * sizeof(float));
  return s->weights && anycl_trainer_get_weights(t, 0, s->weights, count) == ANYCL_SUCCESS &&
         anycl_trainer_steps(t, &s->steps) == ANYCL_SUCCESS;
}

static int same_state(const anycl_trainer* t, size_t count, const state* before) {
  state now;
  int same = read_state(t, count, &now) && now.steps == before->steps &&
             memcmp(now.weights, before->weights, count * sizeof(float)) == 0;
  free(now.weights);
  return same;
}

static int truncate_file(const char* from, const char* to) {
  char* bytes = NULL;
  long size = 0;
  int ok = 0;
  FILE* in = fopen(from, "rb");
  FILE* out = NULL;
  if (!in || fseek(in, 0, SEEK_END) != 0 || (size = ftell(in)) <= 0 || fseek(in, 0, SEEK_SET) != 0) goto done;
  bytes = (char*)malloc((size_t)size);
  out = fopen(to, "wb");
  ok = bytes && out && fread(bytes, 1, (size_t)size, in) == (size_t)size &&
       fwrite(bytes, 1, (size_t)size / 2, out) == (size_t)size / 2;
done:
  if (in) fclose(in);
  if (out) fclose(out);
  free(bytes);
  return ok;
}

/* The calls of a trained trainer refusing bad input: each status, each message naming the
 * argument, and nothing changed. x and labels hold one batch of `batch` 8x8 samples. */
static int call_errors(anycl_trainer* t, const float* x, int* labels, size_t batch, size_t params, const char* dir) {
  char good[512], cut[512], missing[512];
  float loss = -1, lr = 0, *grad = (float*)malloc(params * sizeof(float));
  size_t value = 0;
  int saved = labels[3];
  sprintf(good, "%s/good.ckpt", dir), sprintf(cut, "%s/cut.ckpt", dir), sprintf(missing, "%s/no/such/dir/x.ckpt", dir);
  if (!grad) return 1;
  if (anycl_trainer_step(NULL, x, labels, batch, &loss) != ANYCL_ERROR_INVALID_ARGUMENT || !says("trainer is NULL")) return 2;
  if (anycl_trainer_step(t, NULL, labels, batch, &loss) != ANYCL_ERROR_INVALID_ARGUMENT || !says("x or labels is NULL"))
    return 3;
  if (anycl_trainer_step(t, x, labels, 0, &loss) != ANYCL_ERROR_INVALID_ARGUMENT || !says("count 0 is not in 1..")) return 4;
  if (anycl_trainer_step(t, x, labels, batch + 1, &loss) != ANYCL_ERROR_INVALID_ARGUMENT) return 5;
  labels[3] = 10;
  if (anycl_trainer_step(t, x, labels, batch, &loss) != ANYCL_ERROR_INVALID_ARGUMENT || !says("label 3 is 10, not in 0..9"))
    return 6;
  labels[3] = -1;
  if (anycl_trainer_gradient(t, x, labels, batch, &loss, grad, params) != ANYCL_ERROR_INVALID_ARGUMENT ||
      !says("label 3 is -1"))
    return 7;
  labels[3] = saved;
  if (loss != -1) return 8; /* no output written by a refused call */
  if (anycl_trainer_gradient(t, x, labels, batch, &loss, grad, params - 1) != ANYCL_ERROR_INVALID_ARGUMENT ||
      !says("grad_count") || !says("parameter count"))
    return 9;
  if (anycl_trainer_gradient(t, x, labels, batch, &loss, NULL, params) != ANYCL_ERROR_INVALID_ARGUMENT || !says("grad is NULL"))
    return 10;
  if (anycl_trainer_get_weights(t, 0, grad, params + 1) != ANYCL_ERROR_INVALID_ARGUMENT || !says("count")) return 11;
  if (anycl_trainer_get_weights(t, 99, grad, params) != ANYCL_ERROR_INVALID_ARGUMENT || !says("replica 99")) return 12;
  if (anycl_trainer_set_weights(t, grad, params - 1) != ANYCL_ERROR_INVALID_ARGUMENT || !says("parameter count")) return 13;
  if (anycl_trainer_set_weights(t, NULL, params) != ANYCL_ERROR_INVALID_ARGUMENT || !says("weights is NULL")) return 14;
  if (anycl_trainer_logits(t, x, batch, NULL) != ANYCL_ERROR_INVALID_ARGUMENT || !says("logits is NULL")) return 15;
  if (anycl_trainer_predict(t, NULL, batch, (int*)grad) != ANYCL_ERROR_INVALID_ARGUMENT || !says("x is NULL")) return 16;
  if (anycl_trainer_running_stats(t, NULL, 3) != ANYCL_ERROR_INVALID_ARGUMENT || !says("stats is NULL")) return 17;
  if (anycl_trainer_parameter_count(t, NULL) != ANYCL_ERROR_INVALID_ARGUMENT || !says("count is NULL")) return 18;
  if (anycl_trainer_steps(NULL, &value) != ANYCL_ERROR_INVALID_ARGUMENT || !says("anycl_trainer_steps: trainer is NULL"))
    return 19;
  if (anycl_trainer_learning_rate(t, NULL) != ANYCL_ERROR_INVALID_ARGUMENT || !says("lr is NULL")) return 20;

  if (anycl_trainer_save_checkpoint(t, NULL) != ANYCL_ERROR_INVALID_ARGUMENT || !says("path is NULL")) return 21;
  if (anycl_trainer_save_checkpoint(t, missing) != ANYCL_ERROR_INVALID_ARGUMENT || !says(missing)) return 22;
  if (anycl_trainer_save_checkpoint(t, good) != ANYCL_SUCCESS || !truncate_file(good, cut)) return 23;
  if (anycl_trainer_load_checkpoint(t, cut) != ANYCL_ERROR_INVALID_ARGUMENT || !says(cut)) return 24;
  if (anycl_trainer_load_checkpoint(t, missing) != ANYCL_ERROR_INVALID_ARGUMENT || !says(missing)) return 25;
  if (anycl_trainer_load_checkpoint(t, NULL) != ANYCL_ERROR_INVALID_ARGUMENT || !says("path is NULL")) return 26;
  if (anycl_trainer_learning_rate(t, &lr) != ANYCL_SUCCESS || !(lr > 0)) return 27;
  free(grad);
  return 0;
}

/* A trainer of the small CNN after two steps refuses every bad call above, and its weights and
 * step count are the same after them; then it still trains. */
int capi_train_call_errors(anycl_runtime* rt, const float* x, const int* labels_in, size_t batch, const char* dir) {
  anycl_train_options o;
  anycl_trainer* t = NULL;
  state before;
  size_t params = 0;
  float loss = 0;
  int* labels = (int*)malloc(batch * sizeof(int));
  int failed = 0;
  anycl_train_options_init(&o);
  o.batch = batch;
  if (!labels || capi_train_create(rt, CAPI_SMALL_CNN, 8, &o, &t)) return 1;
  memcpy(labels, labels_in, batch * sizeof(int));
  if (anycl_trainer_step(t, x, labels, batch, &loss) || anycl_trainer_step(t, x, labels, batch, &loss)) return 2;
  if (anycl_trainer_parameter_count(t, &params) != ANYCL_SUCCESS || !read_state(t, params, &before)) return 3;
  failed = call_errors(t, x, labels, batch, params, dir);
  if (failed) return 10 + failed;
  if (!same_state(t, params, &before) || before.steps != 2) return 4;
  if (anycl_trainer_step(t, x, labels, batch, &loss) != ANYCL_SUCCESS || same_state(t, params, &before)) return 5;
  free(before.weights);
  free(labels);
  anycl_trainer_destroy(t);
  anycl_trainer_destroy(NULL);
  return 0;
}
