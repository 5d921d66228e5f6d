"""The page around a policy text: its bytes, site chrome, the metadata block and a Markdown law's header.

What the parser reads is the text with all of this taken off: `read_page` turns bytes or a page's
text into lines of body with the metadata beside them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from knowledge.document import ParseError
from knowledge.numerals import CN_DATE, iso_date

# --- metadata ---------------------------------------------------------------------------------

# Label → meta key; None marks labels whose value is page furniture we drop.
_META_LABELS: Final[Mapping[str, str | None]] = {
    "名称": "name",
    "索引号": "index_number",
    "发布机构": "publisher",
    "发文机关": "publisher",
    "联合发文单位": "co_publishers",
    "发文字号": "document_number",
    "文号": "document_number",
    "主题分类": "subject",
    "主题": "subject",
    "成文日期": "signed",
    "发文日期": "published",
    "发布日期": "published",
    "生效日期": None,
    "实施日期": None,
    "废止日期": None,
    "有效性": None,
    "公开方式": None,
    "体裁分类": None,
    "组配分类": None,
}
_DATE_META: Final = frozenset({"signed", "published"})


def _spaced(label: str) -> str:
    # Pages pad labels to equal width: 名    称, 发 布 机 构.
    return r"\s*".join(re.escape(char) for char in label)


_META_LINE: Final = re.compile(
    r"^(?P<label>"
    + "|".join(_spaced(label) for label in sorted(_META_LABELS, key=len, reverse=True))
    + r")\s*[:：]\s*(?P<value>.*)$"
)

# --- Markdown laws ----------------------------------------------------------------------------

_MARKDOWN_HEADING: Final = re.compile(r"^#{1,6}\s+")
_INFO_END: Final = re.compile(r"^<!--\s*INFO END\s*-->$")
_DATE_LINE: Final = re.compile(rf"^(?P<date>{CN_DATE})\s*(?P<what>.*)$")
# What a header date line records, by the words that close it.
_DATE_EVENTS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("revised", re.compile(r"(修正|修订|修改)")),
    ("effective", re.compile(r"施行$")),
    ("adopted", re.compile(r"(通过|公布|发布)$")),
)

# --- page chrome ------------------------------------------------------------------------------

_CHROME: Final = (
    re.compile(r"^.{0,30}\d{4}年\d{1,2}月\d{1,2}日\s*星期[一二三四五六日天]$"),
    re.compile(r"^(?:(?:简体|繁体|繁體|无障碍|长者模式|关怀模式|关怀版|English)\s*[|｜]?\s*)+$"),
    re.compile(
        r"^(?:[【\[]?\s*(?:打印本页|打印|关闭窗口|关闭|返回顶部|收藏)\s*[】\]]?\s*[|｜]?\s*)+$"
    ),
    re.compile(r"^[【\[]?\s*字[号体]\s*[:：]?\s*[大中小\s]+[】\]]?$"),
    re.compile(r"^附\s*件\s*[:：]?$"),
    re.compile(r"^[|｜]\s*\S{1,12}$"),
)
# Everything from a related-links footer to the end of the page is navigation.
_FOOTER: Final = re.compile(
    r"^[|｜]\s*(?:政策解读|相关政策|相关报道|相关文件|相关链接|相关阅读|相关解读)"
)

# --- sanity checks ----------------------------------------------------------------------------

INVISIBLE: Final = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_MAX_GARBAGE_SHARE: Final = 0.1
_MIN_CJK_SHARE: Final = 0.2
_CJK: Final = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]")
NUMBERING_HINT: Final = "一、 /（一）/ 1. / 第一章 / 第一条"


# --- reading the bytes ------------------------------------------------------------------------


def decode(data: bytes) -> str:
    if b"\x00" in data:
        raise ParseError(
            "看起来是二进制文件（含 NUL 字节），不是文本；"
            "如果是 UTF-16 编码的文本，请另存为 UTF-8。"
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ParseError("既不是 UTF-8 也不是 GB18030 编码的文本，可能是二进制文件。")


def check_readable(text: str) -> None:
    if not text.strip():
        raise ParseError("文本是空的，没有可解析的内容。")
    if "\x00" in text:
        raise ParseError("文本含 NUL 字符，看起来是二进制数据而不是政策文本。")
    visible = "".join(text.split())
    # Every garbage category but U+FFFD is unprintable: a printable text is counted in C.
    garbage = (
        visible.count("\ufffd")
        if visible.isprintable()
        else sum(1 for char in visible if _is_garbage(char))
    )
    if garbage > _MAX_GARBAGE_SHARE * len(visible):
        raise ParseError(f"文本大多是控制字符或乱码（{garbage} 个），看起来是二进制数据。")
    cjk = len(_CJK.findall(visible))
    if cjk < _MIN_CJK_SHARE * len(visible):
        raise ParseError("文本几乎没有中文，不像是一份中文政策文件。")


def _is_garbage(char: str) -> bool:
    return char == "\ufffd" or unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"}


def cut_footer(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if _FOOTER.match(line):
            return lines[:index]
    return lines


def take_markdown_header(lines: list[str]) -> tuple[str | None, dict[str, str], list[str]]:
    """A Markdown law: heading marks off; above `<!-- INFO END -->` the title and its dates."""
    lines = [_MARKDOWN_HEADING.sub("", line) for line in lines]
    end = next((i for i, line in enumerate(lines) if _INFO_END.match(line)), None)
    if end is None:
        return None, {}, lines
    header = [line for line in lines[:end] if line]
    meta: dict[str, str] = {}
    title = None
    for line in header:
        dated = _DATE_LINE.match(line)
        if dated is None:
            title = title or line
            continue
        iso = iso_date(dated["date"])
        event = next((name for name, words in _DATE_EVENTS if words.search(dated["what"])), None)
        if iso and event:
            # The first adoption and the last revision are what a reader asks for.
            if event == "adopted":
                meta.setdefault(event, iso)
            else:
                meta[event] = iso
    return title, meta, lines[end + 1 :]


def is_chrome(line: str) -> bool:
    return any(pattern.match(line) for pattern in _CHROME)


def take_meta(
    lines: list[str], is_heading: Callable[[str], bool]
) -> tuple[dict[str, str], list[str]]:
    """Lift the label block (名称 : …) out of the page header; values may sit on the next line."""
    meta: dict[str, str] = {}
    kept: list[str] = []
    in_header = True
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        in_header = in_header and not is_heading(line)
        match = _META_LINE.match(line) if in_header else None
        if match is None:
            kept.append(line)
            continue
        key = _META_LABELS["".join(match["label"].split())]
        value = match["value"].strip()
        if not value and _is_meta_value(lines, index, key):
            value = lines[index]
            index += 1
        if key in _DATE_META:
            value = iso_date(value) or ""
        if key is not None and value and key not in meta:
            meta[key] = value
    return meta, kept


def _is_meta_value(lines: Sequence[str], index: int, key: str | None) -> bool:
    """Whether lines[index] is the value of the empty label just above it."""
    if index >= len(lines) or not lines[index] or _META_LINE.match(lines[index]):
        return False  # a blank line or another label: the field was left empty on the page
    if key in _DATE_META:
        return iso_date(lines[index]) is not None
    # A value line is closed by a blank line, the next label or the end; else it is body text.
    after = lines[index + 1] if index + 1 < len(lines) else ""
    return not after or _META_LINE.match(after) is not None
