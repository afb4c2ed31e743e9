# ctest -P script: `anycl-bench stages --quick` writes its JSON, and the scripts beside anycl-bench
# read it: perf_table.py prints the stages table with the packed GEMM kernel, compare_runs.py
# compares the document with itself (every ratio 1.000x); then net, train, conv and
# compare_kernels.py (anycl-bench run's profile, variant against variant).
foreach(var BENCH PYTHON SCRIPTS WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "bench_scripts.cmake needs -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run out_var)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

function(expect text pattern)
  if(NOT text MATCHES "${pattern}")
    message(FATAL_ERROR "expected '${pattern}' in:\n${text}")
  endif()
endfunction()

set(doc ${WORK_DIR}/stages.json)
run(out ${BENCH} stages --quick --reps 5 --json --out ${doc})
run(table ${PYTHON} ${SCRIPTS}/perf_table.py ${doc})
message("${table}")
expect("${table}" "\\| CPU \\| ")
expect("${table}" "\\*\\*Stages\\*\\*")
expect("${table}" "\\| +\\| `gemm_packed` \\| [0-9.]+ \\| [0-9]+% \\|")
run(compared ${PYTHON} ${SCRIPTS}/compare_runs.py --old ${doc} --new ${doc})
message("${compared}")
expect("${compared}" "\\| stages: sgemm 256x256x256 \\| [0-9.]+ \\| [0-9.]+ \\| 1.000x \\| 0 of 1 \\|")

# `anycl-bench net` on the last stage of ResNet-18 at batch 1, one timed run each: every side
# (anycl, oneDNN in both layouts, PyTorch through net_torch.py) has a total for every pass, and
# each total is the layers' count x median.
set(net ${WORK_DIR}/net.json)
run(out ${BENCH} net resnet18 --batch 1 --reps 1 --only layer4 --json --out ${net})
run(table ${PYTHON} ${SCRIPTS}/perf_table.py ${net})
message("${table}")
expect("${table}" "\\*\\*Whole network\\*\\*")
foreach(pass forward backward-data backward-weights "all three")
  expect("${table}" "\\| resnet18 \\| 1 \\| ${pass} \\| [0-9.]+ \\| [0-9.]+ \\| [0-9.]+ \\| [0-9.]+ \\| [0-9.]+x \\|")
endforeach()
run(sums ${PYTHON} -c [=[
import json, sys
run = json.load(open(sys.argv[1]))["net"][0]
assert [l["layer"] for l in run["layers"]] == ["layer4 3x3 s2", "layer4 3x3", "layer4 1x1 s2 shortcut"], run["layers"]
for p in ("forward", "backward_data", "backward_weights"):
    for side in ("anycl", "onednn_nchw", "onednn_blocked", "pytorch"):
        want = sum(l["count"] * l[p][side]["median_ms"] for l in run["layers"])
        got = run["totals_ms"][p][side]
        assert abs(got - want) <= 1e-9 * want, (p, side, got, want)
print("net totals ok")
]=] ${net})
expect("${sums}" "net totals ok")

# `anycl-bench train` on the CNN at batch 8, one round with the kernel profile: both sides have
# images/s, the ratio is theirs, and the profile counts the step's launches and device time.
set(train ${WORK_DIR}/train.json)
run(out ${BENCH} train --model cnn --batch 8 --rounds 1 --profile --json --out ${train})
run(checked ${PYTHON} -c [=[
import json, sys
run = json.load(open(sys.argv[1]))["train"]
assert [(r["model"], r["batch"]) for r in run] == [("cnn", 8)], run
r = run[0]
ours, theirs = r["anycl"]["images_per_second"], r["pytorch"]["images_per_second"]
assert ours > 0 and theirs > 0, r
assert abs(r["anycl_vs_pytorch"] - ours / theirs) <= 1e-9 * ours / theirs, r
p = r["profile"]
assert p["launches_per_step"] >= 10 and p["kernel_ms_per_step"] > 0, p
assert abs(sum(k["launches_per_step"] for k in p["kernels"]) - p["launches_per_step"]) < 1e-9, p
print("train ok")
]=] ${train})
expect("${checked}" "train ok")

# `anycl-bench conv` on one 3x3 layer, one timed run: perf_table.py's every-pass table has its
# three passes against oneDNN blocked and the backward-weights / forward ratio.
set(conv ${WORK_DIR}/conv.json)
run(out ${BENCH} conv --reps 1 --only "128ch 28x28 -> 128, 3x3 p1" --json --out ${conv})
run(table ${PYTHON} ${SCRIPTS}/perf_table.py ${conv})
message("${table}")
set(pair "[0-9.]+ / [0-9.]+ \\| [0-9.]+x")
expect("${table}" "\\*\\*Convolution, every pass\\*\\*")
expect("${table}" "\\| 128ch 28x28 -> 128, 3x3 p1 \\| ${pair} \\| ${pair} \\| ${pair} \\| [0-9.]+x \\|")

# compare_kernels.py: two variants of the same kernels (one through ANYCL_KERNEL_PATH), one round
# of one timed call: a row per kernel and the wall row, each with both variants and the ratio.
run(compared ${PYTHON} ${SCRIPTS}/compare_kernels.py --bench ${BENCH} --rounds 1 --repeats 1 --variant shipped
    --variant copy:ANYCL_KERNEL_PATH=${SCRIPTS}/../../cl_kernels -- gemm:s:RNN:m64n64k64)
message("${compared}")
expect("${compared}" "\\| gemm:s:RNN:m64n64k64 \\| gemm_direct \\| [0-9.]+ \\| [0-9.]+ \\| [0-9.]+x / [0-9.]+x \\|")
expect("${compared}" "\\| gemm:s:RNN:m64n64k64 \\| wall \\| [0-9.]+ \\| [0-9.]+ \\| [0-9.]+x / [0-9.]+x \\|")
