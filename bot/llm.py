"""Fluent answers from an LLM, grounded in the knowledge base: the one module that imports langchain-openai.

Any OpenAI-compatible chat endpoint works (vLLM, Ollama, Xinference, llama.cpp's server, a hosted
Qwen/DeepSeek/GLM) through langchain's ``ChatOpenAI``; tests pass any langchain chat model to :class:`LLM`.

How a question is answered (:meth:`LLM.reply`):

1. The offline answer (:mod:`bot.answer`) comes first and decides whether the knowledge base can answer
   at all. A refusal (below the confidence threshold, a deciding-word rule broken, only an expired
   口径) is returned as it is and the model is never called, so it cannot make up a policy. A centre
   whose model reads reliably may let it read from a lower confidence (``read_from``): between that and
   the threshold the model is asked too, and its cited answer is given with a note saying so.
2. Otherwise the model gets only current passages (published and unexpired; drafts only when asked
   for; superseded entries never come back from search), the offline answer's source first, numbered,
   and must cite them as [1], [2].
3. Its tokens stream as they arrive. The finished text is checked: a citation of a number that was
   not given is removed and the answer says so; the cited passages become the answer's citations,
   renumbered [1], [2] … in the order of the passages.
   The model reads the passages before it answers: when they only touch the matter and do not say what
   was asked, it is told to reply :data:`DECLINED` alone, and the answer becomes a refusal that names
   the nearest source (and, like any refusal, a knowledge-gap question), not the offline answer.
4. If the model cannot be reached, is slower than the timeout (to the first token, or between two
   tokens), fails, or returns nothing usable (no text, or no citation of a given passage), the offline
   answer is returned with a note saying why: a counter never waits on a dead server.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from kb import Filters, Hit, KnowledgeBase
from kb.config import default
from kb.errors import KBError
from kb.sessions import Turn

from .answer import (DEFAULT_MIN_CONFIDENCE, NO_ANSWER_TEXT, Answer, Citation, currency_notes, decide,
                     judged_search, settle)
from .chat import OfflineRewriter
from .retriever import passage_text, usable

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = float(default("llm_timeout"))
MAX_PASSAGES = 4
MAX_TOKENS = int(default("llm_max_tokens"))
"""Sent as ``max_tokens``, which every OpenAI-compatible server reads (``ChatOpenAI`` would send it as
``max_completion_tokens``, which older vLLM, Ollama and llama.cpp servers ignore)."""
LLM_ERRORS = (openai.OpenAIError, httpx.HTTPError, OSError, ValueError)
"""What a failing endpoint raises: the OpenAI client's errors, transport errors from a stream cut
short, ``TimeoutError`` for a model slower than the timeout, and ``ValueError`` for a response that
is malformed or holds no text at all (langchain's "No generation chunks were returned")."""

ANSWER_PROMPT = (
    "你是政务服务中心综合窗口的业务助手，帮窗口工作人员答复群众。只能依据用户消息里编号的资料回答，"
    "不得使用资料以外的知识，不得编造政策、材料、时限或金额。每句话后用方括号注明依据的资料编号，如 [1]、[2]。"
    "资料说法不同或适用情形不同时，分别说明并注明编号。用简体中文，简洁，不超过 200 字。"
    "如果资料只讲到相关的事，没有讲问题问的这一点，不要推测，只输出：资料中没有答案"
)
DECLINED = "资料中没有答案"
"""What the model replies, alone, when the passages do not answer the question."""
REWRITE_PROMPT = (
    "下面是政务服务中心窗口的一段问答。请把最后一个问题改写成不看上文也能看懂的完整问题："
    "补上前文说到的事项、证件和情形。只输出改写后的问题，不要回答，不要解释。"
)
GENERATED_NOTE = "此回答由大模型依据下列出处生成，答复群众前请以出处原文为准。"
CITE = re.compile(r"[\[［【]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]］】]")
THINKING = re.compile(r"<think>.*?(</think>|$)", re.S)


@dataclass(frozen=True)
class CheckedText:
    """A model's answer after :func:`check_citations`: ``text`` with valid citations renumbered and the
    others removed; ``cited`` the given passage numbers it cites, in their new order ([1] is
    ``cited[0]``); ``removed`` the numbers it cited that were not given."""

    text: str
    cited: tuple[int, ...]
    removed: tuple[int, ...]


def check_citations(text: str, given: int) -> CheckedText:
    """Parse the bracketed citations of ``text`` ([1], [1,2], 【3】, ［2］) against ``given`` passages
    numbered from 1: keep and renumber those in range (as [1][2]), drop the others."""
    numbers = [int(n) for m in CITE.finditer(text) for n in re.findall(r"\d+", m.group(1))]
    cited = tuple(sorted({n for n in numbers if 1 <= n <= given}))
    removed = tuple(sorted({n for n in numbers if not 1 <= n <= given}))
    new = {old: i for i, old in enumerate(cited, 1)}

    def renumber(match: re.Match) -> str:
        kept = dict.fromkeys(new[n] for n in map(int, re.findall(r"\d+", match.group(1))) if n in new)
        return "".join(f"[{n}]" for n in kept)

    return CheckedText(re.sub(r"[ \t]{2,}", " ", CITE.sub(renumber, text)).strip(), cited, removed)


def passages_prompt(question: str, passages: Sequence[Hit]) -> str:
    """The user message: the passages numbered from 1, each with its title, 事项, 部门, date and status,
    then the question."""
    blocks = []
    for i, hit in enumerate(passages, 1):
        facts = [f"事项：{hit.item}" if hit.item else "", f"部门：{hit.department}" if hit.department else "",
                 f"日期：{hit.date}" if hit.date else "", "待审核，未发布" if hit.status == "draft" else ""]
        label = "；".join(f for f in facts if f)
        blocks.append(f"[{i}] 《{hit.title}》" + (f"（{label}）" if label else "") + f"\n{passage_text(hit)}")
    return "资料：\n\n" + "\n\n".join(blocks) + f"\n\n问题：{question}"


def failure_note(error: BaseException, timeout: float) -> str:
    """Why the model gave no answer, in Chinese, for the note on the offline answer shown instead."""
    if isinstance(error, (TimeoutError, openai.APITimeoutError, httpx.TimeoutException)):
        why = f"大模型 {timeout:g} 秒内没有回应"
    elif isinstance(error, openai.APIStatusError):
        why = f"大模型服务返回错误（HTTP {error.status_code}）"
    elif isinstance(error, (openai.APIConnectionError, httpx.TransportError, ConnectionError)):
        why = "大模型服务连接不上或连接中断"
    elif isinstance(error, ValueError):
        why = "大模型没有给出可用的回答（回答为空或格式不对）"
    else:
        why = f"大模型服务出错（{type(error).__name__}）"
    return f"{why}，以下为离线检索的回答。"


class Reply:
    """An answer being written. Iterate for the model's tokens as they arrive (nothing when the model
    is not asked); :attr:`answer` is the final, checked answer (reading it finishes the reply).

    ``offline`` is the offline answer; ``read`` the answer the model is asked to write in its words:
    the offline one or, where that is a refusal at a confidence above the model's ``read_from``, the
    answer it would be at ``read_from``. ``passages`` are the hits given to the model (empty when it
    is not asked), ``first_token_s`` the seconds from the request to the first token (None without one).
    ``source`` says where the final answer comes from: ``llm`` (the model's answer), ``declined`` (the
    model found no answer in the passages: a refusal), ``offline`` (the model was not asked: a refusal)
    or ``fallback`` (the model failed; the offline answer carries a note saying why).
    """

    def __init__(self, offline: Answer, passages: tuple[Hit, ...], tokens: Iterator[str] | None,
                 timeout: float, hits: tuple[Hit, ...] = (), read: Answer | None = None):
        self.offline = offline
        self.read = read or offline
        self.passages = passages
        self.first_token_s: float | None = None
        self.source = "offline" if tokens is None else ""
        self._tokens = tokens
        self._timeout = timeout
        self._hits = hits
        self._parts: list[str] = []
        self._answer: Answer | None = None if tokens is not None else offline
        self._started = 0.0

    def __iter__(self) -> Iterator[str]:
        if self._answer is not None:
            return
        self._started = self._started or time.monotonic()
        try:
            for token in self._tokens:
                if self.first_token_s is None:
                    self.first_token_s = time.monotonic() - self._started
                self._parts.append(token)
                yield token
        except LLM_ERRORS as error:
            log.warning("LLM failed, answering offline: %r", error)
            self._answer = self._fallback(failure_note(error, self._timeout))
        else:
            self._answer = self._checked("".join(self._parts))

    @property
    def answer(self) -> Answer:
        """The answer to show: the model's checked answer, or the offline one (with a note if the model failed)."""
        if self._answer is None:
            for _ in self:
                pass
        return self._answer

    def _fallback(self, note: str) -> Answer:
        """The offline answer with ``note`` first among its notes (``source`` becomes ``fallback``)."""
        self.source = "fallback"
        return replace(self.offline, notes=(note, *self.offline.notes))

    def _declined(self) -> Answer:
        """The refusal given when the model finds no answer in the passages (``source`` is ``declined``)."""
        self.source = "declined"
        nearest = "".join(f"（最接近的是《{c.title}》）" for c in self.read.citations[:1])
        note = f"大模型读了检索到的资料{nearest}，认为其中没有这个问题的答案，所以不作答；下列资料仅供参考。"
        return Answer(self.read.question, "no_answer", NO_ANSWER_TEXT, self.read.confidence,
                      related=self._hits, notes=(note,), resolved=self.read.resolved)

    def _checked(self, raw: str) -> Answer:
        checked = check_citations(THINKING.sub("", raw), len(self.passages))
        if not CITE.sub("", checked.text).strip(" \n。.，,"):
            return self._fallback("大模型没有给出可用的回答（回答为空），以下为离线检索的回答。")
        if not checked.cited:
            if DECLINED in re.sub(r"\s", "", checked.text):
                return self._declined()
            return self._fallback("大模型的回答没有注明依据哪条资料，未采用，以下为离线检索的回答。")
        cited = tuple(self.passages[n - 1] for n in checked.cited)
        notes = [GENERATED_NOTE]
        if self.read.status != self.offline.status:
            notes.append(f"离线检索的置信度 {self.read.confidence:.2f} 未达回答门槛，这是大模型读了资料后认为能答才给出的回答，"
                         "请对照出处原文。")
        if checked.removed:
            wrong = "".join(f"[{n}]" for n in checked.removed)
            notes.append(f"大模型引用了没有提供给它的资料 {wrong}，这些引用已删除，该处说法没有出处，请勿采用。")
        for hit in cited:
            notes.extend(currency_notes(hit))
        ids = {h.parent_id for h in cited}
        self.source = "llm"
        return Answer(self.read.question, self.read.status, checked.text, self.read.confidence,
                      tuple(Citation.of(h) for h in cited), tuple(h for h in self._hits if h.parent_id not in ids),
                      tuple(dict.fromkeys(notes)), resolved=self.read.resolved)


class LLM:
    """A chat model that answers from the knowledge base, with the offline answer as gate and fallback.

    Args:
        model: any langchain chat model (:func:`openai_compatible` makes the usual one).
        timeout: seconds to wait for the first token and between tokens before answering offline.
        max_passages: how many passages the prompt holds at most.
        read_from: the offline confidence from which the model is asked even below the threshold
            (``min_confidence``); it must then cite the passages or decline. 1.0: never below it.
    """

    def __init__(self, model: BaseChatModel, timeout: float = DEFAULT_TIMEOUT, max_passages: int = MAX_PASSAGES,
                 read_from: float = 1.0):
        self.model = model
        self.timeout = timeout
        self.max_passages = max_passages
        self.read_from = read_from

    def reply(self, kb: KnowledgeBase, question: str, k: int = 5, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
              filters: Filters | None = None, drafts: bool = False, as_of: str = "", asked: str = "") -> Reply:
        """Start answering ``question`` (arguments as :func:`bot.answer`); iterate the reply for tokens.

        The search and the offline answer happen here; the model is asked only if the offline answer
        is not a refusal at the lower of ``min_confidence`` and ``read_from``, and only when the reply
        is iterated (or its ``answer`` read). ``asked`` is the question as typed when ``question`` is
        its standalone rewrite: the answer then keeps ``asked`` as its question and ``question`` as
        ``resolved``.
        """
        verdict = judged_search(kb, question, k, filters=filters, drafts=drafts, as_of=as_of)
        decision = decide(kb, question, verdict)
        offline = settle(kb, question, decision, min_confidence)
        read = offline
        if offline.status == "no_answer" and self.read_from < min_confidence:
            read = settle(kb, question, decision, self.read_from)
        if asked and asked != question:
            offline, read = (replace(a, question=asked, resolved=question) for a in (offline, read))
        hits = tuple(j.hit for j in verdict.judged)
        if read.status == "no_answer":
            return Reply(offline, (), None, self.timeout)
        ranked = [verdict.best] + [j for j in verdict.judged[1:] if j.clean]
        passages = tuple(j.hit for j in ranked if usable(j.hit, drafts))[: self.max_passages]
        messages = [SystemMessage(ANSWER_PROMPT), HumanMessage(passages_prompt(question, passages))]
        return Reply(offline, passages, self.stream(messages), self.timeout, hits, read)

    def ask(self, kb: KnowledgeBase, question: str, **options) -> Answer:
        """The finished answer of :meth:`reply` (same arguments), without streaming."""
        return self.reply(kb, question, **options).answer

    def follow_up(self, kb: KnowledgeBase, history: Sequence[Turn], question: str, **options) -> Reply:
        """Start answering ``question`` as the next turn of a conversation (``options`` as for :meth:`reply`).

        The model rewrites the follow-up into a standalone question from the earlier turns (their
        standalone questions and sources); if it fails, the offline resolver of :mod:`bot.chat` does.
        """
        resolver = OfflineRewriter(kb)
        standalone = self.rewrite_question(history_pairs(history), question,
                                           fallback=lambda _pairs, _q: resolver(history, question))
        return self.reply(kb, standalone, asked=question, **options)

    def stream(self, messages: list[BaseMessage]) -> Iterator[str]:
        """The model's text for ``messages``, token by token. Raises ``TimeoutError`` when no token comes
        within the timeout (the request goes on in a background thread and is dropped), or what the
        endpoint raised (:data:`LLM_ERRORS`)."""
        tokens: queue.Queue = queue.Queue()
        stop = threading.Event()
        threading.Thread(target=self._pump, args=(messages, tokens, stop), daemon=True).start()
        try:
            while True:
                try:
                    item = tokens.get(timeout=self.timeout)
                except queue.Empty:
                    raise TimeoutError(f"no token within {self.timeout:g} s") from None
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()

    def _pump(self, messages: list[BaseMessage], tokens: queue.Queue, stop: threading.Event) -> None:
        try:
            for chunk in self.model.stream(messages):
                if stop.is_set():
                    return
                if chunk.text:
                    tokens.put(str(chunk.text))
            tokens.put(None)
        except Exception as error:  # handed over to the reading thread, which re-raises it
            tokens.put(error)

    def complete(self, system: str, user: str) -> str | None:
        """The model's whole reply to one system and one user message, or None if it failed or timed out."""
        try:
            return "".join(self.stream([SystemMessage(system), HumanMessage(user)]))
        except LLM_ERRORS as error:
            log.warning("LLM failed: %r", error)
            return None

    def rewrite_question(self, history: Sequence[tuple[str, str]], question: str,
                         fallback: Callable[[Sequence[tuple[str, str]], str], str] | None = None) -> str:
        """``question`` rewritten by the model as a standalone question, using the conversation so far.

        Args:
            history: the earlier turns as (question, answer) pairs, oldest first.
            question: the follow-up as asked.
            fallback: called with the same arguments when the model fails or returns nothing usable
                (the offline resolver); without one the question is returned unchanged.
        """
        if not history:
            return question
        turns = "\n".join(f"问：{q}\n答：{a[:200]}" for q, a in history[-3:])
        text = self.complete(REWRITE_PROMPT, f"{turns}\n\n最后一个问题：{question}")
        rewritten = _first_line(THINKING.sub("", text or ""))
        if not rewritten or len(rewritten) > 4 * len(question) + 60:
            return fallback(history, question) if fallback else question
        return rewritten


def history_pairs(turns: Sequence[Turn]) -> list[tuple[str, str]]:
    """The conversation as :meth:`LLM.rewrite_question` takes it: each turn's standalone question and,
    for the answer, its source title (the turns keep no answer text)."""
    return [(t.resolved, f"（依据《{t.title}》作答）" if t.title else "（未能回答）") for t in turns]


def _first_line(text: str) -> str:
    """The first non-empty line of ``text`` without a 问题：/改写： label or quotes."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"^(改写后的问题|改写|问题|问)[:：]\s*", "", line)
    return line.strip("“”\"'「」 ")


def openai_compatible(base_url: str, model: str, api_key: str = "", timeout: float = DEFAULT_TIMEOUT,
                      max_tokens: int = MAX_TOKENS, extra_body: dict | None = None, read_from: float = 1.0) -> LLM:
    """An :class:`LLM` on an OpenAI-compatible endpoint (nothing is sent until a question is asked).

    Args:
        base_url: the endpoint, e.g. ``http://127.0.0.1:8080/v1``.
        model: the model name the server knows.
        api_key: the key, if the server wants one.
        timeout: seconds to wait for the first token and between tokens.
        max_tokens: the most tokens one answer may take.
        extra_body: extra request fields the server understands (e.g. vLLM's
            ``{"chat_template_kwargs": {"enable_thinking": False}}``).
        read_from: see :class:`LLM`.
    """
    if not base_url:
        raise KBError("没有设置大模型服务地址：请设置 llm_base_url（环境变量 KB_LLM_BASE_URL），"
                      "如 http://127.0.0.1:8080/v1；不用大模型时请用离线回答。")
    if not model:
        raise KBError("没有设置大模型的模型名：请设置 llm_model（环境变量 KB_LLM_MODEL），填大模型服务上的模型名。")
    chat = ChatOpenAI(base_url=base_url, model=model, api_key=api_key or "not-needed", timeout=timeout,
                      max_retries=0, temperature=0.1, extra_body={"max_tokens": max_tokens, **(extra_body or {})})
    return LLM(chat, timeout, read_from=read_from)
