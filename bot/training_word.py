"""The training pack and the four-week plan as printable documents: Markdown, Word and PDF.

Both are first laid out as document blocks (:mod:`bot.word`), then written as .docx by
:func:`bot.word.write_docx` or as Markdown by :func:`markdown`, which escapes every stored text
(:func:`bot.digest.escape_markdown`). The pack's self-test prints its questions first and the key in a
separate section at the end, so the last page can be cut off before handing it out. :func:`to_pdf`
converts a .docx with LibreOffice (``soffice --headless --convert-to pdf``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from .digest import escape_markdown
from .onboarding import Plan
from .paper_word import option_lines
from .training import TrainingError, TrainingPack
from .word import Block, Heading, Paragraph, Table, write_docx

PDF_TIMEOUT = 180
"""Seconds LibreOffice may take to convert one document."""
NO_OFFICE = ("未找到 LibreOffice（soffice 命令），无法生成 PDF：请安装 LibreOffice（运行 scripts/system_deps.sh），"
             "或先下载 Word 版打印。")


def _cell(text: str) -> str:
    return " ".join(text.split())


def pack_blocks(pack: TrainingPack) -> list[Block]:
    """The pack as document blocks: the four parts, then the self-test key."""
    blocks: list[Block] = [Paragraph(
        f"统计期间：{pack.since} 至 {pack.until}。本月新增和变更口径 {pack.change_count} 条，"
        f"问答 {sum(g.asked for g in pack.asked)} 次（前 {len(pack.asked)} 个问题），"
        f"自测错题 {len(pack.missed)} 道，随附自测题 {len(pack.self_test)} 道。")]
    blocks.append(Heading(f"一、本月新增和变更的口径（{pack.change_count} 条）"))
    if not pack.changes:
        blocks.append(Paragraph("本月没有新增或变更的口径。"))
    for item, changes in pack.changes:
        blocks.append(Heading(f"事项：{item}（{len(changes)} 条）", 2))
        for c in changes:
            blocks.append(Paragraph(f"#{c.entry_id} {c.question}", bold=True))
            rows = [("类别", c.label), ("日期", c.on), ("答复", c.answer), ("依据", c.basis or "未注明"),
                    ("部门", c.department), ("版本", f"第 {c.version} 版")]
            if c.replaces:
                rows.insert(2, ("取代", f"#{c.replaces} {c.replaces_question}"))
            blocks.append(Table(tuple((label, value) for label, value in rows if value), widths=(2.5, 13.5)))
    blocks.append(Heading("二、本月咨询最多的问题"))
    blocks.append(_asked_table(pack.asked) if pack.asked else Paragraph("本月没有问答记录。"))
    blocks.append(Heading("三、本月拒答最多的问题"))
    blocks.append(Paragraph("以下问题知识库未能回答，请培训时给出正确口径，并补充到知识库。"))
    blocks.append(_asked_table(pack.refused) if pack.refused else Paragraph("本月没有拒答的问题。"))
    blocks.append(Heading("四、本月自测中答错的题目"))
    if pack.missed:
        rows = [("序号", "事项", "题型", "题目", "答错/作答")]
        rows += [(str(n), m.item, m.question.label, _cell(m.question.stem), f"{m.errors}/{m.answers}")
                 for n, m in enumerate(pack.missed, 1)]
        blocks.append(Table(tuple(rows), header=True, widths=(1.2, 3, 1.5, 8.3, 2)))
    else:
        blocks.append(Paragraph("本月没有自测答错的记录。"))
    blocks += _self_test_blocks(pack)
    return blocks


def _asked_table(groups) -> Table:
    rows = [("序号", "问题", "提问次数", "拒答次数", "最近提问")]
    rows += [(str(n), _cell(g.wording), str(g.asked), str(g.refused), g.last_at[:16].replace("T", " "))
             for n, g in enumerate(groups, 1)]
    return Table(tuple(rows), header=True, widths=(1.2, 8.8, 2, 2, 2))


def _self_test_blocks(pack: TrainingPack) -> list[Block]:
    blocks: list[Block] = [Heading(f"五、月度自测（{len(pack.self_test)} 题）")]
    if not pack.self_test:
        return blocks + [Paragraph("本月没有可出题的内容。")]
    blocks.append(Paragraph(f"前 {pack.from_missed} 题选自本月自测中答错最多的题目，其余根据本月新增和变更的口径出题。"))
    for n, q in enumerate(pack.self_test, 1):
        stem = q.stem + ("（　）" if q.kind == "judge" and "（　）" not in q.stem else "")
        blocks.append(Paragraph(f"{n}.【{q.label}】{stem}"))
        blocks += [Paragraph("　　" + line) for line in option_lines(q)]
    blocks.append(Heading("六、自测参考答案"))
    for n, q in enumerate(pack.self_test, 1):
        explanation = "\n".join("　　" + line for line in q.explanation.strip().split("\n") if line)
        blocks.append(Paragraph(f"{n}. {q.key_line}" + (f"\n{explanation}" if explanation else "")))
    return blocks


def plan_blocks(plan: Plan) -> list[Block]:
    """The plan as document blocks: the progress summary, then one table per week."""
    blocks: list[Block] = [Paragraph(
        f"学员：{plan.name}（{plan.username}）。共 {len(plan.items)} 个事项，按窗口遇到的频次从高到低分四周学习；"
        f"已完成 {plan.count('done')} 个，进行中 {plan.count('started')} 个，未开始 {plan.count('todo')} 个。")]
    for week in plan.weeks:
        blocks.append(Heading(f"第{'一二三四'[week.number - 1]}周（{week.start} 至 {week.end}，"
                              f"{len(week.items)} 个事项，{week.entries} 条）"))
        if not week.items:
            blocks.append(Paragraph("本周复习前几周的事项。"))
            continue
        rows = [("序号", "事项", "条目数", "窗口提问", "已学", "答对", "答错", "进度")]
        rows += [(str(n), i.item, str(i.entries), str(i.demand), f"{i.covered}/{i.entries}", str(i.correct),
                  str(i.wrong), i.progress_label) for n, i in enumerate(week.items, 1)]
        blocks.append(Table(tuple(rows), header=True, widths=(1.2, 5.3, 1.5, 1.8, 1.5, 1.5, 1.5, 1.7)))
    return blocks


def markdown(title: str, blocks: list[Block]) -> str:
    """Blocks as Markdown: headings, paragraphs, and tables (a header table as a Markdown table, a
    label/value table as a list); every text escaped."""
    out = [f"# {escape_markdown(title, inline=True)}", ""]
    for block in blocks:
        if isinstance(block, Heading):
            out += ["#" * (block.level + 1) + " " + escape_markdown(block.text, inline=True), ""]
        elif isinstance(block, Paragraph):
            text = escape_markdown(block.text, inline=block.bold).replace("\n", "  \n")
            out += [f"**{text}**" if block.bold else text, ""]
        elif block.header:
            cells = [[escape_markdown(_cell(c), inline=True) for c in row] for row in block.rows]
            out += ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
            out += ["| " + " | ".join(row) + " |" for row in cells[1:]] + [""]
        else:
            out += [f"- {label}：" + escape_markdown(value, inline=True).replace("\n", "  \n  ")
                    for label, value in block.rows] + [""]
    return "\n".join(out).rstrip() + "\n"


def pack_markdown(pack: TrainingPack) -> str:
    """The pack as Markdown (the same content as :func:`pack_docx`)."""
    return markdown(pack.title, pack_blocks(pack))


def plan_markdown(plan: Plan) -> str:
    """The plan as Markdown (the same content as :func:`plan_docx`)."""
    return markdown(plan.title, plan_blocks(plan))


def pack_docx(pack: TrainingPack, path: Path | str) -> Path:
    """Write the pack as a printable .docx; returns the path."""
    made = datetime.now().strftime("%Y-%m-%d %H:%M")
    return write_docx(path, pack.title, pack_blocks(pack), subtitle=f"统计月份：{pack.month}　生成时间：{made}")


def plan_docx(plan: Plan, path: Path | str) -> Path:
    """Write the plan as a printable .docx; returns the path."""
    made = datetime.now().strftime("%Y-%m-%d %H:%M")
    return write_docx(path, plan.title, plan_blocks(plan), subtitle=f"生成时间：{made}")


def office() -> str:
    """The LibreOffice command (``soffice`` or ``libreoffice``); :class:`TrainingError` if neither is installed."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise TrainingError(NO_OFFICE)
    return found


def to_pdf(docx_path: Path | str, out_dir: Path | str | None = None) -> Path:
    """Convert a .docx to PDF with LibreOffice into ``out_dir`` (the .docx's folder by default); returns
    the PDF's path. Each conversion uses its own LibreOffice profile, so conversions may run at once."""
    source = Path(docx_path)
    target_dir = Path(out_dir or source.parent)
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kb-office-") as profile:
        try:
            done = subprocess.run(
                [office(), f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--convert-to", "pdf",
                 "--outdir", str(target_dir), str(source)],
                capture_output=True, text=True, timeout=PDF_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise TrainingError(f"LibreOffice 转换 {source.name} 超过 {PDF_TIMEOUT} 秒未完成，请稍后重试。") from exc
    pdf = target_dir / f"{source.stem}.pdf"
    if done.returncode != 0 or not pdf.is_file():
        detail = (done.stderr or done.stdout).strip()[-300:]
        raise TrainingError(f"LibreOffice 未能把 {source.name} 转成 PDF：{detail or '没有输出'}。"
                            "请确认 LibreOffice 能正常运行（scripts/system_deps.sh 会安装它）。")
    return pdf
