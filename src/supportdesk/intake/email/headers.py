"""Header text as a person reads it: unfolded, RFC 2047 decoded, 8-bit tolerated."""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.header import decode_header

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_LINE_BREAKS = re.compile(r"[\r\n]+")
_MSG_ID = re.compile(r"<([^<>\s]{1,900})>")

# Headers we read are cut to this before decoding: a megabyte Subject is an attack.
MAX_HEADER_VALUE_CHARS = 16 * 1024


# Declared charsets that real mailers use for their supersets.
_SUPERSETS = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "iso-8859-1": ("cp1252",),
    "latin1": ("cp1252",),
    "ks_c_5601-1987": ("cp949",),
    "euc-kr": ("cp949",),
    "shift_jis": ("cp932",),
    "x-sjis": ("cp932",),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2004", "iso2022_jp_2"),
    "iso-8859-8-i": ("iso-8859-8",),
    "utf8": ("utf-8",),
}


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes of a text part as text: declared charset (or its superset), UTF-8, cp1252."""
    candidates = _SUPERSETS.get(charset or "", (charset,))
    if not (charset or "").startswith("iso-2022"):
        candidates += ("utf-8",)
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    if charset and charset.startswith("iso-2022"):
        if not data.isascii():  # 8-bit bytes: Shift_JIS/EUC mislabelled as ISO-2022-JP
            for candidate in ("cp932", "euc_jp"):
                try:
                    return data.decode(candidate)
                except UnicodeDecodeError:
                    continue
        # 7-bit escapes are valid UTF-8 too; the declared codec reads them better.
        return data.decode(candidates[0] or "iso2022_jp", "replace")
    return data.decode("cp1252", "replace")



def to_text(value: object, charset: str | None = None) -> str:
    """A header value from the compat32 parser as text.

    Raw 8-bit header bytes (RFC 6532 UTF-8, or a legacy charset sent unencoded) come
    back from the parser as surrogate escapes; they are read as UTF-8, else in the
    charset the message declares for its text (`charset`), else cp1252.
    """
    if not isinstance(value, str):
        value = str(value)
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        raw = value.encode("ascii", "surrogateescape")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        if charset:
            return decode_text(raw, charset)
        return raw.decode("cp1252", "replace")


def unfold(value: str) -> str:
    return _LINE_BREAKS.sub(" ", _FOLD.sub("", value))


def _decode_chunk(chunk: bytes | str, charset: str | None) -> str:
    if isinstance(chunk, str):
        return chunk
    if charset is None:
        return chunk.decode("raw-unicode-escape", "replace")
    return decode_text(chunk, charset.lower())


def decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded; plain text returned as it is."""
    if "=?" not in value:
        return value
    try:
        parts = decode_header(value)
    except (HeaderParseError, ValueError, AssertionError):
        return value
    return "".join(_decode_chunk(chunk, charset) for chunk, charset in parts)


def header_text(value: object) -> str:
    """One header value, bounded, unfolded and decoded."""
    text = to_text(value)[:MAX_HEADER_VALUE_CHARS]
    return decode_words(unfold(text)).replace("\x00", "").strip()


def message_ids(value: object) -> list[str]:
    """The `<id>` tokens of Message-ID / In-Reply-To / References, without brackets."""
    text = unfold(to_text(value)[:MAX_HEADER_VALUE_CHARS])
    found = _MSG_ID.findall(text)
    if not found and text.strip() and "<" not in text:
        # Some clients send bare ids; accept one token that looks like an id.
        token = text.strip().split()[0]
        if "@" in token and len(token) <= 900:
            found = [token]
    return found
