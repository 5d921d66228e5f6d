"""Policy page text → a `Document`: metadata and clauses numbered by the document's own numbering.

Two shapes of Chinese government text are understood:
- plans and notices: parts 一、 → `1`, sections （一） → `1.1`, items 1. → `1.1.1` (always the
  parent's id + "." + the item's own number), with the text before the first part as preamble `0`;
- regulations (条例, 办法, 细则): chapters 第一章 → `ch1`, articles 第一条 → `art1`.
Full- and half-width brackets, digits and dots are accepted; page chrome (简体|繁体, 无障碍, 附件 …) is
dropped; sub-items such as （1） or ① stay inside their item. Text without any of this structure is
refused with a `ParseError` that says why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.document import Clause, ClauseKind, Document, ParseError

_CN = "[一二三四五六七八九十百零〇两]+"
_NUMBER = f"(?:{_CN}|[0-9０-９]+)"
_PART = re.compile(rf"^({_CN})\s*[、，,．.]\s*(.*)$")
_SECTION = re.compile(rf"^[（(]\s*({_CN})\s*[)）]\s*(.*)$")
_ITEM = re.compile(r"^([0-9０-９]{1,3})\s*(?:[.．、](?![0-9０-９])|\s)\s*(.+)$")
_CHAPTER = re.compile(rf"^第\s*({_NUMBER})\s*章\s*(.*)$")
_ARTICLE = re.compile(rf"^第\s*({_NUMBER})\s*条\s*(.*)$")
_METADATA_LABELS = {
    "名称": "name",
    "标题": "name",
    "索引号": "index_number",
    "发布机构": "publisher",
    "联合发文单位": "co_publishers",
    "发文字号": "document_number",
    "文号": "document_number",
    "主题": "subject",
    "主题分类": "subject",
    "成文日期": "signed",
    "发文日期": "published",
    "发布日期": "published",
}
_METADATA_LINE = re.compile(r"^(" + "|".join(_METADATA_LABELS) + r")[:：](.*)$")
_CHROME = (
    re.compile(r"^\S*政务网\s*\d{4}年\d{1,2}月\d{1,2}日\s*星期.$"),
    re.compile(r"简体\s*[|｜]?\s*繁体"),
    re.compile(r"^(无障碍|长者模式|适老化|打印本页|关闭窗口|【?打印】?|【?关闭】?|分享到.*)$"),
    re.compile(r"^附\s*件\s*[:：]?\s*$"),
    re.compile(r"^[|｜]?\s*(政策解读|相关政策|相关报道|相关文件|相关链接|图片解读)\s*$"),
)
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ENCLOSED_TITLE = re.compile(r"《([^《》]+)》")
_LEAD_DEPARTMENTS = re.compile(
    r"[（(]([^（）()]{1,80}?)(?:等)?(?:部门|单位)(?:牵头)?(?:按照?职责分工)?(?:牵头)?负责[)）][。.]?\s*$"
)
_FIRST_PHRASE = re.compile(r"^[^，,。；;：:！!？?]+")
_TITLE_CHARS = 24
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}  # fmt: skip


def chinese_to_int(numeral: str) -> int:
    """二十三 → 23, 一百零五 → 105, ３ → 3."""
    folded = unicodedata.normalize("NFKC", numeral)
    if folded.isdigit():
        return int(folded)
    total, current = 0, 0
    for char in numeral:
        if char in _DIGITS:
            current = _DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def lead_departments(text: str) -> tuple[str, ...]:
    """（人社、农业农村部门按照职责分工负责） → ("人社", "农业农村")."""
    match = _LEAD_DEPARTMENTS.search(text.strip())
    if match is None:
        return ()
    names = (
        name.strip().removesuffix("等").strip() for name in re.split("[、，,]", match.group(1))
    )
    return tuple(name for name in names if name)


def short_title(text: str) -> str:
    """The first phrase of a clause, as its title."""
    match = _FIRST_PHRASE.match(text.strip())
    phrase = match.group(0) if match else text.strip()
    return phrase[:_TITLE_CHARS]


def _clean_lines(text: str) -> list[str]:
    lines = []
    for raw in text.splitlines():
        line = raw.replace("\u3000", " ").replace("\xa0", " ").strip()
        if line and not any(pattern.search(line) for pattern in _CHROME):
            lines.append(re.sub(r"\s{2,}", " ", line))
    return lines


def _check_is_text(text: str) -> None:
    if not text.strip():
        raise ParseError("文本是空的：没有可以解析的内容。")
    if "\x00" in text:
        raise ParseError("这不是文本文件（含有 NUL 字节），可能是二进制文件。")
    suspicious = sum(
        1
        for char in text
        if char == "\ufffd"
        or (unicodedata.category(char) in ("Cc", "Co", "Cs") and char not in "\n\r\t")
    )
    if suspicious > max(3, len(text) // 50):
        raise ParseError("这不像正常的文字（大量控制字符或乱码），可能是二进制文件或编码不对。")


def _extract_metadata(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Metadata label lines (value on the same or the next line) → meta; the rest is the body."""
    meta: dict[str, str] = {}
    body: list[str] = []
    position = 0
    while position < len(lines):
        match = _METADATA_LINE.match(re.sub(r"\s+", "", lines[position]))
        if match is None:
            body.append(lines[position])
            position += 1
            continue
        key, value = _METADATA_LABELS[match.group(1)], match.group(2).strip()
        position += 1
        following = lines[position] if position < len(lines) else ""
        is_label = bool(_METADATA_LINE.match(re.sub(r"\s+", "", following)))
        # An empty date label must not swallow the next line unless that line is a date.
        fits = key not in ("signed", "published") or bool(_DATE.search(following))
        if not value and following and not is_label and fits and len(following) <= 120:
            value = following.strip()
            position += 1
        if value:
            meta.setdefault(key, value)
    for key in ("signed", "published"):
        if key in meta:
            date = _DATE.search(meta[key]) or re.search(r"(\d{4})-(\d{1,2})-(\d{1,2})", meta[key])
            if date:
                year, month, day = (int(group) for group in date.groups())
                meta[key] = f"{year:04d}-{month:02d}-{day:02d}"
    return meta, body


def _document_title(meta: dict[str, str], body: list[str]) -> str:
    """The document's own title: 《X》 of 关于印发《X》的通知 when that line stands alone, else the name."""
    for candidate in (meta.get("name", ""), *body[:5]):
        enclosed = _ENCLOSED_TITLE.search(candidate)
        if enclosed and "印发" in candidate:
            return enclosed.group(1)
    return meta.get("name") or body[0][:60]


@dataclass
class _Draft:
    """A clause being collected, line by line."""

    id: str
    kind: ClauseKind
    title: str
    parent: str | None
    lines: list[str] = field(default_factory=list)

    def build(self) -> Clause:
        text = "\n".join(self.lines).strip() or self.title
        departments = lead_departments(text) if self.kind in ("item", "section", "article") else ()
        return Clause(self.id, self.kind, self.title, text, departments, self.parent)


def _heading(rest: str) -> tuple[str, str]:
    """（一）加强组织领导。各区要… → title 加强组织领导, body 各区要…"""
    title, _, body = rest.partition("。")
    if len(title) > _TITLE_CHARS * 2:  # a numbered paragraph, not a heading
        return short_title(rest), rest
    return title.strip(), body.strip()


def _parse_plan(lines: list[str]) -> list[_Draft]:
    drafts: list[_Draft] = [_Draft("0", "preamble", "", None)]
    part: str | None = None
    section: str | None = None
    for line in lines:
        if match := _PART.match(line):
            part, section = str(chinese_to_int(match.group(1))), None
            title, body = _heading(match.group(2))
            drafts.append(_Draft(part, "part", title, None, [body] if body else []))
        elif (match := _SECTION.match(line)) and part is not None:
            section = f"{part}.{chinese_to_int(match.group(1))}"
            title, body = _heading(match.group(2))
            drafts.append(_Draft(section, "section", title, part, [body] if body else []))
        elif (match := _ITEM.match(line)) and part is not None:
            parent = section or part
            number = chinese_to_int(match.group(1))
            drafts.append(
                _Draft(f"{parent}.{number}", "item", short_title(match.group(2)), parent,
                       [match.group(2)])
            )  # fmt: skip
        else:
            drafts[-1].lines.append(line)
    return drafts


def _parse_regulation(lines: list[str]) -> list[_Draft]:
    drafts: list[_Draft] = [_Draft("0", "preamble", "", None)]
    chapter: str | None = None
    for line in lines:
        if match := _CHAPTER.match(line):
            chapter = f"ch{chinese_to_int(match.group(1))}"
            drafts.append(_Draft(chapter, "chapter", match.group(2).strip(), None))
        elif match := _ARTICLE.match(line):
            body = match.group(2).strip()
            drafts.append(
                _Draft(f"art{chinese_to_int(match.group(1))}", "article", short_title(body),
                       chapter, [body])
            )  # fmt: skip
        else:
            drafts[-1].lines.append(line)
    return drafts


def _is_regulation(lines: Iterable[str]) -> bool:
    articles = sum(1 for line in lines if _ARTICLE.match(line))
    return articles >= 2


def parse_document(text: str, *, key: str) -> Document:
    """Parse one policy page's text; ParseError (with a message for people) when it can't."""
    _check_is_text(text)
    meta, body = _extract_metadata(_clean_lines(text))
    if not body:
        raise ParseError("只有页面标题和元数据，没有正文。")
    title = _document_title(meta, body)
    drafts = _parse_regulation(body) if _is_regulation(body) else _parse_plan(body)
    if len(drafts) == 1:
        raise ParseError(
            "没有找到条款编号（一、/（一）/1. 或 第一章/第一条），无法分出条款；请确认这是政策正文。"
        )
    preamble = drafts[0]
    preamble.title = meta.get("name") or title
    if not preamble.lines:
        drafts = drafts[1:]
    if "signed" not in meta:
        dates = [_DATE.search(line) for line in preamble.lines]
        found = [date for date in dates if date]
        if found:
            year, month, day = (int(group) for group in found[-1].groups())
            meta["signed"] = f"{year:04d}-{month:02d}-{day:02d}"
    clauses = tuple(draft.build() for draft in drafts)
    seen: set[str] = set()
    for clause in clauses:
        if clause.id in seen:
            raise ParseError(f"条款编号 {clause.id} 出现了两次：编号不连贯，无法可靠解析。")
        seen.add(clause.id)
    return Document(key=key, title=title, meta=meta, clauses=clauses)


def decode(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM), else GB18030; binary is refused."""
    if b"\x00" in data:
        raise ParseError(f"{source}：这不是文本文件（含有 NUL 字节），可能是二进制文件。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ParseError(f"{source}：无法按 UTF-8 或 GB18030 读取，可能不是文本文件。")


def parse_file(path: Path) -> Document:
    """Parse a policy text file; the document's key is the file name without its extension."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParseError(f"{path}：读不了这个文件（{error.strerror or error}）。") from error
    try:
        return parse_document(decode(data, str(path)), key=path.stem)
    except ParseError as error:
        message = str(error)
        raise ParseError(
            message if message.startswith(str(path)) else f"{path}：{message}"
        ) from None
