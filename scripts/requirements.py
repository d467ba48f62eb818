"""Print the project's requirements (``pyproject.toml``: dependencies and the ``dev`` extra), one per line,
split so that CI can compile llama-cpp-python while pip installs the rest.

    python scripts/requirements.py llama    # the llama-cpp-python requirement, without its extras
    python scripts/requirements.py others   # every other requirement
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
COMPILED = "llama-cpp-python"


def requirements() -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["dev"]]


def name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].strip().lower()


def main(part: str) -> None:
    if part == "llama":
        chosen = [re.sub(r"\[[^]]*\]", "", r) for r in requirements() if name(r) == COMPILED]
    elif part == "others":
        chosen = [r for r in requirements() if name(r) != COMPILED]
    else:
        sys.exit("用法：python scripts/requirements.py llama|others")
    print("\n".join(chosen))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
