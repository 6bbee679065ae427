"""The README's Python blocks run as written (as BaSyx does for its docs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def python_blocks() -> list[str]:
    """The README's complete programs (blocks that run themselves with ``asyncio.run``);
    other Python blocks are fragments shown inside a running program."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    return [b for b in blocks if "asyncio.run(" in b]


def test_readme_python_examples_run(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert blocks, "the README has no Python example"
    for index, block in enumerate(blocks):
        script = tmp_path / f"block{index}.py"
        script.write_text(block)
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONWARNINGS": "error"},
            check=False,
        )
        assert result.returncode == 0, f"README block {index} failed:\n{result.stderr}"
