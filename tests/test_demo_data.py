"""The shipped data files are exactly what their generators and checkers say they are."""

import filecmp
import subprocess
import sys

from shopcore.settings import REPO_ROOT
from knowledge.demo_shop.__main__ import generate

DEMO = REPO_ROOT / "knowledge" / "demo"


def test_demo_shop_regenerates_byte_for_byte(tmp_path):
    generate(tmp_path)
    # The shipped adapter is trained, not generated: knowledge/demo/adapters is checked by its own tests.
    generated = [DEMO / "docs", DEMO / "store"]
    shipped = sorted(p.relative_to(DEMO) for folder in generated for p in folder.rglob("*") if p.is_file())
    assert shipped == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert all(filecmp.cmp(DEMO / p, tmp_path / p, shallow=False) for p in shipped)


def test_labeled_sets_pass_their_checks():
    for script in ("evals/data/check_dev_questions.py", "evals/data/check_risk_data.py"):
        done = subprocess.run([sys.executable, script], cwd=REPO_ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
