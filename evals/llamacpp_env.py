"""Create the latency benchmark's own environment with llama.cpp (xllamacpp, prebuilt wheels).

    python -m evals.llamacpp_env            # once; a pip install, no compiling

llama.cpp is the peer the latency suite measures against, never a dependency of the desk,
so it lives in a separate virtualenv under CHATBOT_HOME (var/llamacpp-venv). The latency
suite runs llama.cpp in that environment's Python, in a subprocess, on the same GGUF file.
xllamacpp ships llama.cpp prebuilt for CPUs (and GPUs) with its server's API; building
llama-cpp-python instead took ~15 minutes here, and one build segfaulted while generating.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from shopcore.settings import get_settings

LLAMA_CPP_REQUIREMENT = "xllamacpp==2026.10.11549"


def venv_dir() -> Path:
    """Where the benchmark's llama.cpp environment lives."""
    return get_settings().home / "llamacpp-venv"


def python_path() -> Path | None:
    """That environment's Python if xllamacpp is installed in it, else None."""
    python = venv_dir() / "bin" / "python"
    if not python.exists():
        return None
    probe = subprocess.run([str(python), "-c", "import xllamacpp"], capture_output=True)
    return python if probe.returncode == 0 else None


def create() -> Path:
    """Create the environment and install xllamacpp into it; return its Python."""
    folder = venv_dir()
    if not (folder / "bin" / "python").exists():
        venv.create(folder, with_pip=True)
    python = folder / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", LLAMA_CPP_REQUIREMENT],
                   check=True)
    return python


def main() -> int:
    existing = python_path()
    if existing:
        print(f"xllamacpp already installed: {existing}")
        return 0
    print(f"installing {LLAMA_CPP_REQUIREMENT} into {venv_dir()} ...", flush=True)
    print(f"done: {create()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
