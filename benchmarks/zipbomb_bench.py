"""Zip bombs against `kb ingest`: refused, and at what peak memory.

    python benchmarks/zipbomb_bench.py [--work DIR]

Builds two .docx zip bombs, about 0.5 MB and 2 MB on disk, whose ``word/document.xml`` inflates to
480 MB and 2 GB (runs of 1 MB of spaces between empty paragraphs, so the XML stays valid;
``[Content_Types].xml`` and ``_rels`` are kept, so every library takes it for a Word document). They
are built by streaming through ``ZipFile.open(..., "w", force_zip64=True)``, so building costs no memory.
The first stays under the default ``max_unzipped_mb`` (500), so only the ratio limit stops it; the
second is over both, and the size limit, checked first, stops it.

Then, each in a fresh process with default settings and an empty data directory (``KB_DATA_DIR``):
- ``kb ingest`` on a small normal .docx (the base cost of the command: Python, the embedding model,
  the stores), then on each bomb: the exit code, the line that reports the file, the peak RSS;
- :func:`ingest.limits.check_file` alone on each bomb, against importing its module and doing
  nothing: the difference is the cost of the refusal itself.

Peak RSS is each child's own maximum resident set, in MB (:mod:`peak`).
Target (issue 10): both bombs refused with peak RSS under 300 MB.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import peak  # noqa: E402
from fixtures import make_zip_bomb  # noqa: E402

MB = 1024 * 1024
TARGET_MB = 300
BOMBS = {"bomb-0.5MB.docx": 480, "bomb-2MB.docx": 2048}  # MB of spaces in word/document.xml


def normal_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("居住证办理指南", level=0)
    document.add_paragraph("申请人携带本人居民身份证和居住证明，到居住地派出所办理，材料齐全的当场受理。")
    document.save(str(path))
    return path


def kb_command() -> list[str]:
    script = Path(sys.executable).with_name("kb")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "cli"]


def measure(command: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """Run ``command``; its exit code, peak RSS in MB (:mod:`peak`), seconds and combined output."""
    code, rss, seconds, out, err = peak.run(command, env, ROOT)
    return code, rss, seconds, out + err


def report_line(text: str, name: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in reversed(lines) if name in line), lines[-1] if lines else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="folder for the bombs and data directories (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kb-zipbomb-"))
    work.mkdir(parents=True, exist_ok=True)
    template = normal_docx(work / "normal.docx")
    files = [template]
    for name, inflated in BOMBS.items():
        started = time.perf_counter()
        path = make_zip_bomb(work / name, template, inflated)
        declared = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
        print(f"built {name}: {path.stat().st_size / MB:.2f} MB on disk, {declared / MB:.0f} MB declared "
              f"uncompressed, {time.perf_counter() - started:.1f} s")
        files.append(path)

    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("KB_")}  # default settings
    print(f"\n{'run':<40} {'exit':>4} {'peak RSS':>9} {'time':>7}  reported")
    worst = 0.0
    for path in files:
        data = work / f"data-{path.stem}"
        code, rss, seconds, text = measure([*kb_command(), "ingest", str(path)], {**env, "KB_DATA_DIR": str(data)})
        print(f"{'kb ingest ' + path.name:<40} {code:>4} {rss:>6.0f} MB {seconds:>5.1f} s  {report_line(text, path.name)}")
        if path is not template:
            worst = max(worst, rss)
    code, rss, seconds, _ = measure([sys.executable, "-c", "import ingest.limits"], env)
    print(f"{'import ingest.limits (nothing else)':<40} {code:>4} {rss:>6.0f} MB {seconds:>5.1f} s")
    check = "import sys; from pathlib import Path; from ingest.limits import Limits, check_file; check_file(Path(sys.argv[1]), Limits())"
    for path in files[1:]:
        code, rss, seconds, text = measure([sys.executable, "-c", check, str(path)], env)
        print(f"{'check_file ' + path.name:<40} {code:>4} {rss:>6.0f} MB {seconds:>5.1f} s  {report_line(text, 'IngestError')}")
    print(f"\nworst peak RSS of `kb ingest` on a bomb: {worst:.0f} MB (target < {TARGET_MB} MB): "
          + ("met" if worst < TARGET_MB else "NOT met"))
    print(f"files kept in {work}")


if __name__ == "__main__":
    main()
