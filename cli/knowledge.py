"""Knowledge commands: search, ask, stats, reindex, export/import, eval, demo, settings."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb.asklog import log_answer
from kb.config import load_settings, settings_table
from kb.errors import KBError
from kb.records import entry_dict
from kb.types import Document
from kb.users import authorize

from .base import (
    DATE,
    cli,
    data_options,
    filter_options,
    login_options,
    open_kb,
    open_reading,
    open_records,
)
from .ingesting import run_ingest
from .llm_mode import llm_follow_up, open_llm

if TYPE_CHECKING:
    from bot import Answer
    from kb import KnowledgeBase


def _positive(ctx, param, value):
    """A count option given: a whole number of at least 1."""
    if value is not None and value < 1:
        raise click.UsageError(f"选项 {param.opts[0]} 的值 {value} 不对：请写 1 或更大的整数，如 5。", ctx)
    return value


def _confidence(ctx, param, value):
    """A confidence threshold given: between 0 and 1."""
    if value is not None and not 0 <= value <= 1:
        raise click.UsageError(f"选项 {param.opts[0]} 的值 {value:g} 超出范围：置信度在 0 到 1 之间，如 0.7。", ctx)
    return value


DEMO_QUESTIONS = ("房本丢了怎么补办？", "辞职了，公积金能全部取出来吗？", "公积金账户里的钱能一次性全部取出来吗？",
                  "居住证到期了怎么续签？", "驾驶证到期了怎么换？")
"""Everyday words, a deciding word, a question two entries answer differently, a document, and a subject
the sample does not cover."""


@cli.command()
@click.argument("query")
@click.option("--k", "k", type=int, callback=_positive, help="返回条数（按条目/文档去重）[KB_TOP_K]")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "keyword"]), default="hybrid", show_default=True)
@click.option("--drafts", is_flag=True, help="同时检索待审核的草稿（结果中 status 为 draft）")
@click.option("--as-of", "as_of", type=DATE, default="", help="按这一天的口径检索，默认今天")
@filter_options
@login_options
@data_options
def search(settings, query, k, mode, drafts, as_of, filters, login):
    """检索，每行输出一个 JSON 结果（可接管道）。已建立账号的知识库需登录；--drafts 需组长/培训师或管理员。

    \b
    kb search "公积金提取" --k 3 --item 公积金
    """
    if not query.strip():
        raise click.UsageError("请写出要检索的内容，如 kb search \"公积金提取\"。")
    kb = open_reading(settings, login, "drafts" if drafts else "read", answers=True)
    for hit in kb.search(query, k=k or load_settings().top_k, filters=filters, mode=mode, drafts=drafts, as_of=as_of):
        click.echo(json.dumps(asdict(hit), ensure_ascii=False))


def format_answer(result: Answer) -> str:
    lines = [f"按‘{result.resolved}’回答"] if result.resolved else []
    lines += [f"注意：{note}" for note in result.notes]
    lines.append(("答：" if result.answered else "") + result.text)
    if result.passage:
        lines.append(f"原文：{result.passage}")
    for citation in result.citations:
        lines.append(f"出处：{citation.label()}")
    lines.append(f"置信度：{result.confidence:.2f}")
    if result.related:
        lines.append("相关资料：" if result.status != "no_answer" else "可能相关（仅供参考，未达到可靠程度）：")
        for hit in result.related[:3]:
            lines.append(f"  - 《{hit.title}》（{hit.source}，{hit.date or '日期不详'}）")
    return "\n".join(lines)


def answer_json(result: Answer) -> dict:
    """An answer as JSON: every field of :class:`~bot.Answer`, related hits reduced to their citation fields."""
    data = asdict(result)
    data["related"] = [{"parent_id": h.parent_id, "title": h.title, "source": h.source, "date": h.date}
                       for h in result.related]
    return data


def read_questions(file: Path) -> list[str]:
    """The questions of a text file, one per line (blank lines skipped; any encoding the loaders read)."""
    from ingest.loaded import decode

    questions = [line.strip() for line in decode(file.read_bytes(), file).splitlines() if line.strip()]
    if not questions:
        raise KBError(f"{file} 中没有问题：请每行写一个问题。")
    return questions


@cli.command()
@click.argument("question", required=False)
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="问题文件：每行一个问题，一次回答全部（配合 --json 每行输出一个 JSON 对象）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--min-confidence", type=float, callback=_confidence, help="最低置信度（0 到 1）[KB_MIN_CONFIDENCE]")
@click.option("--drafts", is_flag=True, help="也参考待审核的草稿（会明确标注“待审核”）")
@click.option("--as-of", "as_of", type=DATE, default="", help="按这一天的口径回答（预览将要生效的变更），默认今天")
@click.option("--session", "session", metavar="编号",
              help="会话编号：同一编号的连续提问是一段对话，追问（如“那需要带什么材料？”）按上文理解")
@click.option("--llm/--offline", "use_llm", default=None,
              help="用大模型组织回答（设置了 KB_LLM_BASE_URL 时默认使用）/ 只用离线回答；大模型不可用时自动改用离线回答并注明")
@filter_options
@login_options
@data_options
def ask(settings, question, file, as_json, min_confidence, drafts, as_of, session, use_llm, filters, login):
    """回答问题，附出处、日期和置信度；没有可靠答案时明确说明并建议转办；两条相近条目分不清时请先问清是哪一种。
    已建立账号的知识库需登录（中心可开启 anonymous_read 允许不登录问答）；--drafts 需组长/培训师或管理员。

    \b
    kb ask "异地就医备案怎么办？"
    kb ask --file 常见问题.txt --json > 回答.jsonl
    kb ask "居住证怎么签注" --as-of 2026-12-01
    kb ask "居住证怎么签注" --session 窗口3
    kb ask "那需要带什么材料？" --session 窗口3
    """
    if bool(question and question.strip()) == bool(file):
        raise click.UsageError("请给出一个问题，或用 --file 给出问题文件（二者选一）。")
    options = load_settings(min_confidence=min_confidence)
    kb = open_reading(settings, login, "drafts" if drafts else "read", answers=True)
    llm = open_llm(use_llm, options)
    from bot.chat import follow_up, turn_of
    from kb.sessions import Sessions

    sessions = Sessions(kb.records) if session else None
    history = sessions.turns(session, login.reader.username) if sessions else []
    for text in read_questions(file) if file else [question]:
        asked = dict(k=options.top_k, min_confidence=options.min_confidence, filters=filters, drafts=drafts,
                     as_of=as_of)
        result = (llm_follow_up(llm, kb, history, text, not as_json and sys.stdout.isatty(), **asked) if llm
                  else follow_up(kb, history, text, **asked))
        if sessions:
            history.append(sessions.append(session, login.reader.username, turn_of(result)))
        with kb.records.transaction(changes_index=False) as conn:
            log_id = log_answer(conn, login.reader.username, result, "cli")
        if as_json:
            click.echo(json.dumps({**answer_json(result), "log_id": log_id}, ensure_ascii=False,
                                  indent=None if file else 2))
        else:
            rating = f"记录编号：{log_id}（评价这条回答：kb feedback {log_id} --useful 或 --useless）"
            if not result.answered:
                rating += f"\n答不上来？转办不成事窗口：kb escalate --ask {log_id} --situation \"群众的具体情况\""
            click.echo((f"问：{text}\n" if file else "") + format_answer(result) + "\n" + rating + ("\n" if file else ""))


@cli.command()
@login_options
@data_options
def stats(settings, login):
    """知识库统计：条目、文档、分块、向量数，最近的导入记录。"""
    data = open_reading(settings, login, "stats", creates=True).stats()
    recent = data.pop("recent")
    for key, value in data.items():
        click.echo(f"{key}: {value}")
    if not data["index_complete"]:
        click.secho("向量索引与记录不一致，请运行 `kb reindex`。", fg="yellow")
    for event in recent:
        click.echo(f"  {event['at']}  {event['status']:<9} {event['path']}  {event['detail']}")


@cli.command()
@login_options
@data_options
def reindex(settings, login):
    """从记录库重建向量索引和关键词索引（例如更换嵌入模型后：kb reindex --embedder st:/path/model）。"""
    with open_records(settings) as records:
        authorize(records, login(records), "import")
    kb = open_kb(settings, rebuild=True)
    with click.progressbar(length=kb.records.counts()["chunks"], label="重新嵌入", file=sys.stderr) as bar:
        count = kb.reindex(on_embedded=bar.update)
    click.echo(f"已用 {kb.embedder.model_id} 重建 {count} 个分块的索引。")


@cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@login_options
@data_options
def export_(settings, file, login):
    """把全部条目（含审核状态和待审核的草稿）和文档导出为 JSONL，可用 kb import 恢复（组长/培训师、管理员）。
    版本历史、审计日志和账号用 kb backup 备份。"""
    from bot.output import writing

    kb = open_reading(settings, login, "export")
    lines = []
    for record in kb.iter_records():
        if isinstance(record, Document):
            data = {"type": "document", "docid": record.id, **asdict(record)}
            del data["id"]
        else:
            data = {"type": "entry", **entry_dict(record), "state": asdict(kb.records.state(record.id))}
        lines.append(json.dumps(data, ensure_ascii=False) + "\n")
    with writing(file):
        file.write_text("".join(lines), encoding="utf-8")
    click.echo(f"已导出 {len(lines)} 条记录到 {file}")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@login_options
@data_options
def backup(settings, file, login):
    """完整备份记录库（条目、版本历史、审计日志、账号）到一个 SQLite 文件（管理员）。

    \b
    恢复：kb restore-backup 备份文件（先自动备份当前记录，恢复后重建索引）
    """
    with open_records(settings) as records:
        authorize(records, login(records), "import")
        records.backup(file)
    click.echo(f"已备份到 {file}")


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--overwrite", "overwrite", multiple=True, metavar="编号",
              help="以文件为准覆盖这条已审核的条目（可重复；冲突见导入报告，操作记入审计日志）")
@login_options
@data_options
def import_(settings, file, overwrite, login):
    """从 kb export 生成的 JSONL 恢复条目和文档（编号、来源、日期和审核状态保持不变）。

    库中已经过审核流程的条目与文件不一致时不会被覆盖，报告为冲突；以文件为准时用 --overwrite 编号。
    """
    kb = open_kb(settings)
    report = run_ingest(kb, [file], login(kb.records), frozenset(overwrite))
    if report.failed:
        sys.exit(1)


@cli.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mode", "modes", multiple=True, type=click.Choice(["hybrid", "dense", "keyword"]),
              help="检索方式，可重复以在一次运行中对比（默认 hybrid）")
@click.option("--min-confidence", type=float, callback=_confidence,
              help="按这个阈值（0 到 1）报告回答效果 [KB_MIN_CONFIDENCE]")
@click.option("--json", "as_json", is_flag=True, help="以一个 JSON 对象输出")
@click.option("--llm", "use_llm", is_flag=True,
              help="再用设置的大模型把每个问题答一遍，报告它的回答效果（按 llm_min_confidence 读资料）")
@login_options
@data_options
def eval_(settings, file, modes, min_confidence, as_json, use_llm, login):
    """评测检索（hit@1/3/5/10、MRR、延迟 p50/p95）和回答：在设定的阈值下，可回答问题答对的比例、
    给出的回答中答对的比例（准确率）、不可回答问题拒答的比例；并列出各阈值的效果、推荐阈值。
    加 --llm 时再报告大模型回答的同样三个比例和回答来源，用来决定能否调低 llm_min_confidence。

    \b
    kb eval questions.jsonl --mode hybrid --mode dense --mode keyword
    kb eval questions.jsonl --llm
    """
    from bot import calibrate
    from kb.evaluate import evaluate, load_cases

    options = load_settings(min_confidence=min_confidence)
    llm = open_llm(True, options) if use_llm else None
    kb = open_reading(settings, login, "stats", answers=True)
    cases = load_cases(file)
    threshold = options.min_confidence
    results = {"modes": [evaluate(kb, cases, mode) for mode in (modes or ("hybrid",))],
               "answers": calibrate(kb, cases, threshold, options.top_k)}
    if llm is not None:
        from bot.llm_eval import llm_quality

        results["llm"] = llm_quality(kb, llm, cases, threshold, options.top_k)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False))
        return
    click.echo(f"{'mode':<8} {'n':>4} {'hit@1':>6} {'hit@3':>6} {'hit@5':>6} {'hit@10':>6} {'MRR':>6} {'p50ms':>7} {'p95ms':>7}")
    for r in results["modes"]:
        click.echo(f"{r['mode']:<8} {r['questions']:>4} {r['hit@1']:>6.3f} {r['hit@3']:>6.3f} {r['hit@5']:>6.3f} "
                   f"{r['hit@10']:>6.3f} {r['mrr']:>6.3f} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f}")
    answers = results["answers"]
    at = answers["at"]
    click.echo(f"\n回答（阈值 {threshold}）：可回答问题答对 {at['answered_right']:.3f}（{at['answerable']} 个），"
               f"回答准确率 {at['precision']:.3f}（给出 {at['answered']} 个回答，其中 {at['ambiguous']} 个请群众说明），"
               f"不可回答问题拒答 {at['refused_unanswerable']:.3f}（{at['unanswerable']} 个）")
    if answers["kinds"]:
        click.echo(by_kind(answers["kinds"]))
    click.echo("阈值   答对率(可回答)  准确率(已回答)  拒答率(不可回答)")
    for row in answers["rows"]:
        click.echo(f"{row['threshold']:<6} {row['answered_right']:>12.3f} {row['precision']:>14.3f} "
                   f"{row['refused_unanswerable']:>14.3f}")
    if answers["recommended"] is not None:
        click.echo(f"建议阈值 min_confidence = {answers['recommended']}")
    if llm is not None:
        click.echo(llm_summary(results["llm"]))


def by_kind(kinds: list[dict]) -> str:
    """The answer figures at the threshold per kind of question, one line each."""
    lines = ["按问题类型：类型  可回答(答对率)  不可回答(拒答率)  答错"]
    for r in kinds:
        answerable = f"{r['answerable']}（{r['answered_right']:.3f}）" if r["answerable"] else "-"
        unanswerable = f"{r['unanswerable']}（{r['refused_unanswerable']:.3f}）" if r["unanswerable"] else "-"
        lines.append(f"  {r['kind']}  {answerable}  {unanswerable}  {r['answered'] - r['right']}")
    return "\n".join(lines)


def llm_summary(r: dict) -> str:
    """The model's answer figures of ``kb eval --llm`` in one paragraph."""
    s = r["sources"]
    return (f"\n大模型回答（阈值 {r['threshold']}，从离线置信度 {r['read_from']} 起请大模型读资料）：可回答问题答对 "
            f"{r['answered_right']:.3f}，回答准确率 {r['precision']:.3f}（给出 {r['answered']} 个回答），"
            f"不可回答问题拒答 {r['refused_unanswerable']:.3f}；大模型作答 {s['llm']} 个，认为资料没有答案 {s['declined']} 个，"
            f"失败改用离线回答 {s['fallback']} 个，离线就拒答、没有问大模型 {s['offline']} 个；每题 p50 {r['p50_s']:.1f} 秒、"
            f"p95 {r['p95_s']:.1f} 秒")


def build_demo(settings) -> KnowledgeBase:
    """The sample knowledge base in ``settings.data_dir``, built from the bundled sample (unchanged files are
    skipped) with the vectors it ships (:mod:`kb.known_vectors`)."""
    from kb.bundled import sample_documents, sample_vectors

    kb = open_kb(settings)
    kb.reuse_vectors(sample_vectors())
    run_ingest(kb, sample_documents())
    return kb


@cli.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-data"),
              show_default=True, help="示例知识库的数据目录（与正式数据分开）")
@click.option("--question", "questions", multiple=True, help="要提问的问题，可重复；默认用几个示例问题")
def demo(directory, questions):
    """用内置示例（疑难案例登记表 + 3 份业务文件）建一个示例知识库并回答几个问题。"""
    from bot import answer

    settings = load_settings(data_dir=str(directory))
    kb = build_demo(settings)
    for question in questions or DEMO_QUESTIONS:
        click.echo(f"\n问：{question}")
        click.echo(format_answer(answer(kb, question, k=settings.top_k, min_confidence=settings.min_confidence)))
    click.echo(f"\n继续提问：kb --help；例如 kb ask \"…\" --data-dir {directory}")


@cli.command("settings")
def settings_():
    """列出全部设置、环境变量和默认值（优先级：命令行参数 > 环境变量 > 默认值）。"""
    click.echo(settings_table())
