"""Chinese text handling: the only module that imports jieba.

Segmentation uses a private ``jieba.Tokenizer`` loaded with the government-service user dictionary
(``resources/userdict.txt``); keyword tokens drop the stopwords in ``resources/stopwords.txt``.
"""

from __future__ import annotations

import array
import hashlib
import io
import logging
import math
import os
import re
import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path

import jieba

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_GAP = rf"(?<=[{_CJK}。！？；：，、”’）】])[ \t\u3000]+(?=[{_CJK}0-9（【“])"
_GAPS = re.compile(_GAP)
_SENTENCE_END = re.compile(
    r"(?<=[。！？；!?;])(?![”’」』）)\"'])|(?<=[。！？；!?;][”’」』）)\"'])|\n+|" + _GAP
)
_LINE_END = tuple("。！？；：!?;:")
_CJK_WORD = re.compile(rf"[{_CJK}]+")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")


@cache
def _tokenizer() -> jieba.Tokenizer:
    """jieba with our user dictionary merged in, loaded from :func:`_dictionary_cache` when it is there."""
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    userdict = (resources.files("kb") / "resources" / "userdict.txt").read_bytes()
    cache = _dictionary_cache(hashlib.sha256(jieba.__version__.encode() + userdict).hexdigest()[:16])
    try:
        words = (cache / "words.txt").read_text(encoding="utf-8").split("\n")
        counts = array.array("q", (cache / "counts.bin").read_bytes())
        if len(words) != len(counts) - 1:
            raise ValueError(cache)
        tok.FREQ, tok.total, tok.initialized = dict(zip(words, counts.tolist())), counts[-1], True
    except (OSError, ValueError):
        tok.initialize()
        tok.load_userdict(io.StringIO(userdict.decode("utf-8")))
        _save_dictionary(tok, cache)
    return tok


def _dictionary_cache(key: str) -> Path:
    """Where the merged dictionary is kept: words and their counts as plain files in the user's cache
    directory. It loads in about a third of the time of jieba's own cache (a marshal file in /tmp,
    without our user dictionary), which every `kb ask` process would otherwise pay."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chuangkou-kb" / f"jieba-{key}"


def _save_dictionary(tok: jieba.Tokenizer, cache: Path) -> None:
    """Write the cache atomically (another process may be reading it); an unwritable cache is skipped."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f"tmp-{os.getpid()}"
        tmp.mkdir(exist_ok=True)
        (tmp / "words.txt").write_text("\n".join(tok.FREQ), encoding="utf-8")
        (tmp / "counts.bin").write_bytes(array.array("q", [*tok.FREQ.values(), tok.total]).tobytes())
        for name in ("words.txt", "counts.bin"):
            os.replace(tmp / name, cache / name)
        tmp.rmdir()
    except OSError:
        pass


def _word_list(name: str) -> frozenset[str]:
    """The words of a bundled word list (``resources/<name>``): separated by spaces or line breaks;
    a line starting with # is a comment."""
    text = (resources.files("kb") / "resources" / name).read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


@cache
def stopwords() -> frozenset[str]:
    """The stopword list used for keyword search."""
    return _word_list("stopwords.txt")


@cache
def fillers() -> frozenset[str]:
    """Spoken filler words (``resources/fillers.txt``): kept for keyword search, where FAQ questions
    share them, but no part of what a question is about."""
    return _word_list("fillers.txt")


def normalize(text: str) -> str:
    """Unify line breaks, fold runs of spaces, strip. Chinese punctuation is kept as written."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SPACES.sub(" ", text).strip()


def join_broken_lines(text: str) -> str:
    """Remove the line breaks that a PDF or a hard-wrapped file put inside a sentence.

    A break is a wrap when the line before it is about as long as the text's longest line (at
    least 80 % of it) and does not end a sentence. Short lines (titles,
    the last line of a paragraph) and lines ending with 。！？；： keep their break.
    """
    lines = [line.strip() for line in text.split("\n")]
    full = 0.8 * max(len(line) for line in lines)
    out = [lines[0]]
    for line in lines[1:]:
        previous = out[-1]
        if line and previous and len(previous) >= full and not previous.endswith(_LINE_END):
            out[-1] = previous + line
        else:
            out.append(line)
    return "\n".join(out)


def segment(text: str, guess: bool = True) -> list[str]:
    """The jieba words of ``text`` (precise mode), no filtering. With ``guess`` jieba also makes up
    words its dictionary lacks (its HMM); without, those characters stay apart."""
    return _tokenizer().lcut(text, HMM=guess)


EVERYDAY_IDF, RARE_IDF = 9.0, 15.0
"""Bounds of :func:`rarity`, as a word's IDF in jieba's dictionary (the natural log of its total count
over the word's): 拿 and 学校 lie below 9, 爷爷 and 深圳 near 10, 物业费 and 邮费 above 15."""


def rarity(word: str) -> float:
    """How rare ``word`` is in everyday Chinese, in [0, 1], by its count in jieba's dictionary (a
    general corpus): 0 up to :data:`EVERYDAY_IDF`, 1 from :data:`RARE_IDF`, linear between; 1 for a
    word the dictionary lacks."""
    tok = _tokenizer()
    count = tok.FREQ.get(word, 0)
    if not count:
        return 1.0
    return min(1.0, max(0.0, (math.log(tok.total / count) - EVERYDAY_IDF) / (RARE_IDF - EVERYDAY_IDF)))


def glued(text: str) -> frozenset[str]:
    """The characters of ``text`` that jieba's guessing glues into a word its dictionary lacks (星沙,
    麻林村): pieces of a name, each of them no word on its own."""
    freq = _tokenizer().FREQ
    return frozenset(ch for word in content_words(text) if len(word) > 1 and not freq.get(word) for ch in word)


def content_words(text: str, guess: bool = True) -> list[str]:
    """The jieba words of ``text`` that carry meaning: no stopwords, punctuation or spaces
    (``guess``: see :func:`segment`)."""
    stop = stopwords()
    words = (w.strip() for w in segment(unicodedata.normalize("NFKC", text).lower(), guess))
    return [w for w in words if w and w not in stop and not _is_punct(w)]


def keyword_tokens(text: str) -> list[str]:
    """Tokens for the keyword index and keyword queries: jieba words plus Chinese character bigrams.

    Words carry the dictionary's knowledge (居住证, 公积金); the bigrams make a match independent
    of how jieba happened to cut a phrase in the question and in the document. Bigrams are taken
    within runs of Chinese content words only, never across a stopword or punctuation (so
    什么材料 does not yield 么材). Lower-cased, NFKC-normalised, no stopwords, punctuation or spaces.
    """
    stop = stopwords()
    words, runs, run = [], [], ""
    for word in segment(unicodedata.normalize("NFKC", text).lower()):
        word = word.strip()
        keep = bool(word) and word not in stop and not _is_punct(word)
        if keep:
            words.append(word)
        if keep and _CJK_WORD.fullmatch(word):
            run += word
        else:
            runs.append(run)
            run = ""
    runs.append(run)
    bigrams = [r[i : i + 2] for r in runs for i in range(len(r) - 1)]
    return words + [b for b in bigrams if b not in stop]


def _is_punct(word: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PSZ" for ch in word)


def gaps_to_breaks(text: str) -> str:
    """``text`` with a line break for every space between Chinese characters: where flattened text
    (a web export, a JSON record) lost its heading and paragraph breaks."""
    return _GAPS.sub("\n", text)


def split_sentences(text: str) -> list[str]:
    """Split Chinese text after sentence-final punctuation (。！？； and ASCII forms), at line breaks
    and at spaces inside Chinese text (where flattened text had its paragraph and heading breaks).

    Closing quotes and brackets stay with their sentence. Empty pieces are dropped.
    """
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def clip(text: str, limit: int) -> str:
    """``text`` on one line (runs of whitespace folded), cut to ``limit`` characters with … when longer."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def content_hash(*parts: str) -> str:
    """A stable hex digest of the given strings (used for ids and change detection)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()
