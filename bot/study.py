"""The new-hire tutor: explain an entry, ask a short question on it, check the reply, say what was missed.

A lesson is one published, current entry: its answer and 依据, then one or two related entries. The
question is drawn from that entry's answer. Its *key points* are the terms a counter must get right,
found by patterns over the jieba-segmented answer: amounts and time limits (``30日内``, ``15个工作日``,
``5%至12%``), materials and forms (``《容缺受理承诺书》``, the items after 携带/持/提供/提交), the places and
departments to go to (``派出所``, ``不动产登记中心``) and named services in quotes (``“一网通办”``). The
question alternates between a cloze (one key point blanked out of its sentence) and ``问：… 请简述要点``
(several key points; a reply passes when it covers :data:`PASS_MARK` of them).

Replies are checked offline by key-point coverage (:func:`offline_judge`): after normalising digits,
Chinese numerals, 天/日 and spacing, a point is covered when it occurs in the reply, or, for a longer
point, when most of its words do. A site with an LLM can pass its own :data:`Judge` instead; the
verdict has the same shape either way. Every lesson and answer is written to the learner's record
(:class:`kb.learning.Learning`), which orders the next session.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from kb import Filters, Hit, KnowledgeBase
from kb.errors import KBError
from kb.learning import Learning, current_entries
from kb.text import content_words, split_sentences
from kb.types import Entry
from kb.users import User

from .answer import DEFAULT_MIN_CONFIDENCE, answer

PASS_MARK = 0.6
"""The share of a summary question's key points a reply must cover to count as right."""
MAX_POINTS = 4
RELATED = 2

_UNIT = r"(?:个)?(?:工作日|自然日|日|天|个月|月|年|周岁|岁|万元|元|平方米|小时|次)"
_NUMBER = re.compile(rf"\d+(?:\.\d+)?(?:%|(?:至|到|-)\d+(?:\.\d+)?%|{_UNIT}(?:(?:至|到)\d+{_UNIT})?)(?:以内|以上|以下|内)?")
_FORM = re.compile(r"《[^》]{2,30}》")
_QUOTED = re.compile(r"“([^”]{2,12})”")
_MATERIALS = re.compile(r"(?:携带|持有|持|提供|提交|出示)([^，。；：！？]{2,60}?)(?=到|向|在|申请|办理|前往|，|。|；|$)")
_PLACE = re.compile(r"(?:到|向|在|前往|通过|登录)([^，。；、：到向的]{0,10}?(?:派出所|窗口|大厅|中心|局|平台|APP|系统|社区|网点|小程序|公众号))")
_LIST_SPLIT = re.compile(r"[、和及或与（）()]|以及")
_GENERIC = frozenset({"系统", "平台", "材料", "中心", "窗口", "本中心", "相关材料", "证明材料", "APP"})
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百]{2,}|[零〇二三四五六七八九十百]|[一两](?=[个年月日天次周岁万元])")
_DROP = re.compile(r"[\s\W_个]+")
BLANK = "＿＿＿＿"


class StudyError(KBError):
    """A lesson cannot be given as asked (an unknown 事项, a question the knowledge base cannot answer)."""


@dataclass(frozen=True)
class Question:
    """A question on entry ``entry_id``: ``kind`` is ``cloze`` or ``summary``; ``points`` are the key
    points a reply must cover (``pass_mark`` of them); ``prompt`` is what the learner is asked;
    ``reference`` is the entry's answer, for a judge that compares the reply with it."""

    entry_id: str
    kind: str
    prompt: str
    points: tuple[str, ...]
    pass_mark: float
    reference: str = ""


@dataclass(frozen=True)
class Check:
    """The verdict on a reply: ``covered`` and ``missed`` key points, ``score`` the share covered (0–1),
    ``correct`` whether it reached the pass mark; ``note`` is a judge's own remark (empty offline)."""

    covered: tuple[str, ...]
    missed: tuple[str, ...]
    score: float
    correct: bool
    note: str = ""

    @property
    def grade(self) -> str:
        """``right``, ``partial`` (some points covered, not enough) or ``wrong``."""
        return "right" if self.correct else "partial" if self.covered else "wrong"


Judge = Callable[[Question, str], Check]
"""Checks a reply to a question; :func:`offline_judge` is the default, an LLM judge has this shape too."""


@dataclass(frozen=True)
class Lesson:
    """An entry to study, the related entries explained after it, and the question asked on it."""

    entry: Entry
    related: tuple[Hit, ...]
    question: Question


def _cn_to_int(text: str) -> int:
    total, digit, hundreds = 0, 0, 0
    for ch in text:
        if ch == "百":
            hundreds, digit = (digit or 1) * 100, 0
        elif ch == "十":
            total, digit = total + (digit or 1) * 10, 0
        else:
            digit = digit * 10 + _CN_DIGITS[ch] if digit else _CN_DIGITS[ch]
    return hundreds + total + digit


def normalized(text: str) -> str:
    """``text`` folded for matching: NFKC, lower case, Chinese numerals as digits, 天 as 日, 到 as 至, 个
    and spaces and punctuation dropped (``三十天内`` and ``30日内`` read the same)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("天", "日").replace("到", "至")
    text = _CN_NUMBER.sub(lambda m: str(_cn_to_int(m.group())), text)
    return _DROP.sub("", text).replace("以内", "内")


def key_points(text: str) -> list[str]:
    """The key points of an answer, in the order they occur: amounts and time limits, forms, the
    materials after 携带/持/提供/提交, places and departments, names in quotes. A point inside a longer
    one is dropped."""
    found: list[tuple[int, str]] = []
    found += [(m.start(), m.group()) for m in _NUMBER.finditer(text)]
    found += [(m.start(), m.group()) for m in _FORM.finditer(text)]
    found += [(m.start(1), m.group(1)) for m in _QUOTED.finditer(text)]
    for m in _MATERIALS.finditer(text):
        start = m.start(1)
        for piece in _LIST_SPLIT.split(m.group(1)):
            piece = piece.split("等")[0].strip().removeprefix("本人")
            if 2 <= len(piece) <= 12 and not _NUMBER.search(piece):
                found.append((start + m.group(1).find(piece), piece))
    found += [(m.start(1), m.group(1)) for m in _PLACE.finditer(text) if len(m.group(1)) >= 2]
    points: list[str] = []
    for _, point in sorted(found):
        point = point.strip("《》“”")
        if point and point not in points and point not in _GENERIC:
            points.append(point)
    return [p for p in points if not any(p != q and p in q for q in points)]


def _summary_points(entry: Entry) -> tuple[str, ...]:
    points = key_points(entry.answer)
    if len(points) < 2:
        asked = set(content_words(entry.question))
        words = [w for w in content_words(entry.answer) if len(w) >= 2 and w not in asked]
        points += [w for w in dict.fromkeys(sorted(words, key=len, reverse=True)) if w not in points]
    if not points:
        return (entry.answer.strip("。！ "),)
    if len(points) <= MAX_POINTS:
        return tuple(points[:MAX_POINTS])
    step = len(points) / MAX_POINTS
    return tuple(points[int(i * step)] for i in range(MAX_POINTS))


def make_question(entry: Entry, variant: int = 0) -> Question:
    """A question on ``entry``: for even ``variant`` a cloze on key point ``variant // 2`` (cycling),
    for odd ones ``问：… 请简述要点``; an answer without key points always gets the summary question.
    Pass the number of times the learner was asked on the entry, so a repeat asks something else."""
    sentences = split_sentences(entry.answer)
    points = sorted(key_points(entry.answer), key=lambda p: not re.search(r"\d", p))
    blanks = [(p, next(s for s in sentences if p in s)) for p in points if any(p in s for s in sentences)]
    if variant % 2 == 0 and blanks:
        point, sentence = blanks[(variant // 2) % len(blanks)]
        prompt = f"填空：{sentence.replace(point, BLANK)}\n（出自“{entry.question}”，请填写空缺处的内容）"
        return Question(entry.id, "cloze", prompt, (point,), 1.0, entry.answer)
    return Question(entry.id, "summary", f"问：{entry.question} 请简述要点。", _summary_points(entry), PASS_MARK,
                    entry.answer)


def covers(point: str, reply: str) -> bool:
    """Whether ``reply`` states ``point``: the point occurs in it once both are :func:`normalized`, or,
    for a point of several words (a material, a department), two thirds of its words do."""
    wanted, said = normalized(point), normalized(reply)
    if not wanted or wanted in said:
        return bool(wanted)
    if re.search(r"\d", wanted):
        return wanted.removesuffix("内") in said
    words = [normalized(w) for w in content_words(point)]
    words = [w for w in words if w]
    return len(words) >= 2 and sum(len(w) for w in words if w in said) >= 2 / 3 * sum(map(len, words))


def offline_judge(question: Question, reply: str) -> Check:
    """Check ``reply`` by key-point coverage: right when it covers at least the question's pass mark."""
    covered = tuple(p for p in question.points if covers(p, reply))
    missed = tuple(p for p in question.points if p not in covered)
    score = len(covered) / len(question.points) if question.points else 0.0
    needed = math.ceil(question.pass_mark * len(question.points) - 1e-9)
    return Check(covered, missed, score, bool(question.points) and len(covered) >= needed)


def source_line(entry: Entry) -> str:
    """Where an entry comes from, e.g. ``出处：编号 FAQ037《居住证的签注什么时候办？》（2026-10-23，依据：…）``."""
    parts = [entry.date or "日期不详", *([f"依据：{entry.basis}"] if entry.basis else []),
             *([f"部门：{entry.department}"] if entry.department else [])]
    return f"出处：编号 {entry.id}《{entry.question}》（{'，'.join(parts)}）"


def explanation(lesson: Lesson) -> str:
    """The lesson as plain text: the entry's 事项, question, answer and 依据, then the related entries."""
    entry = lesson.entry
    lines = [f"【{entry.item or '未分类'}】{entry.question}", f"答：{entry.answer}",
             f"依据：{entry.basis or '（未注明，以出处为准）'}", source_line(entry)]
    if lesson.related:
        lines.append("相关条目：")
        lines += [f"- 编号 {h.parent_id}《{h.title}》：{h.answer}" for h in lesson.related]
    return "\n".join(lines)


def feedback(lesson: Lesson, check: Check) -> str:
    """The verdict as plain text: right, partly right or wrong, the missed key points, the full answer
    and its source."""
    if check.correct:
        head = "回答正确。" + (f"（覆盖要点 {len(check.covered)}/{len(lesson.question.points)}）"
                              if lesson.question.kind == "summary" else "")
    elif check.covered:
        head = f"部分正确：答到了“{'、'.join(check.covered)}”，还缺少要点：{'、'.join(check.missed)}。"
    else:
        head = f"回答不正确。应答要点：{'、'.join(check.missed)}。"
    lines = [head, *([check.note] if check.note else []), f"完整答复：{lesson.entry.answer}", source_line(lesson.entry)]
    return "\n".join(lines)


class Tutor:
    """Lessons and checked replies for a learner, with the record kept in ``kb``'s record store.

    Args:
        kb: the knowledge base (lessons come from its published, current entries).
        judge: checks replies; :func:`offline_judge` when not given.
        min_confidence: a free question is taught from the entry answering it at this confidence.
    """

    def __init__(self, kb: KnowledgeBase, judge: Judge | None = None,
                 min_confidence: float = DEFAULT_MIN_CONFIDENCE):
        self.kb = kb
        self.min_confidence = min_confidence
        self.learning = Learning(kb.records)
        self.judge = judge or offline_judge

    def lesson(self, user: User, topic: str = "", query: str = "") -> Lesson:
        """The next lesson for ``user``: on the entry ``query`` is answered by, if given; else the next
        entry of 事项 ``topic`` (or of the first topic of the plan, :meth:`Learning.topics`). Records
        the entry as seen and the question as asked."""
        if query.strip():
            entry = self._answering(query.strip())
        else:
            entry = self.kb.entry(self._next_in(user, topic.strip()))
        variant = self.learning.times_asked(user, entry.id)
        related = self._related(entry)
        self.learning.taught(user, entry.id, entry.item)
        return Lesson(entry, related, make_question(entry, variant))

    def check(self, user: User, lesson: Lesson, reply: str) -> Check:
        """Judge ``reply`` to the lesson's question and record it as right or wrong for ``user``."""
        if not reply.strip():
            raise StudyError("请先写下您的回答再提交；不会的话可以写“不知道”，系统会讲解遗漏的要点。")
        return self.record(user, lesson, self.judge(lesson.question, reply))

    def record(self, user: User, lesson: Lesson, check: Check) -> Check:
        """Record ``check``, a judged reply to the lesson's question, as right or wrong for ``user``; returns it."""
        self.learning.answered(user, lesson.entry.id, lesson.entry.item, check.correct)
        return check

    def _next_in(self, user: User, topic: str) -> str:
        current = current_entries(self.kb.records)
        if not current:
            raise StudyError("知识库中还没有可学习的已发布条目（需填写事项），请先导入或发布条目。")
        if not topic:
            topic = self.learning.topics(user)[0].item
        if topic not in current:
            raise StudyError(f"事项“{topic}”没有现行的已发布条目，请从事项列表中选择，或直接提问。")
        return self.learning.next_entry(user, current[topic])

    def _answering(self, query: str) -> Entry:
        result = answer(self.kb, query, min_confidence=self.min_confidence)
        cited = [c for c in result.citations if c.kind == "entry"] if result.status != "no_answer" else []
        if not cited:
            raise StudyError(f"知识库中没有能可靠回答“{query}”的条目，请换个说法，或选择一个事项学习。")
        return self.kb.entry(cited[0].parent_id)

    def _related(self, entry: Entry) -> tuple[Hit, ...]:
        hits = self.kb.search(entry.question, k=RELATED + 3, filters=Filters(kind="entry"))
        return tuple(h for h in hits if h.parent_id != entry.id and h.is_current)[:RELATED]
