"""Offline question generation: 单选, 多选, 判断, 填空 and 简答 from the entries, and their quality checks.

Every question is made from one entry and tests key points of its answer (:func:`bot.study.key_points`):

* 单选 — a sentence of the answer with a key point blanked; the options are that point and three
  points of the same class from related entries (:mod:`bot.distractors`), so exactly one is right;
* 多选 — which of the options are key points of the answer: two or three of its points (none
  negated in its sentence, as 没有实行“一刀切”) and wrong points of the same classes from related entries;
* 判断 — a sentence of the answer, either as written or with one key point swapped for a point of
  the same class from a related entry (which one is decided by a seeded coin);
* 填空 — a sentence with one key point blanked; the point is the key;
* 简答 — the entry's question; the reference answer is its answer and the grading key points are
  those of :func:`bot.study.make_question`'s summary question that are facts of their own.

A question records the entry and version it came from, an explanation (解析) citing them (naming the
right options by their text, never by letter, so it stays true when a B paper shuffles them), and the
*fact* it tests (the normalized sentence and point, or the whole answer for 多选/简答). A bank takes
at most one question per entry (per answer text) and never two of one fact (:func:`build`);
:func:`problems` checks a question against its entry.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from kb.quizbank import KINDS, QuizQuestion, Source
from kb.text import split_sentences
from kb.types import Entry

from .distractors import Material, Neighbours
from .study import BLANK, make_question, normalized

LETTERS = "ABCDEF"
CHOICES = 4
MIN_POINTS = 2
_HEADING = re.compile(r"^[（(]?[一二三四五六七八九十\d]+[)）、.．]\s*关于.*问题[。：:]?$")
_NEGATED = re.compile(r"(?:不|未|无|非|没有|避免|禁止)\w{0,2}$")


def cite(material: Material) -> str:
    """The 出处 line of an explanation: the entry's id, version, question, 事项 and 依据."""
    e = material.entry
    basis = f"，依据：{e.basis}" if e.basis else ""
    return f"出处：条目 {e.id}（第 {material.version} 版）《{e.question}》（{e.item or '未分事项'}{basis}）"


def fact_key(sentence: str, point: str) -> str:
    """What a question on ``point`` in ``sentence`` tests, normalized, for the no-fact-twice rule."""
    return f"{normalized(sentence)}#{normalized(point)}"


def _sentences(material: Material) -> list[tuple[str, str, str]]:
    """``(point, class, sentence)`` for every key point with the sentence it occurs in; numbers first.
    Headings (``二、关于“…”的问题。``) state nothing and are skipped."""
    sentences = [s for s in split_sentences(material.entry.answer) if not _HEADING.match(s)]
    found = []
    for point, kind in material.points:
        sentence = next((s for s in sentences if point in s), "")
        if sentence and sentence.count(point) == 1:
            found.append((point, kind, sentence))
    return sorted(found, key=lambda f: not re.search(r"\d", f[0]))


def _question(kind: str, material: Material, stem: str, answer: Iterable[str], explanation: str, fact: str,
              options: Iterable[str] = (), points: Iterable[str] = (), difficulty: str = "中") -> QuizQuestion:
    return QuizQuestion(kind, stem, tuple(answer), f"{explanation}\n{cite(material)}",
                        (Source(material.entry.id, material.version),), fact, material.entry.item,
                        tuple(options), tuple(points), difficulty)


def _difficulty(material: Material, sources: list[Material], base: str) -> str:
    if base == "易" or all(s.entry.item == material.entry.item for s in sources):
        return base
    return "易"


def similar_lengths(lengths: list[int]) -> bool:
    """Whether options of these lengths look alike: the longest at most 2.5 times the shortest plus 2."""
    return max(lengths) <= 2.5 * min(lengths) + 2


def _fitting(keys: list[str], terms: list[tuple[str, Material]], count: int) -> list[tuple[str, Material]]:
    """The first ``count`` of ``terms`` that keep all options (``keys`` included) of similar length."""
    chosen: list[tuple[str, Material]] = []
    for term in terms:
        if len(chosen) < count and similar_lengths([len(t) for t in (*keys, *(c[0] for c in chosen), term[0])]):
            chosen.append(term)
    return chosen


def single(material: Material, near: Neighbours, rng: random.Random, avoid: set[str]) -> QuizQuestion | None:
    """A 单选 on the first key point whose fact is not in ``avoid`` and which has three distractors."""
    for point, kind, sentence in _sentences(material):
        wrong = _fitting([point], near.distractors(material, point, kind, 3 * CHOICES), CHOICES - 1)
        if fact_key(sentence, point) in avoid or len(wrong) < CHOICES - 1:
            continue
        options = [point, *(term for term, _ in wrong)]
        rng.shuffle(options)
        key = LETTERS[options.index(point)]
        stem = f"关于“{material.entry.question}”：{sentence.replace(point, BLANK)} 空缺处应为（　）。"
        return _question("single", material, stem, (key,), f"正确选项：{point}。原文：{sentence}",
                         fact_key(sentence, point), options,
                         difficulty=_difficulty(material, [m for _, m in wrong], "中"))
    return None


def multiple(material: Material, near: Neighbours, rng: random.Random, avoid: set[str]) -> QuizQuestion | None:
    """A 多选: two or three key points of the answer among wrong points of the same classes."""
    found = [(p, k, s) for p, k, s in _sentences(material) if not _NEGATED.search(s[:s.index(p)].rstrip("“《（("))]
    if len(found) < MIN_POINTS or normalized(material.entry.answer) in avoid:
        return None
    right: list[tuple[str, str]] = []
    for point, kind, _ in found:
        if len(right) < 3 and similar_lengths([len(p) for p, _ in right] + [len(point)]):
            right.append((point, kind))
    keys = tuple(p for p, _ in right)
    terms: list[tuple[str, Material]] = []
    for point, kind in right:
        for term in near.distractors(material, point, kind, 6, avoid=keys):
            if all(normalized(term[0]) != normalized(t[0]) for t in terms):
                terms.append(term)
    wrong = _fitting(list(keys), terms, max(2, CHOICES + 1 - len(right)))
    if len(right) < MIN_POINTS:
        return None
    if len(wrong) < 2:
        return None
    options = [*keys, *(term for term, _ in wrong)]
    rng.shuffle(options)
    answer = tuple(LETTERS[i] for i, option in enumerate(options) if option in keys)
    stem = f"关于“{material.entry.question}”，下列哪些是现行答复中的要点？（多选）"
    return _question("multiple", material, stem, answer,
                     f"正确选项：{'、'.join(keys)}。原文：{material.entry.answer}",
                     normalized(material.entry.answer), options,
                     difficulty=_difficulty(material, [m for _, m in wrong], "难"))


def judge(material: Material, near: Neighbours, rng: random.Random, avoid: set[str]) -> QuizQuestion | None:
    """A 判断: a sentence as written (正确) or with one key point swapped for a related entry's (错误) of
    similar length that does not garble the sentence."""
    for point, kind, sentence in _sentences(material):
        wrong = [(t, m) for t, m in near.distractors(material, point, kind, 3)
                 if similar_lengths([len(point), len(t)]) and not _stutters(sentence, sentence.replace(point, t, 1))]
        if fact_key(sentence, point) in avoid or not wrong:
            continue
        stem_of = f"关于“{material.entry.question}”：{{}}"
        if rng.random() < 0.5:
            return _question("judge", material, stem_of.format(sentence), ("正确",),
                             f"答案：正确。原文：{sentence}", fact_key(sentence, point), ("正确", "错误"),
                             difficulty="易")
        term, other = wrong[0]
        return _question("judge", material, stem_of.format(sentence.replace(point, term, 1)), ("错误",),
                         f"答案：错误。应为“{point}”，不是“{term}”（“{term}”出自条目 {other.entry.id}）。原文：{sentence}",
                         fact_key(sentence, point), ("正确", "错误"), difficulty="易")
    return None


def _stutters(before: str, after: str) -> bool:
    """Whether swapping a term made text repeat itself (``通过医保APPAPP补办``)."""
    doubled = re.compile(r"(\w{2,})\1")
    return bool({m.group(0) for m in doubled.finditer(after)} - {m.group(0) for m in doubled.finditer(before)})


def blank(material: Material, near: Neighbours, rng: random.Random, avoid: set[str]) -> QuizQuestion | None:
    """A 填空: a sentence with one key point blanked (numbers and time limits first); a point occurring
    twice in its sentence is never used."""
    for point, _, sentence in _sentences(material):
        if fact_key(sentence, point) in avoid:
            continue
        stem = f"关于“{material.entry.question}”：{sentence.replace(point, BLANK)}"
        return _question("blank", material, stem, (point,), f"答案：{point}。原文：{sentence}",
                         fact_key(sentence, point), difficulty="中")
    return None


def short(material: Material, near: Neighbours, rng: random.Random, avoid: set[str]) -> QuizQuestion | None:
    """A 简答: the entry's question, its answer as the reference and the summary question's key points;
    not when they are only titles and quoted names, which a summary need not repeat word for word, nor
    when two points are all there is and neither is a number or a time (``各网点；更便捷``)."""
    usable = dict(material.points)
    points = tuple(p for p in make_question(material.entry, 1).points if p in usable)
    concrete = [p for p in points if usable[p] not in ("form", "name", "place", "material")]
    if (len(points) < MIN_POINTS or normalized(material.entry.answer) in avoid
            or all(usable[p] in ("form", "name") for p in points) or (len(points) <= MIN_POINTS and not concrete)):
        return None
    return _question("short", material, f"{material.entry.question}（请简述要点）", (material.entry.answer,),
                     f"评分要点：{'；'.join(points)}。参考答案：{material.entry.answer}",
                     normalized(material.entry.answer), points=points,
                     difficulty="难" if len(points) > MIN_POINTS else "中")


MAKERS = {"single": single, "multiple": multiple, "judge": judge, "blank": blank, "short": short}
"""Question type (a key of :data:`kb.quizbank.KINDS`) -> its maker."""


def build(pool: list[tuple[Entry, int]], counts: dict[str, int], seed: str = "",
          avoid: Iterable[str] = (), mix: dict[str, float] | None = None) -> tuple[list[QuizQuestion], int]:
    """Questions from ``pool`` (entries with their versions): ``counts[type]`` of each type (fewer when
    the pool runs out), at most one per entry (and per answer text: twin entries count as one), no
    fact twice and none in ``avoid`` (last quarter's facts); ``mix`` (难度 -> share) steers which
    candidates are taken. Returns the questions that pass :func:`problems` and how many candidates
    were made in all (for the pass rate)."""
    rng = random.Random(seed)
    materials = [Material.of(entry, version) for entry, version in pool]
    near = Neighbours(materials)
    order = materials[:]
    rng.shuffle(order)
    avoided, used, facts = set(avoid), set(), set()
    taken: list[QuizQuestion] = []
    made = 0
    wanted = {kind: n for kind, n in counts.items() if n > 0}
    for kind in sorted(wanted, key=lambda k: ("short", "multiple", "single", "judge", "blank").index(k)):
        picked: list[QuizQuestion] = []
        made_from: list[Material] = []
        for material in order:
            if len(picked) >= wanted[kind] * (2 if mix else 1):
                break
            if normalized(material.entry.answer) in used:
                continue
            question = MAKERS[kind](material, near, rng, avoided | facts)
            if question is None:
                continue
            made += 1
            if problems(question, material.entry) or question.fact in facts:
                continue
            picked.append(question)
            made_from.append(material)
            used.add(normalized(material.entry.answer))
            facts.add(question.fact)
        chosen = by_mix(picked, wanted[kind], mix) if mix else picked
        for material, dropped in zip(made_from, picked):
            if dropped not in chosen:
                used.discard(normalized(material.entry.answer))
                facts.discard(dropped.fact)
        taken += chosen
    return taken, made


def by_mix(questions: list[QuizQuestion], count: int, mix: dict[str, float]) -> list[QuizQuestion]:
    """``count`` of ``questions`` whose difficulties follow the shares of ``mix`` (难度 -> share) most closely."""
    chosen: list[QuizQuestion] = []
    left = questions[:]
    while left and len(chosen) < count:
        def shortfall(level: str) -> float:
            return mix.get(level, 0) * (len(chosen) + 1) - sum(q.difficulty == level for q in chosen)

        best = max(left, key=lambda q: shortfall(q.difficulty))
        chosen.append(best)
        left.remove(best)
    return chosen


def problems(question: QuizQuestion, entry: Entry) -> list[str]:
    """What is wrong with ``question`` made from ``entry`` (empty when it passes the quality checks):
    options repeated or of very different lengths, a key that is not one of the options or not in the
    answer, a distractor that is also right, a blank that shows its key, a 判断 that does not match."""
    found: list[str] = []
    answer = normalized(entry.answer)
    options = [normalized(o) for o in question.options]
    if len(set(options)) != len(options):
        found.append("选项重复")
    if question.kind in ("single", "multiple"):
        lengths = [len(o) for o in question.options]
        if not similar_lengths(lengths):
            found.append("选项长短相差太大")
        keys = [LETTERS.index(k) for k in question.answer if k in LETTERS[:len(options)]]
        if len(keys) != len(question.answer) or (question.kind == "single") != (len(keys) == 1):
            found.append("答案不是选项之一或数目不对")
        right = {options[i] for i in keys}
        if any(o not in answer for o in right):
            found.append("正确选项不在条目答复中")
        wrong = [o for o in options if o not in right]
        if any(o in answer or any(o in r or r in o for r in right) for o in wrong):
            found.append("干扰项也是正确的")
    elif question.kind == "blank":
        key = question.answer[0]
        if key not in entry.answer or key in question.stem.split("”：", 1)[-1] or BLANK not in question.stem:
            found.append("填空的答案不在原文或未挖空")
    elif question.kind == "judge":
        statement = normalized(question.stem.split("”：", 1)[-1])
        if (statement in answer) != (question.answer == ("正确",)):
            found.append("判断题的答案与原文不符")
    elif question.kind == "short":
        if len(question.points) < MIN_POINTS or any(normalized(p) not in answer for p in question.points):
            found.append("简答的评分要点不在答复中")
    if question.kind not in KINDS:
        found.append("未知题型")
    return found


def duplicate_facts(questions: list[QuizQuestion]) -> int:
    """How many questions test a fact (or an entry) already tested by an earlier question of the list."""
    facts, entries, repeated = set(), set(), 0
    for q in questions:
        ids = {s.entry_id for s in q.sources}
        repeated += q.fact in facts or bool(ids & entries)
        facts.add(q.fact)
        entries |= ids
    return repeated
