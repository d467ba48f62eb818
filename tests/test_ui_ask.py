"""The 窗口问答 page's ratings in the real gradio app, one session driven through its handlers: the chat's
thumbs show the stored rating of each answer whether the 有用 / 没用 buttons or a thumb gave it, a thumb
clicked off or refused goes back to the stored rating, and a cleared chat starts without thumbs."""

from __future__ import annotations

import asyncio

import gradio as gr
import pytest
from fixtures import as_user, make_xlsx
from gradio.state_holder import SessionState

from ingest import ingest_paths
from kb.feedback import MAX_TEXT, ratings
from kb.users import Users
from web import ask
from web.app import build_app

ROWS = [["FAQ-QZ", "居住证签注怎么办理？", "到居住地派出所户籍窗口办理签注，需本人到场，当场办结。", "居住证签注", "公安局"],
        ["FAQ-HZ", "第一次办护照需要带什么材料？", "携带本人身份证到出入境接待大厅现场采集照片和指纹。", "普通护照", "出入境"]]
STAFF = as_user("zhangsan")


class Session:
    """One browser session of the app: its handlers run by gradio (``process_api``) with the session's state."""

    def __init__(self, app: gr.Blocks):
        blocks = list(app.blocks.values())
        self.app, self.state = app, SessionState(app)
        self.chat = next(b for b in blocks if isinstance(b, gr.Chatbot))
        self.question = next(b for b in blocks if isinstance(b, gr.Textbox) and b.label == "问题")
        self.buttons = {b.value: b for b in blocks if isinstance(b, gr.Button)}
        self.messages: list = []
        self.feedback: list = []
        self.sent: list[dict] = []

    def fire(self, block, event: str, inputs: list, event_data=None) -> list[dict]:
        """Run the handler of ``event`` on ``block`` and the steps chained after it, as the page does;
        returns the updates of the chat they send, in order (kept in ``sent`` too when one raises).
        ``inputs`` gives the first handler's inputs, None for a ``gr.State`` (gradio reads the session's)."""
        self.sent, failed = [], None
        pending = [(next(f for f in self.app.fns.values() if (block._id, event) in f.targets), inputs, event_data)]
        while pending:
            fn, given, data = pending.pop(0)
            try:
                asyncio.run(self._run(fn, given, data))
            except gr.Error as exc:
                failed = failed or exc
            for then in self.app.fns.values():
                if then.trigger_after == fn._id and not (failed and then.trigger_only_on_success):
                    assert all(i.stateful for i in then.inputs), "a chained step reads only the session's state"
                    pending.append((then, [None] * len(then.inputs), None))
        for update in self.sent:
            self.messages = update.get("value", self.messages)
            self.feedback = update.get("feedback_value", self.feedback)
        if failed:
            raise failed
        return self.sent

    async def _run(self, fn, inputs: list, event_data) -> None:
        iterator = None
        while True:
            result = await self.app.process_api(fn, inputs, state=self.state, request=STAFF, iterator=iterator,
                                                event_data=event_data)
            update = result["data"][fn.outputs.index(self.chat)] if self.chat in fn.outputs and result["data"] else None
            if update is not None:
                self.sent.append(update if isinstance(update, dict) else {"value": update})
            if not result["is_generating"]:
                return
            iterator = result["iterator"]


@pytest.fixture
def session(ctx, tmp_path):
    ingest_paths(ctx.kb, [make_xlsx(tmp_path / "常见问题.xlsx", ROWS, ["编号", "问题", "答复", "事项", "部门"])],
                 actor=Users(ctx.kb.records).get("admin"))
    ctx.pages = (ask,)
    return Session(build_app(ctx))


def asked(session, text):
    return session.fire(session.question, "submit", [text, "全部", "全部", session.messages, None, None])


def rated(session, label):
    return session.fire(session.buttons[label], "click", [None, "", ""])


def thumbed(session, answer: int, liked, reason=""):
    """Click a thumb of the chat's ``answer``-th answer (0: the first); ``liked`` as gradio sends it
    (True, False, or "" for a thumb clicked off)."""
    index = [i for i, m in enumerate(session.messages) if m["role"] == "assistant"][answer]
    data = gr.LikeData(session.chat, {"index": index, "value": session.messages[index]["content"], "liked": liked})
    return session.fire(session.chat, "like", [session.messages, None, reason, ""], data)


def shown(session) -> list:
    """The thumb each answer of the chat shows, as the page draws them from the chat's feedback value."""
    answers = sum(1 for m in session.messages if m["role"] == "assistant")
    return [session.feedback[i] if i < len(session.feedback) else None for i in range(answers)]


def thumbs_sent(updates: list[dict]) -> list:
    """The chat's thumbs as each of ``updates`` that sets them sets them (the page's intermediate states)."""
    return [u["feedback_value"] for u in updates if "feedback_value" in u]


def stored(ctx) -> list:
    """The stored rating of every logged answer as a thumb (gradio's "Like" / "Dislike"), oldest first."""
    logged = [r[0] for r in ctx.kb.records.conn.execute("SELECT id FROM asklog ORDER BY id")]
    found = ratings(ctx.kb.records.conn, logged)
    return [("Like" if found[i].useful else "Dislike") if i in found else None for i in logged]


def test_the_thumbs_show_the_stored_rating_whichever_control_gave_it(session, ctx):
    asked(session, "居住证签注怎么办理？")
    asked(session, "第一次办护照需要带什么材料？")
    assert [m["role"] for m in session.messages] == ["user", "assistant"] * 2 and shown(session) == [None, None]

    for button, thumbs in (("没用", [None, "Dislike"]), ("有用", [None, "Like"])):
        updates = rated(session, button)
        assert shown(session) == thumbs == stored(ctx)
        assert all("value" not in u for u in updates), "rating does not reset the chat"

    thumbed(session, 0, False)
    assert shown(session) == ["Dislike", "Like"] == stored(ctx)
    rated(session, "没用")
    assert shown(session) == ["Dislike", "Dislike"] == stored(ctx)
    thumbed(session, 1, True)
    assert shown(session) == ["Dislike", "Like"] == stored(ctx)

    clicked_off = thumbed(session, 1, "")
    assert thumbs_sent(clicked_off) == [["Dislike", None], ["Dislike", "Like"]]
    assert shown(session) == ["Dislike", "Like"] == stored(ctx)
    with pytest.raises(gr.Error, match="原因太长"):
        thumbed(session, 1, False, reason="长" * (MAX_TEXT + 1))
    assert thumbs_sent(session.sent) == [["Dislike", "Dislike"], ["Dislike", "Like"]]
    assert shown(session) == ["Dislike", "Like"] == stored(ctx)

    asked(session, "居住证签注需要本人去吗？")
    assert shown(session) == ["Dislike", "Like", None] == stored(ctx)
    session.fire(session.chat, "clear", [])
    session.messages = []
    asked(session, "第一次办护照需要带什么材料？")
    assert shown(session) == [None]
    rated(session, "有用")
    assert shown(session) == ["Like"] == stored(ctx)[-1:]
