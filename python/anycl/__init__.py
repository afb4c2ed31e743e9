"""anycl: portable OpenCL GEMM and 2-D convolution for NumPy (and PyTorch, see anycl.torch).

    import anycl, numpy as np
    a = np.random.rand(256, 128).astype(np.float32); b = np.random.rand(128, 64).astype(np.float32)
    c = anycl.gemm(a, b)                       # on the default runtime (ANYCL_DEVICE or the best device)
    rt = anycl.Runtime("cpu"); y = anycl.conv2d(x, w, stride=2, padding=1, runtime=rt)

Calls release the GIL while the devices work. Failures raise anycl.Error subclasses carrying
`status` and `message`; bad arguments raise anycl.InvalidArgumentError (also a ValueError) naming
the argument, and nothing is written.
"""
import atexit as _atexit

from ._errors import (BuildError, Error, InternalError, InvalidArgumentError, KernelNotFoundError,
                      NoDeviceError, OpenCLError, OutOfMemoryError, UnsupportedError)
from ._anycl import (Array, AvgPoolLayer, BatchNormLayer, ConvLayer, DataParallelTrainer, DenseLayer,
                     DeviceInfo, DropoutLayer, GlobalAvgPoolLayer, MaxPoolLayer, ModelSpec, ResidualBlock,
                     Runtime, conv2d, conv2d_backward_data, conv2d_backward_weights, default_runtime,
                     devices, from_dlpack, gemm, version)
from . import _anycl

if hasattr(_anycl, "MpiProcessGroup"):  # built with ANYCL_WITH_MPI
    from ._anycl import MpiProcessGroup  # noqa: F401

__version__ = version()
Trainer = DataParallelTrainer  # every mode: data-, model- or hybrid-parallel (stages=, micro_batches=)

# The default runtime is released before the interpreter tears down the modules it uses.
_atexit.register(_anycl._close_default_runtime)

__all__ = ["Array", "AvgPoolLayer", "BatchNormLayer", "BuildError", "ConvLayer", "DataParallelTrainer",
           "DenseLayer", "DeviceInfo", "DropoutLayer", "Error", "GlobalAvgPoolLayer", "InternalError",
           "InvalidArgumentError", "KernelNotFoundError", "MaxPoolLayer", "ModelSpec", "NoDeviceError",
           "OpenCLError", "OutOfMemoryError", "ResidualBlock", "Runtime", "Trainer",
           "UnsupportedError", "conv2d", "conv2d_backward_data", "conv2d_backward_weights",
           "default_runtime", "devices", "from_dlpack", "gemm", "version"]
