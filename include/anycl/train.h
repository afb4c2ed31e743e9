/* anycl C API: the data-parallel trainer (anycl::DataParallelTrainer, include/anycl/train.hpp)
 * for callers in C and other languages. Included by anycl.h; docs/c-api.md, "Trainer". */
#ifndef ANYCL_TRAIN_H
#define ANYCL_TRAIN_H

#include <stddef.h>

#include "anycl/anycl.h"
#include "anycl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Model description: a flat list of layers ----
 * A residual block is BEGIN_RESIDUAL, its body's layers, optionally SHORTCUT and the shortcut's
 * layers (none: the identity), then END_RESIDUAL; blocks nest. Kind 0 is no layer, so a
 * zero-filled entry is refused. */
typedef enum anycl_layer_kind {
  ANYCL_LAYER_CONV = 1,        /* channels, kernel, pad, stride, groups, relu */
  ANYCL_LAYER_MAX_POOL,        /* size */
  ANYCL_LAYER_AVG_POOL,        /* size */
  ANYCL_LAYER_GLOBAL_AVG_POOL, /* no fields */
  ANYCL_LAYER_DENSE,           /* units, relu */
  ANYCL_LAYER_BATCH_NORM,      /* momentum, eps, relu */
  ANYCL_LAYER_DROPOUT,         /* rate */
  ANYCL_LAYER_BEGIN_RESIDUAL,  /* relu: after the sum of body and shortcut */
  ANYCL_LAYER_SHORTCUT,        /* no fields: the body ends, the shortcut begins */
  ANYCL_LAYER_END_RESIDUAL     /* no fields */
} anycl_layer_kind;

/* The fields of every kind; a kind reads only its own (listed above). */
typedef struct anycl_layer {
  anycl_layer_kind kind;
  int relu;
  size_t channels, kernel, pad, stride, groups; /* CONV */
  size_t size;                                  /* MAX_POOL, AVG_POOL: the window and stride */
  size_t units;                                 /* DENSE */
  float momentum, eps;                          /* BATCH_NORM */
  float rate;                                   /* DROPOUT */
} anycl_layer;

/* `kind` with the C++ layer's defaults (conv 3x3, pad 1, stride 1, groups 1, ReLU; pool 2;
 * dense without ReLU; batch norm momentum 0.1, eps 1e-5; dropout 0.5; a residual block with
 * ReLU); channels and units are 1. Any int may be passed as kind: the fields are filled and the
 * kind is kept, for anycl_trainer_create to refuse. */
ANYCL_API void anycl_layer_init(anycl_layer* layer, anycl_layer_kind kind);

/* Versioned by struct_size (anycl_model_desc_init sets it and layer_size); layer_size is the
 * stride of `layers` in bytes, so a later anycl_layer may grow. */
typedef struct anycl_model_desc {
  size_t struct_size;
  size_t channels, height, width; /* of one input sample, NCHW float32 */
  const anycl_layer* layers;
  size_t layer_count;
  size_t layer_size; /* sizeof(anycl_layer) */
} anycl_model_desc;
ANYCL_API void anycl_model_desc_init(anycl_model_desc* model);

/* ---- Training options (anycl::TrainOptions) ----
 * Versioned by struct_size as anycl_runtime_options: anycl_train_options_init sets it and the
 * C++ defaults; a later anycl adds fields at the end and gives their defaults to a smaller
 * struct. */
typedef enum anycl_allreduce {
  ANYCL_ALLREDUCE_AUTO = 0,  /* on device buffers when every device shares one context */
  ANYCL_ALLREDUCE_ON_DEVICE, /* ANYCL_ERROR_UNSUPPORTED unless every device shares one context */
  ANYCL_ALLREDUCE_HOST_STAGED
} anycl_allreduce;
typedef enum anycl_optimizer {
  ANYCL_OPTIMIZER_SGD = 0, /* with momentum and weight decay (PyTorch's SGD) */
  ANYCL_OPTIMIZER_ADAM,
  ANYCL_OPTIMIZER_ADAMW /* decoupled weight decay */
} anycl_optimizer;
typedef enum anycl_lr_schedule {
  ANYCL_LR_CONSTANT = 0,
  ANYCL_LR_STEP,  /* lr * gamma^(floor(step / step_size)) */
  ANYCL_LR_COSINE /* from lr down to min_lr over total_steps */
} anycl_lr_schedule;
typedef struct anycl_train_options {
  size_t struct_size;
  size_t batch; /* the most samples per step */
  float lr, momentum;
  unsigned seed; /* weight initialisation and dropout */
  anycl_allreduce allreduce;
  anycl_optimizer optimizer;
  float weight_decay, beta1, beta2, eps;
  anycl_lr_schedule schedule;
  size_t step_size; /* ANYCL_LR_STEP */
  float gamma;      /* ANYCL_LR_STEP */
  size_t total_steps; /* ANYCL_LR_COSINE */
  float min_lr;       /* ANYCL_LR_COSINE */
  size_t stages;        /* pipeline stages per replica (model-parallel; docs/training.md) */
  size_t micro_batches; /* micro-batches a step flows through the stages in */
} anycl_train_options;
ANYCL_API void anycl_train_options_init(anycl_train_options* options);

/* ---- The trainer ----
 * It keeps a reference to the runtime, which must outlive it. One thread at a time per trainer.
 * A failed call changes nothing: not the weights, the optimizer state, the step count, nor any
 * output. */
typedef struct anycl_trainer anycl_trainer;
/* options NULL: the defaults of anycl_train_options_init. */
ANYCL_API anycl_status anycl_trainer_create(anycl_runtime* rt, const anycl_model_desc* model,
                                            const anycl_train_options* options,
                                            anycl_trainer** out);
ANYCL_API void anycl_trainer_destroy(anycl_trainer* trainer);

/* One optimizer step on `count` (1..batch) samples: x is count * channels * height * width
 * floats, labels are in [0, classes). *loss (may be NULL) gets the mean loss before the update. */
ANYCL_API anycl_status anycl_trainer_step(anycl_trainer* trainer, const float* x, const int* labels,
                                          size_t count, float* loss);
/* The mean loss and its gradient (grad_count = parameter count, in the order of the weights)
 * without updating anything. */
ANYCL_API anycl_status anycl_trainer_gradient(anycl_trainer* trainer, const float* x,
                                              const int* labels, size_t count, float* loss,
                                              float* grad, size_t grad_count);
/* Evaluation mode (running batch statistics, no dropout), any count: logits gets
 * count * classes floats, classes count ints. */
ANYCL_API anycl_status anycl_trainer_logits(anycl_trainer* trainer, const float* x, size_t count,
                                            float* logits);
ANYCL_API anycl_status anycl_trainer_predict(anycl_trainer* trainer, const float* x, size_t count,
                                             int* classes);

/* Every parameter (count = the parameter count) of `replica`'s device; the order is
 * anycl::DataParallelTrainer::weights()'s. set_weights sets every replica and clears the
 * optimizer state. */
ANYCL_API anycl_status anycl_trainer_get_weights(const anycl_trainer* trainer, size_t replica,
                                                 float* weights, size_t count);
ANYCL_API anycl_status anycl_trainer_set_weights(anycl_trainer* trainer, const float* weights,
                                                 size_t count);
/* Every batch-norm layer's running mean then running variance (count =
 * anycl_trainer_running_stats_count). */
ANYCL_API anycl_status anycl_trainer_running_stats(const anycl_trainer* trainer, float* stats,
                                                   size_t count);
ANYCL_API anycl_status anycl_trainer_running_stats_count(const anycl_trainer* trainer,
                                                         size_t* count);
ANYCL_API anycl_status anycl_trainer_parameter_count(const anycl_trainer* trainer, size_t* count);
ANYCL_API anycl_status anycl_trainer_classes(const anycl_trainer* trainer, size_t* classes);
ANYCL_API anycl_status anycl_trainer_replicas(const anycl_trainer* trainer, size_t* replicas);
ANYCL_API anycl_status anycl_trainer_steps(const anycl_trainer* trainer, size_t* steps);
/* The schedule's learning rate for the next step. */
ANYCL_API anycl_status anycl_trainer_learning_rate(const anycl_trainer* trainer, float* lr);

/* A checkpoint (weights, optimizer state, running statistics, step count; versioned, CRC-32,
 * written atomically); loading it into a trainer of the same model and options continues
 * bitwise as if it had never stopped. */
ANYCL_API anycl_status anycl_trainer_save_checkpoint(const anycl_trainer* trainer, const char* path);
ANYCL_API anycl_status anycl_trainer_load_checkpoint(anycl_trainer* trainer, const char* path);

#ifdef __cplusplus
}
#endif

#endif /* ANYCL_TRAIN_H */
