"""Pictures of text (photos, scans saved as .jpg/.png/.bmp/.tif) read by OCR, and the blocks that
recognised lines make, which scanned PDF pages use too.

OCR gives lines, not paragraphs: a line at least ``WRAPPED_SHARE`` as long as the longest one, when
that is a full line of prose (``FULL_LINE`` characters or more), was wrapped and goes on in the next
line unless it ends a sentence or the next line is a heading; shorter lines (list items, headings,
captions) stay apart.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from kb.errors import IngestError

from . import ocr
from .blocks import Block, is_heading, text_blocks
from .limits import Limits, too_many
from .loaded import Loaded, RawDocument

WRAPPED_SHARE = 0.8
FULL_LINE = 20
_CLOSED = re.compile(r"[。！？；：!?;:][”’」』）)]*$")
_WIDE = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_WIDE_GAP = re.compile(rf"(?<=[{_WIDE}])\s+(?=[{_WIDE}])")
_DOC_YEAR = re.compile(r"(?<=[\u4e00-\u9fff])[〔\[【(（]\s*((?:19|20)\d\d)\s*[〕\]】)）](?=\s*第?\s*\d+\s*号)")


def load_image(path: Path, limits: Limits = Limits()) -> Loaded:
    """The text in a picture (every page of a multi-page TIFF, at most ``limits.max_pages``), as one
    document read by OCR. A picture with more pixels than Pillow's ``Image.MAX_IMAGE_PIXELS`` allows
    (a decompression bomb) is refused before it is decoded."""
    ocr.require(str(path), "读取图片中的文字")
    blocks: list[Block] = []
    for image in _frames(path, limits.max_pages):
        blocks += ocr_blocks([tidy(line) for line in ocr.lines(image)])
    if not blocks:
        raise IngestError(str(path), "图片中没有识别出文字（可能太模糊、太小或不含文字）。请换一张更清晰的图片，或直接导入原始文档。")
    return Loaded(documents=[RawDocument(blocks=blocks, ocr=True, scanned=True)])


def _frames(path: Path, max_pages: int) -> list[bytes]:
    """Each frame of the picture, turned upright as its camera recorded, encoded as PNG."""
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    frames = []
    try:
        with Image.open(path) as picture:
            if getattr(picture, "n_frames", 1) > max_pages:
                raise too_many(path, "图片共", picture.n_frames, max_pages, "max_pages", "页")
            for frame in ImageSequence.Iterator(picture):
                encoded = io.BytesIO()
                ImageOps.exif_transpose(frame).convert("RGB").save(encoded, format="PNG", compress_level=1)
                frames.append(encoded.getvalue())
    except Image.DecompressionBombError:
        raise IngestError(str(path), (
            f"图片像素过多（超过 {2 * Image.MAX_IMAGE_PIXELS // 10_000} 万像素），可能是恶意构造的“像素炸弹”，未读取。"
            "如是正常的大图，请缩小尺寸或分割后重新导入。"
        )) from None
    except (UnidentifiedImageError, OSError) as error:
        raise IngestError(str(path), f"图片无法打开（{error}），文件可能已损坏，请重新保存或重新扫描后导入。") from None
    return frames


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with 。！？；： (a closing quotation mark or bracket may follow)."""
    return bool(_CLOSED.search(text))


def tidy(line: str) -> str:
    """A line without the spaces that layout or recognition puts between Chinese characters, and
    with the year brackets of a document number made whole (OCR reads 〔2019〕 as 〔2019] or [2019〕)."""
    return _DOC_YEAR.sub(r"〔\1〕", _WIDE_GAP.sub("", line)).strip()


def ocr_blocks(lines: list[str]) -> list[Block]:
    """Headings and paragraphs from recognised lines in reading order, wrapped lines joined."""
    lines = [line for line in lines if line]
    longest = max(map(len, lines), default=0)
    joined: list[str] = []
    for previous, line in zip(["", *lines], lines):
        if (
            joined and longest >= FULL_LINE and len(previous) >= WRAPPED_SHARE * longest
            and not ends_sentence(previous) and not is_heading(line)
        ):
            joined[-1] += line
        else:
            joined.append(line)
    return text_blocks("\n".join(joined))
