"""Create llama.cpp's own environment (xllamacpp, prebuilt wheels), for the latency benchmark
and for serving the model over HTTP (the rig in evals/stack.py, the server tests).

    python -m evals.llamacpp_env            # once; a pip install, no compiling

llama.cpp is the peer the latency suite measures against, never a dependency of the desk,
so it lives in a separate virtualenv under CHATBOT_HOME (var/llamacpp-venv). The latency
suite runs llama.cpp in that environment's Python, in a subprocess, on the same GGUF file.
xllamacpp ships llama.cpp prebuilt for CPUs (and GPUs) with its server's API; building
llama-cpp-python instead took ~15 minutes here, and one build segfaulted while generating.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from contextlib import contextmanager
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


def server_command(python: Path, gguf: Path, port: int, *, host: str = "127.0.0.1", parallel: int = 4,
                   ctx: int = 8192, threads: int | None = None, lora: list[Path] = (), lifetime: float = 3600,
                   detached: bool = False) -> list[str]:
    """The command that serves gguf over HTTP with llama.cpp (evals/llamacpp_server.py)."""
    command = [str(python), str(Path(__file__).with_name("llamacpp_server.py")), "--gguf", str(gguf),
               "--host", host, "--port", str(port), "--parallel", str(parallel), "--ctx", str(ctx),
               "--threads", str(threads or os.cpu_count() or 1), "--lifetime", str(lifetime)]
    for adapter in lora:
        command += ["--lora", str(adapter)]
    return command + (["--detached"] if detached else [])


def wait_until_up(url: str, process: subprocess.Popen | None, timeout: float = 180) -> None:
    """Wait for llama.cpp's /health to say ok (the model is loaded); raise if it died or took too long."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited with {process.returncode} before it was up")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"llama.cpp server at {url} not up after {timeout:.0f} s")


@contextmanager
def serving(gguf: Path, *, parallel: int = 2, ctx: int = 4096, threads: int | None = None,
            lora: list[Path] = (), log: Path | None = None) -> Iterator[str]:
    """llama.cpp serving gguf on a free loopback port for the block; yields its base URL
    (without /v1). The server also stops itself if this process dies."""
    python = python_path()
    if python is None:
        raise RuntimeError("no llama.cpp environment: run `python -m evals.llamacpp_env`")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    output = open(log, "w") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(server_command(python, gguf, port, parallel=parallel, ctx=ctx, threads=threads,
                                              lora=list(lora)), stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log is not None:
            output.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
