"""Optical character recognition for scans and photos, offline, with RapidOCR (its models ship in the wheel).

RapidOCR is an optional extra (``pip install -e '.[ocr]'``); :func:`require` raises an
:class:`~kb.errors.IngestError` saying how to install it. Recognised boxes are put back into
lines: boxes whose vertical extents overlap are one line, read left to right; boxes set further apart
than a character's height (the cells of a table row, the boxes of a flowchart) are kept apart by a ；,
so that words of different cells do not read as one phrase.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

from kb.errors import IngestError

MIN_SCORE = 0.5


@dataclass(frozen=True)
class Box:
    text: str
    left: float
    right: float
    top: float
    bottom: float
    score: float


def available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def require(path: str, what: str) -> None:
    """Raise a clear error for ``path`` when OCR is not installed; ``what`` says why it is needed."""
    if not available():
        raise IngestError(path, f"{what}，需要文字识别（OCR）。请安装 OCR 扩展：pip install -e '.[ocr]'，然后重新导入。")


@cache
def _engine():
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def boxes(image: bytes) -> list[Box]:
    """The text boxes RapidOCR finds in an encoded image (PNG, JPEG …), low-confidence ones dropped."""
    import numpy as np
    from PIL import Image

    picture = Image.open(io.BytesIO(image)).convert("RGB")
    found, _ = _engine()(np.asarray(picture))
    out = []
    for corners, text, score in found or []:
        xs, ys = [point[0] for point in corners], [point[1] for point in corners]
        if float(score) >= MIN_SCORE and text.strip():
            out.append(Box(text.strip(), min(xs), max(xs), min(ys), max(ys), float(score)))
    return out


def lines(image: bytes) -> list[str]:
    """The image's text as lines in reading order (top to bottom, then left to right)."""
    return rows(boxes(image))


def rows(found: list[Box]) -> list[str]:
    """Recognised boxes as lines in reading order (top to bottom, then left to right)."""
    grouped: list[list[Box]] = []
    for box in sorted(found, key=lambda b: (b.top, b.left)):
        row = grouped[-1] if grouped else None
        if row and box.top < min(b.bottom for b in row) - 0.4 * (box.bottom - box.top):
            row.append(box)
        else:
            grouped.append([box])
    return [_joined(sorted(row, key=lambda b: b.left)) for row in grouped]


def _joined(row: list[Box]) -> str:
    """A row's boxes as one line, a ；between two boxes further apart than a character's height."""
    text = row[0].text
    for before, box in zip(row, row[1:]):
        apart = box.left - before.right > max(before.bottom - before.top, box.bottom - box.top)
        text += ("；" if apart and not before.text.endswith(("；", "。", "：")) else "") + box.text
    return text
