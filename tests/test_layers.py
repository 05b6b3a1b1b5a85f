"""The import contract of pyproject.toml ([tool.importlinter]): shopcore < knowledge <
chatbot < finetune | evals, each layer importing only the ones below it."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_layers_point_one_way():
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "lint-imports is missing: pip install -e '.[dev]'"
    done = subprocess.run([command, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    # On a broken contract lint-imports names each upward import, file and line.
    assert done.returncode == 0, done.stdout + done.stderr
