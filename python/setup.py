"""Builds the anycl extension with the project's CMake (target anycl_python, in the repository's
build/ folder, or ANYCL_BUILD_DIR) and packs it with libanycl.so and the OpenCL kernels:

    anycl/_anycl.*.so  anycl/lib/libanycl.so.0  anycl/share/anycl/cl_kernels/

libanycl finds its kernels at <its folder>/../share/anycl/cl_kernels, so the installed package
needs nothing from the source tree. ANYCL_CMAKE_ARGS adds configure options."""
import glob
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = Path(os.environ.get("ANYCL_BUILD_DIR", REPO / "build")).resolve()
        configure = ["cmake", "-S", str(REPO), "-B", str(build), "-DANYCL_PYTHON=ON",
                     "-DPython3_EXECUTABLE=" + os.path.realpath(os.sys.executable)]
        if not (build / "CMakeCache.txt").exists():
            configure.append("-DCMAKE_BUILD_TYPE=Release")
        subprocess.check_call(configure + shlex.split(os.environ.get("ANYCL_CMAKE_ARGS", "")))
        subprocess.check_call(["cmake", "--build", str(build), "--target", "anycl_python",
                               "-j", str(os.cpu_count() or 1)])
        built = glob.glob(str(build / "python" / "anycl" / "_anycl*.so"))
        if len(built) != 1:
            raise RuntimeError(f"anycl: expected one _anycl*.so in {build}/python/anycl, found {built}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[0], target)
        lib = target.parent / "lib"
        lib.mkdir(exist_ok=True)
        # Under their SONAMEs (libanycl.so.<major>), the names the extension asks the loader for;
        # libanycl_mpi only where the build has MPI (the extension then links it).
        for name, required in (("libanycl", True), ("libanycl_mpi", False)):
            soname = [p for p in build.glob(name + ".so.*") if re.fullmatch(re.escape(name) + r"\.so\.\d+", p.name)]
            if len(soname) > 1 or (required and not soname):
                raise RuntimeError(f"anycl: expected one {name}.so.<major> in {build}, found {soname}")
            for p in soname:
                shutil.copy2(os.path.realpath(p), lib / p.name)
        kernels = target.parent / "share" / "anycl" / "cl_kernels"
        shutil.rmtree(kernels, ignore_errors=True)
        shutil.copytree(REPO / "cl_kernels", kernels)


setup(
    packages=["anycl"],
    package_data={"anycl": ["*.pyi", "py.typed"]},
    ext_modules=[Extension("anycl._anycl", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
