"""HTML from mail, made safe to show to a specialist.

nh3 (ammonia) keeps a small set of formatting tags. Images are the privacy problem: a
remote `src` is a tracking beacon and is removed, so nothing is ever fetched from the
sender's server, neither by us nor by the specialist's browser. `cid:` images survive
only when they name a part of the same message; the console maps them to the stored
attachment.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Collection

import nh3

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign"},
    "ol": {"start", "type"},
    "*": {"lang", "dir"},
}
_WHITESPACE = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
_BLOCK_END = re.compile(r"(?i)<\s*(br|/p|/div|/tr|/li|/h[1-6]|/table|/blockquote)\b[^>]*>")


def sanitise_html(markup: str, *, content_ids: Collection[str]) -> str:
    """Safe HTML: known tags only, no scripts or styles, no remote images."""
    allowed_cids = {cid.strip("<>").lower() for cid in content_ids}

    def keep_attribute(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            if value.lower().startswith("cid:") and value[4:].strip("<>").lower() in allowed_cids:
                return value
            return None  # remote, data: or a cid of another message: never loaded
        return value

    return nh3.clean(
        markup,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        attribute_filter=keep_attribute,
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
    )


def html_to_text(markup: str) -> str:
    """Readable plain text of an HTML body, for mails that have no text part."""
    marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n", markup)
    text = nh3.clean(marked, tags=set(), clean_content_tags={"script", "style", "head", "title"})
    text = html_lib.unescape(text).replace("\xa0", " ")
    lines = [_WHITESPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
