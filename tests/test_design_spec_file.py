"""A spec file round-trips through the editor byte for byte; edits keep its line endings."""

from __future__ import annotations

import pytest

from ganbuilder.design.spec_file import decode_spec, encode_spec


@pytest.mark.parametrize("data", [b"a: 1\nb: 2\n", b"a: 1\r\nb: 2\r\n",
                                  b"\xef\xbb\xbfa: 1\r\n", b"a: caf\xc3\xa9"])
def test_unchanged_text_is_written_back_as_the_bytes_read(data):
    text, newline = decode_spec(data)
    assert "\r" not in text and not text.startswith("\ufeff")
    assert encode_spec(text, newline, text, data) == data


def test_an_edit_is_written_with_the_files_line_endings():
    data = b"\xef\xbb\xbfa: 1\r\nb: 2\r\n"
    text, newline = decode_spec(data)
    assert (text, newline) == ("a: 1\nb: 2\n", "\r\n")
    assert encode_spec(text.replace("1", "3"), newline, text, data) == b"a: 3\r\nb: 2\r\n"
    assert encode_spec("new\n", "\n") == b"new\n"  # a new file: nothing read before


def test_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(UnicodeDecodeError):
        decode_spec(b"a: \xff\n")
