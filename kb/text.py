"""Chinese text handling: the only module that imports jieba.

Segmentation uses a private ``jieba.Tokenizer`` loaded with the government-service user dictionary
(``resources/userdict.txt``); keyword tokens drop the stopwords in ``resources/stopwords.txt``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from functools import cache
from importlib import resources

import jieba

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])(?![”’」』）)\"'])|(?<=[。！？；!?;][”’」』）)\"'])|\n+")
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_BROKEN_LINE = re.compile(rf"(?<=[{_CJK}，、（“])[ \t]*\n[ \t]*(?=[{_CJK}，。、）”])")
_CJK_RUN = re.compile(rf"[{_CJK}]{{2,}}")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")


@cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    tok.load_userdict(str(resources.files("kb") / "resources" / "userdict.txt"))
    return tok


@cache
def stopwords() -> frozenset[str]:
    """The stopword list used for keyword search."""
    text = (resources.files("kb") / "resources" / "stopwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def normalize(text: str) -> str:
    """Unify line breaks, fold runs of spaces, strip. Chinese punctuation is kept as written."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SPACES.sub(" ", text).strip()


def join_broken_lines(text: str) -> str:
    """Remove line breaks that a PDF or a hard-wrapped file put inside a Chinese sentence."""
    return _BROKEN_LINE.sub("", text)


def segment(text: str) -> list[str]:
    """The jieba words of ``text`` (precise mode), no filtering."""
    return _tokenizer().lcut(text)


def keyword_tokens(text: str) -> list[str]:
    """Tokens for the keyword index and keyword queries: jieba words plus Chinese character bigrams.

    Words carry the dictionary's knowledge (居住证, 公积金); the bigrams make a match independent
    of how jieba happened to cut a phrase in the question and in the document. Lower-cased,
    NFKC-normalised, without stopwords, punctuation and spaces.
    """
    stop = stopwords()
    text = unicodedata.normalize("NFKC", text).lower()
    words = [w.strip() for w in segment(text)]
    out = [w for w in words if w and w not in stop and not _is_punct(w)]
    for run in _CJK_RUN.findall(text):
        out.extend(b for b in (run[i : i + 2] for i in range(len(run) - 1)) if b not in stop)
    return out


def _is_punct(word: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PSZ" for ch in word)


def split_sentences(text: str) -> list[str]:
    """Split Chinese text after sentence-final punctuation (。！？； and ASCII forms) and at line breaks.

    Closing quotes and brackets stay with their sentence. Empty pieces are dropped.
    """
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def content_hash(*parts: str) -> str:
    """A stable hex digest of the given strings (used for ids and change detection)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()
