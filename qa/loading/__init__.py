"""Loading articles: a docs folder -> Articles and skipped files with reasons.

`folder` walks the folder safely, `formats` reads each file type, `decode`
turns bytes into text, `uploads` stores files a user uploads.
"""

from qa.loading.decode import Undecodable, decode
from qa.loading.folder import LoadResult, iter_files, load_folder
from qa.loading.formats import (
    SUPPORTED_SUFFIXES,
    Skipped,
    content_hash,
    record_to_article,
    short_title,
)
from qa.loading.uploads import MAX_UPLOAD_BYTES, safe_filename, save_upload

__all__ = [
    "MAX_UPLOAD_BYTES", "SUPPORTED_SUFFIXES", "LoadResult", "Skipped", "Undecodable", "content_hash", "decode",
    "iter_files", "load_folder", "record_to_article", "safe_filename", "save_upload", "short_title",
]
