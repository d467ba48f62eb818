"""Grading a taker's answers to exam questions (:class:`kb.quizbank.QuizQuestion`) into :class:`kb.attempts.Marking`.

The rules, per type (``points`` is what the question is worth on the paper):

* 单选 — the option letter (``B``, ``b``, ``Ｂ``, ``（B）``, ``选B``) or the exact text of an option;
  the right one scores full points, anything else 0.
* 多选 — the letters in any order and with any separators (``CA``, ``A,C``, ``a c``, ``A、C``, ``A和C``).
  All or nothing: exactly the keyed set scores full points; a missing or an extra option scores 0
  (as common exam platforms do), and the note says which were missing (漏选) and which extra (错选).
* 判断 — ``正确``/``对``/``√``/``T``/``true``/``是`` and ``错误``/``错``/``×``/``F``/``false``/``否``
  (or the option letter); the right one scores full points, anything else 0.
* 填空 — the term, or an equivalent form of it, scores full points, anything else 0. Equivalent:
  other width, case, spaces or punctuation (``ＡＰＰ`` = ``app``; ``客户端`` is *not* ``APP``); other
  number formats (``三十日`` = ``30日`` = ``３０天``, ``百分之五`` = ``5%``, ``5%-12%`` = ``5%至12%``,
  ``1,000元`` = ``1000元``, ``15个工作日`` = ``十五个工作日`` = ``15工作日``), with or without ``内``/``以内``
  after a time limit; and the synonyms of :data:`SYNONYMS` (``身份证`` = ``居民身份证``). Not equivalent:
  ``一个月`` and ``30日``, ``15日`` and ``15个工作日``, ``60岁`` and ``60周岁``, a longer or shorter
  phrase. A key of several terms lists accepted alternatives. The note says when an equivalent was accepted.
* 简答 — by key-point coverage: each key point (``question.points``) the answer states
  (:func:`bot.study.covers`, after the synonyms) counts; the score is ``points × covered / key points``
  rounded to the nearest 0.5, and an answer that misses a point never gets full points. ``missed`` lists
  the key points not covered. With a model (:func:`grader`), :class:`bot.judge.LLMJudge` decides which
  points are covered (it fences the answer off as data, validates the JSON verdict and falls back to
  the key-point match, saying so in the note, when the model fails).

An empty answer scores 0, with everything it should have said in ``missed``. ``missed`` is, for every
type, what the key had that the answer lacked: the right options, the term, the key points.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from kb.attempts import Grader, Marking
from kb.errors import KBError
from kb.lexicon import Lexicon, LexiconError
from kb.quizbank import KINDS, QuizQuestion

from .judge import UNAVAILABLE_NOTE, UNREADABLE_NOTE, LLMJudge
from .study import Check, Question, covers, key_points

if TYPE_CHECKING:
    from .llm import LLM

SYNONYMS = "grading_synonyms.txt"
"""The grading synonym groups, in ``kb/resources`` (stricter than the search lexicon; see the file)."""
LETTERS = "ABCDEF"
TRUE_WORDS = frozenset({"正确", "对", "√", "✓", "✔", "t", "true", "是", "y", "yes", "right"})
FALSE_WORDS = frozenset({"错误", "错", "不对", "不正确", "×", "✗", "✘", "x", "f", "false", "否", "n", "no", "wrong"})
UNANSWERED = "未作答。"
OFFLINE_LABEL = "按要点自动判分"
MODEL_LABEL = "大模型评分"

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千]{2,}|[零〇二三四五六七八九十百千]"
                        r"|[一两](?=[个年月日天次周岁万元小工])")
_PERCENT = re.compile(r"百分之([零〇一二两三四五六七八九十百千]+|\d+(?:\.\d+)?)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_RANGE = re.compile(r"(?<=[\d%])(?:到|至|-|~|—|–)(?=\d)")
_DAY_COUNT = re.compile(r"(?<=\d)个(?=工作日|自然日)")
_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"(?!(?<=\d)[.,:/~\-—–](?=\d))[^\w%‰]|_")
_CHOICE_NOISE = re.compile(r"[^\w]|_|和|及|与|选项|选|答案")


class GradingError(KBError):
    """A question cannot be graded (an unknown type, a key that is not of its type)."""


def grade(question: QuizQuestion, response: str, points: float) -> Marking:
    """Grade ``response`` to ``question`` worth ``points`` offline (rules in the module docstring):
    returns the score out of ``points``, what was missed and a note for the taker."""
    response = (response or "").strip()
    if question.kind not in KINDS:
        raise GradingError(f"题型“{question.kind}”无法判分：题型应为 {'、'.join(KINDS)}（{'、'.join(KINDS.values())}）之一，"
                           "请检查题库中的这道题。")
    if question.kind == "short":
        return _short(question, response, points, None)
    if not response:
        return Marking(0.0, points, _expected(question), UNANSWERED)
    return {"single": _single, "multiple": _multiple, "judge": _judge, "blank": _blank}[question.kind](
        question, response, points)


def grader(llm: LLM | None = None) -> Grader:
    """A :data:`kb.attempts.Grader`: :func:`grade`, except that with ``llm`` the key points a 简答
    covers are decided by the model (:class:`bot.judge.LLMJudge`, offline key points when it fails)."""
    if llm is None:
        return grade
    judge = LLMJudge(llm, fallback=coverage)

    def graded(question: QuizQuestion, response: str, points: float) -> Marking:
        if question.kind != "short":
            return grade(question, response, points)
        return _short(question, (response or "").strip(), points, judge)

    return graded


def _expected(question: QuizQuestion) -> tuple[str, ...]:
    """What a blank answer misses: the right options, the judgement, the term or the key points."""
    if question.kind in ("single", "multiple"):
        return tuple(_option(question, letter) for letter in _key_letters(question))
    if question.kind == "short":
        return _short_points(question)
    return question.answer[:1]


# --- 单选, 多选 ------------------------------------------------------------------------------------------

def _option(question: QuizQuestion, letter: str) -> str:
    """``B（户口簿）``: an option letter with its text."""
    index = LETTERS.find(letter)
    return f"{letter}（{question.options[index]}）" if 0 <= index < len(question.options) else letter


def _key_letters(question: QuizQuestion) -> list[str]:
    letters = [unicodedata.normalize("NFKC", a).strip().upper() for a in question.answer]
    if not letters or any(len(a) != 1 or a not in LETTERS for a in letters):
        raise GradingError(f"题目“{question.stem[:30]}”的答案“{''.join(question.answer)}”不是选项字母 A–F，请在题库中改正。")
    return sorted(set(letters))


def _letters(question: QuizQuestion, response: str) -> list[str] | None:
    """The option letters in ``response`` (sorted, without repeats), or None when it says something else.
    For a 单选, the exact text of an option stands for its letter."""
    text = _CHOICE_NOISE.sub("", unicodedata.normalize("NFKC", response).upper())
    if text and re.fullmatch(r"[A-Z]+", text):
        return sorted(set(text))
    said = surface(response)
    named = [LETTERS[i] for i, option in enumerate(question.options) if said and surface(option) == said]
    return named[:1] if question.kind == "single" and named else None


def _single(question: QuizQuestion, response: str, points: float) -> Marking:
    key = _key_letters(question)
    given = _letters(question, response)
    if given is None:
        return Marking(0.0, points, _expected(question), f"无法识别的作答“{response[:20]}”：请填写选项字母。")
    if len(given) > 1:
        return Marking(0.0, points, _expected(question), "单选题只能选一个选项。")
    return Marking(points, points) if given == key else Marking(0.0, points, _expected(question))


def _multiple(question: QuizQuestion, response: str, points: float) -> Marking:
    key = _key_letters(question)
    given = _letters(question, response)
    if given is None:
        return Marking(0.0, points, _expected(question), f"无法识别的作答“{response[:20]}”：请填写选项字母，如 AC。")
    if given == key:
        return Marking(points, points)
    lacking = [letter for letter in key if letter not in given]
    extra = [letter for letter in given if letter not in key]
    valid = LETTERS[:len(question.options)] if question.options else LETTERS
    parts = [*([f"漏选 {'、'.join(lacking)}"] if lacking else []),
             *([f"错选 {'、'.join(extra)}"] if extra else []),
             *([f"{'、'.join(x for x in extra if x not in valid)} 不是本题的选项"] if set(extra) - set(valid) else [])]
    return Marking(0.0, points, tuple(_option(question, x) for x in lacking),
                   "；".join(parts) + "。多选题须选全且不错选才得分。")


# --- 判断 -------------------------------------------------------------------------------------------------

def _truth(question: QuizQuestion, text: str) -> bool | None:
    """True for 正确 and its other forms, False for 错误 and its, None for anything else; an option
    letter stands for the option's text."""
    word = _SPACES.sub("", unicodedata.normalize("NFKC", text).lower()).strip("。.!！,，;；()（）\"'“”").removesuffix("的")
    if len(word) == 1 and word.upper() in LETTERS[:len(question.options)] and word not in TRUE_WORDS | FALSE_WORDS:
        word = _SPACES.sub("", question.options[LETTERS.index(word.upper())])
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def _judge(question: QuizQuestion, response: str, points: float) -> Marking:
    key = _truth(question, question.answer[0]) if question.answer else None
    if key is None:
        raise GradingError(f"判断题“{question.stem[:30]}”的答案应为“正确”或“错误”，请在题库中改正。")
    given = _truth(question, response)
    if given is None:
        return Marking(0.0, points, _expected(question), f"无法识别的作答“{response[:20]}”：请回答“正确”或“错误”。")
    return Marking(points, points) if given == key else Marking(0.0, points, _expected(question))


# --- 填空 -------------------------------------------------------------------------------------------------

@cache
def synonyms() -> Lexicon:
    """The grading synonym groups (:data:`SYNONYMS`), official term first, as a :class:`kb.lexicon.Lexicon`."""
    text = (resources.files("kb") / "resources" / SYNONYMS).read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    try:
        return Lexicon.from_lines(("synonym", line) for line in lines)
    except LexiconError as error:
        raise GradingError(f"阅卷同义词表 kb/resources/{SYNONYMS} 有误：{error}") from None


@cache
def _synonym_pattern() -> re.Pattern | None:
    terms = sorted(synonyms().concept_of, key=lambda t: (-len(t), t))
    return re.compile("|".join(map(re.escape, terms))) if terms else None


def _folded(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text).lower())


def _cn_to_int(text: str) -> int:
    """A Chinese numeral as a number: ``三十`` -> 30, ``一千二百`` -> 1200, ``二零二六`` -> 2026."""
    if not any(ch in _CN_UNITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch in _CN_UNITS:
            total, digit = total + (digit or 1) * _CN_UNITS[ch], 0
        else:
            digit = _CN_DIGITS[ch]
    return total + digit


def surface(text: str) -> str:
    """``text`` without differences of width, case, spaces and punctuation (``（ＡＰＰ）`` -> ``app``)."""
    return _PUNCT.sub("", _folded(text))


def numeric(text: str) -> str:
    """:func:`surface` with numbers written one way: digits for Chinese numerals, ``%`` for 百分之,
    ``至`` for a range, ``日`` for 天 after a number, ``15工作日`` for 15个工作日, ``内`` for 以内."""
    text = _folded(text).replace("工作天", "工作日")
    text = _PERCENT.sub(lambda m: f"{m.group(1)}%", text)
    text = _CN_NUMBER.sub(lambda m: str(_cn_to_int(m.group())), text)
    text = _THOUSANDS.sub("", text)
    text = _RANGE.sub("至", text)
    text = re.sub(r"(?<=\d)天", "日", text).replace("以内", "内").replace("之内", "内")
    return surface(_DAY_COUNT.sub("", text))


def official(text: str) -> str:
    """``text`` (folded) with every synonym of :data:`SYNONYMS` replaced by its group's official term."""
    text, pattern = _folded(text), _synonym_pattern()
    return pattern.sub(lambda m: synonyms().concept_of[m.group()], text) if pattern else text


def _named(text: str) -> dict[str, str]:
    pattern = _synonym_pattern()
    found = pattern.findall(_folded(text)) if pattern else []
    return {synonyms().concept_of[term]: term for term in found}


def equivalence(key: str, response: str) -> str | None:
    """Why ``response`` says ``key`` ('' when written the same way), or None when it does not."""
    if response.strip() == key.strip():
        return ""
    if surface(response) == surface(key):
        return "写法不同（全半角、大小写、空格或标点）"
    if numeric(response) == numeric(key):
        return "数字或单位的写法不同"
    said, wanted = numeric(official(response)), numeric(official(key))
    if said == wanted:
        given, keyed = _named(response), _named(key)
        pairs = [f"“{term}”即“{keyed.get(concept, concept)}”" for concept, term in given.items()
                 if term != keyed.get(concept, concept)]
        return "同义说法：" + "、".join(pairs or [f"“{t}”即“{c}”" for c, t in keyed.items() if t != c])
    if re.search(r"\d", wanted) and said.removesuffix("内") == wanted.removesuffix("内"):
        return "时限写没写“内”不影响判分"
    return None


def _blank(question: QuizQuestion, response: str, points: float) -> Marking:
    if not question.answer:
        raise GradingError(f"填空题“{question.stem[:30]}”没有答案，请在题库中补上。")
    for key in question.answer:
        reason = equivalence(key, response)
        if reason is not None:
            return Marking(points, points, note=f"按等价答案判为正确：{reason}。" if reason else "")
    return Marking(0.0, points, question.answer[:1])


# --- 简答 -------------------------------------------------------------------------------------------------

def _short_points(question: QuizQuestion) -> tuple[str, ...]:
    """The key points of a 简答: its own, or else those of the reference answer, or else the whole answer."""
    reference = question.answer[0].strip() if question.answer else ""
    points = question.points or tuple(key_points(reference)) or ((reference,) if reference else ())
    if not points:
        raise GradingError(f"简答题“{question.stem[:30]}”既没有评分要点也没有参考答案，请在题库中补上。")
    return points


def coverage(question: Question, reply: str) -> Check:
    """The offline verdict on a 简答: the key points ``reply`` covers (:func:`bot.study.covers`, with
    synonyms read as their official term); ``correct`` when it covers them all."""
    said = official(reply)
    covered = tuple(p for p in question.points if covers(official(p), said))
    missed = tuple(p for p in question.points if p not in covered)
    return Check(covered, missed, len(covered) / len(question.points), not missed)


def share(points: float, covered: int, total: int) -> float:
    """``points × covered / total`` rounded to the nearest 0.5; below full points unless all are covered."""
    if covered >= total:
        return points
    score = math.floor(points * covered / total * 2 + 0.5) / 2
    return max(0.0, min(score, math.ceil(points * 2 - 1) / 2))


def _short(question: QuizQuestion, response: str, points: float, judge: LLMJudge | None) -> Marking:
    keyed = _short_points(question)
    if not response:
        return Marking(0.0, points, keyed, UNANSWERED)
    asked = Question(question.sources[0].entry_id if question.sources else "", "summary", question.stem, keyed, 1.0,
                     question.answer[0] if question.answer else "")
    check = judge(asked, response) if judge else coverage(asked, response)
    covered = [p for p in keyed if p in check.covered]
    missed = tuple(p for p in keyed if p not in covered)
    offline = judge is None or check.note.startswith((UNAVAILABLE_NOTE, UNREADABLE_NOTE))
    label = OFFLINE_LABEL if offline else MODEL_LABEL
    note = f"答到要点 {len(covered)}/{len(keyed)}（{label}）。" + (check.note if judge else "")
    return Marking(share(points, len(covered), len(keyed)), points, missed, note)
