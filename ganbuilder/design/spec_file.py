"""A spec file's bytes <-> the editor's text.

The editor holds `\\n` line ends and no byte-order mark; saving writes the file's own line ends
back, and text that was not changed is written back as exactly the bytes that were read.
"""

from __future__ import annotations


def decode_spec(data: bytes) -> tuple[str, str]:
    """(the editor's text, the newline the file uses) for a spec file's bytes; raises
    UnicodeDecodeError when they are not UTF-8."""
    text = data.decode("utf-8-sig")
    return text.replace("\r\n", "\n"), "\r\n" if b"\r\n" in data else "\n"


def encode_spec(text: str, newline: str, saved_text: str = "", saved_bytes: bytes = b""
                ) -> bytes:
    """The bytes to write for the editor's `text`: `saved_bytes` again when `text` is still
    `saved_text` (what they decoded to: line endings, BOM ... kept), else UTF-8 with `newline`."""
    if saved_bytes and text == saved_text:
        return saved_bytes
    return text.replace("\n", newline).encode("utf-8")


__all__ = ["decode_spec", "encode_spec"]
