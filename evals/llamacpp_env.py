"""Create the latency benchmark's own environment with llama-cpp-python, built from PyPI.

    python -m evals.llamacpp_env            # once; compiles llama.cpp (minutes on 2 cores)

llama.cpp is the peer the latency suite measures against, never a dependency of the desk,
so it lives in a separate virtualenv under CHATBOT_HOME (var/llamacpp-venv). The latency
suite runs llama.cpp in that environment's Python, in a subprocess, on the same GGUF file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

from shopcore.settings import get_settings

LLAMA_CPP_REQUIREMENT = "llama-cpp-python==0.3.36"


def venv_dir() -> Path:
    """Where the benchmark's llama.cpp environment lives."""
    return get_settings().home / "llamacpp-venv"


def python_path() -> Path | None:
    """That environment's Python if llama-cpp-python is installed in it, else None."""
    python = venv_dir() / "bin" / "python"
    if not python.exists():
        return None
    probe = subprocess.run([str(python), "-c", "import llama_cpp"], capture_output=True)
    return python if probe.returncode == 0 else None


def create(jobs: int = 2) -> Path:
    """Create the environment and build llama-cpp-python into it; return its Python."""
    folder = venv_dir()
    if not (folder / "bin" / "python").exists():
        venv.create(folder, with_pip=True)
    python = folder / "bin" / "python"
    # Native CPU flags: the peer gets the same chance at this machine's SIMD as torch does.
    # The multimodal library (llava/mtmd) is not benchmarked; skipping it shortens the compile.
    env = {**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": str(jobs),
           "CMAKE_ARGS": "-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF"}
    subprocess.run([str(python), "-m", "pip", "install", "--verbose", "--no-cache-dir",
                    LLAMA_CPP_REQUIREMENT], check=True, env=env)
    return python


def main() -> int:
    existing = python_path()
    if existing:
        print(f"llama-cpp-python already installed: {existing}")
        return 0
    print(f"building {LLAMA_CPP_REQUIREMENT} into {venv_dir()} (several minutes) ...", flush=True)
    print(f"done: {create()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
