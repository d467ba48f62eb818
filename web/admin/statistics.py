"""统计: the knowledge base's growth and the counters' questions, as charts and a few numbers.

The counts come from :mod:`kb.statistics` for an account admitted to ``usage``: published entries
per 事项 and per month, questions per day and the share of each outcome (已回答, 需追问, 暂无答案)
per day over the chosen period. The charts are gradio's native plots fed with pandas DataFrames.
"""

from __future__ import annotations

from datetime import date, timedelta

import gradio as gr
import pandas as pd

from kb.statistics import OUTCOMES, Summary, entries_per_item, published_per_month, questions_per_day, summary

from ..context import Context, account, acting
from ..opening import Opening

TITLE = "统计"
PERIODS = [("最近 7 天", 7), ("最近 30 天", 30), ("最近 90 天", 90), ("全部", 0)]
NO_ITEM = "（未填事项）"
COLORS = {"已回答": "#2e7d32", "需追问": "#ef8f00", "暂无答案": "#c62828"}
COUNTS = {"y_lim": [0, None], "height": 320}
"""A count axis starts at zero."""
DAY = "%m-%d"
MAX_DAYS = 36500
"""The longest period asked for by days: a hundred years."""


def period(days: int) -> tuple[str, str]:
    """``(since, until)`` ISO dates for the last ``days`` days up to today (0: no bounds)."""
    if not days:
        return "", ""
    today = date.today()
    return (today - timedelta(days=days - 1)).isoformat(), today.isoformat()


def headline(numbers: Summary, label: str) -> str:
    """The summary as Markdown: entries and documents now, and the period's questions by outcome."""
    shares = "，".join(f"{name} {numbers.outcomes.get(key, 0)} 次（{numbers.share(key):.0%}）"
                       for key, name in OUTCOMES.items())
    asked = f"**{label}提问 {numbers.questions} 次**" + (f"：{shares}" if numbers.questions else "")
    return (f"**已发布条目 {numbers.published} 条**　待审核 {numbers.drafts} 条　文档 {numbers.documents} 篇\n\n"
            f"{asked}")


def tables(ctx: Context, days: int | None, request: gr.Request | None) -> tuple[str, pd.DataFrame, pd.DataFrame,
                                                                                pd.DataFrame, pd.DataFrame]:
    """The summary Markdown and the four charts' data for the last ``days`` days (0: all):
    条目数 per 事项, 条目数 per 月份, 提问数 per 日期, and 占比 (%) per 日期 and 结果."""
    acting(ctx, request, "usage")
    try:
        days = max(int(days or 0), 0)
    except (ValueError, OverflowError):
        raise gr.Error(f"时间范围“{days}”应为天数（如 30），0 表示全部。", title="时间范围有误") from None
    if days > MAX_DAYS:
        raise gr.Error(f"时间范围 {days} 天太长：最多 {MAX_DAYS} 天，要看全部请选“全部”。", title="时间范围有误")
    since, until = period(days)
    conn = ctx.kb.records.conn
    with ctx.lock:
        numbers = summary(conn, since, until)
        items = entries_per_item(conn)
        months = published_per_month(conn)
        per_day = questions_per_day(conn, since, until)
    label = next((name for name, value in PERIODS if value == days), f"最近 {days} 天")
    by_item = pd.DataFrame([(item or NO_ITEM, n) for item, n in items], columns=["事项", "条目数"])
    by_month = pd.DataFrame(months, columns=["月份", "条目数"])
    asked = pd.DataFrame([(d.day, d.total) for d in per_day], columns=["日期", "提问数"])
    shares = pd.DataFrame([(d.day, OUTCOMES[key], round(100 * n / d.total, 1) if d.total else 0.0)
                           for d in per_day for key, n in d.outcomes.items() if key in OUTCOMES],
                          columns=["日期", "结果", "占比（%）"])
    asked["日期"] = pd.to_datetime(asked["日期"])
    return headline(numbers, label), by_item, by_month, asked, shares


def build(ctx: Context, opening: Opening) -> None:
    """The section: the period, the numbers, and the four charts."""
    with gr.Row():
        days = gr.Radio(PERIODS, value=30, label="提问统计的时间范围", scale=3)
        refresh = gr.Button("刷新", scale=1)
    shown = gr.Markdown()
    with gr.Row():
        by_item = gr.BarPlot(x="事项", y="条目数", title="各事项已发布条目数", x_title="事项", y_title="条目数",
                             sort="-y", x_label_angle=-30, **COUNTS)
        by_month = gr.BarPlot(x="月份", y="条目数", title="每月发布条目数", x_title="月份", y_title="条目数", **COUNTS)
    with gr.Row():
        asked = gr.LinePlot(x="日期", y="提问数", title="每日提问数", x_title="日期", y_title="提问数",
                            x_axis_format=DAY, **COUNTS)
        shares = gr.BarPlot(x="日期", y="占比（%）", color="结果", title="每日回答结果占比", x_title="日期",
                            y_title="占比（%）", color_title="结果", color_map=COLORS, sort="x", x_label_angle=-45,
                            y_lim=[0, 100], height=320)
    outputs = [shown, by_item, by_month, asked, shares]

    def on_refresh(value, request: gr.Request):
        return tables(ctx, value, request)

    def loaded(value, request: gr.Request):
        """The charts when the section opens; nothing for a role that does not see the 管理 page."""
        if not account(ctx, request).can("usage"):
            return tuple(gr.skip() for _ in outputs)
        return tables(ctx, value, request)

    refresh.click(on_refresh, days, outputs, api_name="statistics")
    days.change(on_refresh, days, outputs, api_visibility="private")
    opening.load(loaded, days, outputs, api_visibility="private")
