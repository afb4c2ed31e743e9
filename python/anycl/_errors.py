"""The exceptions anycl raises: anycl.Error and one subclass per anycl status."""


class Error(RuntimeError):
    """A failed anycl call. `status` is the anycl status code, `message` the library's text
    (naming the call, the argument or device, and the OpenCL error)."""

    status_name = "ANYCL_ERROR"

    def __init__(self, status: int, message: str, build_log: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.build_log = build_log


class InvalidArgumentError(Error, ValueError):
    status_name = "ANYCL_ERROR_INVALID_ARGUMENT"


class NoDeviceError(Error):
    status_name = "ANYCL_ERROR_NO_DEVICE"


class UnsupportedError(Error):
    status_name = "ANYCL_ERROR_UNSUPPORTED"


class OutOfMemoryError(Error, MemoryError):
    status_name = "ANYCL_ERROR_OUT_OF_MEMORY"


class BuildError(Error):
    """A kernel build failure; build_log holds the compiler's output."""
    status_name = "ANYCL_ERROR_BUILD_FAILED"


class KernelNotFoundError(Error):
    status_name = "ANYCL_ERROR_KERNEL_NOT_FOUND"


class OpenCLError(Error):
    status_name = "ANYCL_ERROR_OPENCL"


class InternalError(Error):
    status_name = "ANYCL_ERROR_INTERNAL"


# In the order of anycl_status (include/anycl/anycl.h), from 1.
_BY_STATUS = [InvalidArgumentError, NoDeviceError, UnsupportedError, OutOfMemoryError, BuildError,
              KernelNotFoundError, OpenCLError, InternalError]


def make_error(status: int, message: str, build_log: str = "") -> Error:
    """The exception for an anycl status (called by the extension)."""
    cls = _BY_STATUS[status - 1] if 1 <= status <= len(_BY_STATUS) else Error
    return cls(status, message, build_log)
