# Type hints for the anycl package (the functions are implemented in the _anycl extension).
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

from ._errors import (BuildError as BuildError, Error as Error, InternalError as InternalError,
                      InvalidArgumentError as InvalidArgumentError,
                      KernelNotFoundError as KernelNotFoundError, NoDeviceError as NoDeviceError,
                      OpenCLError as OpenCLError, OutOfMemoryError as OutOfMemoryError,
                      UnsupportedError as UnsupportedError)

__version__: str
FloatArray = Union[npt.NDArray[np.float32], npt.NDArray[np.float64]]
IntOrPair = Union[int, Tuple[int, int], Sequence[int]]
Tensor32 = Union[npt.NDArray[np.float32], "Array"]

class DeviceInfo:
    id: str
    name: str
    vendor: str
    version: str
    driver_version: str
    opencl_c_version: str
    platform_name: str
    platform_vendor: str
    platform_version: str
    type: str
    compute_units: int
    clock_mhz: int
    global_mem: int
    local_mem: int
    max_alloc: int
    global_mem_cache: int
    global_mem_cacheline: int
    max_work_group_size: int
    mem_base_addr_align_bytes: int
    fp64: bool
    fp16: bool
    unified_memory: bool
    compiler_available: bool
    vector_width_float: int
    vector_width_double: int
    vector_width_half: int
    max_sub_devices: int
    partition_types: List[str]
    is_sub_device: bool
    partition_index: int
    partition_count: int

class Runtime:
    def __init__(self, spec: str = "") -> None: ...
    @property
    def devices(self) -> List[DeviceInfo]: ...
    @property
    def device_count(self) -> int: ...
    @property
    def kernel_dir(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def finish(self) -> None: ...
    def release_workspace(self) -> None: ...
    def __enter__(self) -> "Runtime": ...
    def __exit__(self, *args: Any) -> None: ...

def devices() -> List[DeviceInfo]: ...
def version() -> str: ...
def default_runtime() -> Runtime: ...

@overload
def gemm(a: FloatArray, b: FloatArray, c: Optional[FloatArray] = None, *, alpha: float = 1.0, beta: float = 0.0,
         trans_a: bool = False, trans_b: bool = False, runtime: Optional[Runtime] = None) -> FloatArray: ...
@overload
def gemm(a: "Array", b: "Array", c: Optional["Array"] = None, *, alpha: float = 1.0, beta: float = 0.0,
         trans_a: bool = False, trans_b: bool = False, runtime: Optional[Runtime] = None) -> "Array": ...

# The convolutions take NumPy float32 arrays (and return them) or anycl.Arrays (and return Arrays).
def conv2d(x: Tensor32, w: Tensor32, bias: Optional[Tensor32] = None, *,
           stride: IntOrPair = 1, padding: Union[int, Sequence[int]] = 0, dilation: IntOrPair = 1, groups: int = 1,
           relu: bool = False, algo: str = "auto", runtime: Optional[Runtime] = None) -> Tensor32: ...

def conv2d_backward_data(dy: Tensor32, w: Tensor32, x_shape: Sequence[int], *,
                         stride: IntOrPair = 1, padding: Union[int, Sequence[int]] = 0, dilation: IntOrPair = 1,
                         groups: int = 1, algo: str = "auto",
                         runtime: Optional[Runtime] = None) -> Tensor32: ...

def conv2d_backward_weights(x: Tensor32, dy: Tensor32, w_shape: Sequence[int], *,
                            bias_grad: bool = ..., stride: IntOrPair = 1, padding: Union[int, Sequence[int]] = 0,
                            dilation: IntOrPair = 1, groups: int = 1, algo: str = "auto",
                            runtime: Optional[Runtime] = None) -> Any: ...

class Array:
    def __init__(self, data: FloatArray, runtime: Optional[Runtime] = None, device: int = 0) -> None: ...
    def numpy(self) -> FloatArray: ...
    def __dlpack__(self, *, stream: None = None) -> Any: ...
    def __dlpack_device__(self) -> Tuple[int, int]: ...
    @property
    def shape(self) -> Tuple[int, ...]: ...
    @property
    def dtype(self) -> np.dtype: ...
    @property
    def device(self) -> int: ...
    @property
    def runtime(self) -> Runtime: ...
    @property
    def zero_copy(self) -> bool: ...
    @property
    def is_view(self) -> bool: ...

def from_dlpack(tensor: Any, runtime: Optional[Runtime] = None, device: int = 0) -> Array: ...

class ConvLayer:
    channels: int
    kernel: int
    pad: int
    stride: int
    groups: int
    relu: bool
    def __init__(self, channels: int, kernel: int = 3, pad: int = 1, stride: int = 1, groups: int = 1,
                 relu: bool = True) -> None: ...

class MaxPoolLayer:
    size: int
    def __init__(self, size: int = 2) -> None: ...

class AvgPoolLayer:
    size: int
    def __init__(self, size: int = 2) -> None: ...

class GlobalAvgPoolLayer:
    def __init__(self) -> None: ...

class BatchNormLayer:
    momentum: float
    eps: float
    relu: bool
    def __init__(self, momentum: float = 0.1, eps: float = 1e-5, relu: bool = False) -> None: ...

class DropoutLayer:
    rate: float
    def __init__(self, rate: float = 0.5) -> None: ...

class DenseLayer:
    units: int
    relu: bool
    def __init__(self, units: int, relu: bool = False) -> None: ...

Layer = Union[ConvLayer, MaxPoolLayer, AvgPoolLayer, GlobalAvgPoolLayer, BatchNormLayer, DropoutLayer, DenseLayer,
              "ResidualBlock"]

class ResidualBlock:
    body: List[Layer]
    shortcut: List[Layer]
    relu: bool
    def __init__(self, body: Sequence[Layer], shortcut: Sequence[Layer] = ..., relu: bool = True) -> None: ...

class ModelSpec:
    channels: int
    height: int
    width: int
    layers: List[Layer]
    def __init__(self, channels: int, height: int, width: int, layers: Sequence[Layer]) -> None: ...

class DataParallelTrainer:
    # Options by keyword; `defaults` lists them (one per TrainOptions field).
    defaults: Dict[str, Any]
    def __init__(self, runtime: Runtime, model: ModelSpec, *, batch: int = 32, lr: float = 0.05,
                 momentum: float = 0.9, seed: int = 1, allreduce: Literal["auto", "on_device", "host_staged"] = "auto",
                 processes: Optional["MpiProcessGroup"] = None,
                 optimizer: Literal["sgd", "adam", "adamw"] = "sgd", weight_decay: float = 0.0,
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 schedule: Literal["constant", "step", "cosine"] = "constant", step_size: int = 1,
                 gamma: float = 0.1, total_steps: int = 1, min_lr: float = 0.0, stages: int = 1,
                 micro_batches: int = 1) -> None: ...
    @property
    def options(self) -> Dict[str, Any]: ...
    @property
    def steps(self) -> int: ...
    def save_checkpoint(self, path: str) -> None: ...
    def load_checkpoint(self, path: str) -> None: ...
    def step(self, x: npt.NDArray[np.float32], labels: npt.NDArray[np.integer]) -> float: ...
    def gradient(self, x: npt.NDArray[np.float32],
                 labels: npt.NDArray[np.integer]) -> Tuple[float, npt.NDArray[np.float32]]: ...
    def logits(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
    def predict(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.int32]: ...
    def weights(self, replica: int = 0) -> npt.NDArray[np.float32]: ...
    def set_weights(self, weights: npt.NDArray[np.float32]) -> None: ...
    def running_stats(self) -> npt.NDArray[np.float32]: ...
    @property
    def learning_rate(self) -> float: ...
    @property
    def parameter_count(self) -> int: ...
    @property
    def classes(self) -> int: ...
    @property
    def replicas(self) -> int: ...
    @property
    def allreduce_on_device(self) -> bool: ...
    @property
    def stage_bounds(self) -> List[int]: ...
    def parameter_bytes(self, device: int) -> int: ...

Trainer = DataParallelTrainer

# Only in a build with ANYCL_WITH_MPI (libanycl_mpi); pass it as DataParallelTrainer(processes=...).
class MpiProcessGroup:
    def __init__(self, timeout_seconds: float = 25.0) -> None: ...
    @property
    def rank(self) -> int: ...
    @property
    def size(self) -> int: ...
    def allreduce_sum(self, data: npt.NDArray[np.float32]) -> None: ...
