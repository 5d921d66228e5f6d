"""Parse a Chinese government policy page into a `Document` of numbered clauses.

Two numbering styles are understood:

* plan style (方案、意见、通知): 一、 parts → （一） sections → 1. items,
  ids ``2``, ``2.1``, ``2.1.3``; sections number straight through parts in many
  plans, so an id is always its parent's id plus the clause's own number;
* regulation style (条例、办法、细则): 第一章 chapters → 第一节 → 第一条 articles,
  ids ``ch1``, ``ch1.s1``, ``art1``; lower numbering stays inside the article text.

Text before the first top-level heading becomes the preamble ``0``. Page chrome
(site banner, toolbars, related-link footers) is dropped and the metadata block
(名称、索引号、发布机构 …) goes to `Document.meta` instead of the clauses.

Laws kept as Markdown (`# title`, date lines, `<!-- INFO END -->`, `## 第一章 …`, `### 第一节 …`)
read the same way: heading marks are dropped, and the header above the end marker gives the title
and the adoption, revision and effective dates instead of a preamble.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, NamedTuple

from knowledge.departments import lead_departments
from knowledge.document import Clause, ClauseKind, Document, ParseError
from knowledge.numerals import ANY_NUMERAL, CN_DATE, CN_NUMERAL, chinese_to_int, iso_date
from knowledge.page import (
    INVISIBLE,
    NUMBERING_HINT,
    check_readable,
    cut_footer,
    decode,
    is_chrome,
    take_markdown_header,
    take_meta,
)

# A signature date (the date alone, or after a short signer name) and sub-items that are no signer.
_SIGNATURE_DATE: Final = re.compile(rf"^(?:[^。，,；;：:！？!?]{{0,30}}\s)?(?P<date>{CN_DATE})$")
_SUB_ITEM: Final = re.compile(r"^(?:[（(]\s*[0-9０-９一二三四五六七八九十]+\s*[）)]|[①-⑳])")

# --- headings ---------------------------------------------------------------------------------

_PART: Final = re.compile(rf"^(?P<n>{CN_NUMERAL})\s*[、．.]\s*(?P<rest>.*)$")
_SECTION: Final = re.compile(rf"^[（(]\s*(?P<n>{CN_NUMERAL})\s*[）)]\s*[、．.]?\s*(?P<rest>.*)$")
# `1.5倍` at the start of a line is a number, not an item: no digit may follow the dot.
_ITEM: Final = re.compile(r"^(?P<n>[0-9０-９]{1,3})\s*[.．、](?![0-9０-９])\s*(?P<rest>.*)$")
_CHAPTER: Final = re.compile(rf"^第\s*(?P<n>{ANY_NUMERAL})\s*章\s*(?P<rest>.*)$")
_SUBCHAPTER: Final = re.compile(rf"^第\s*(?P<n>{ANY_NUMERAL})\s*节\s*(?P<rest>.*)$")
_ARTICLE: Final = re.compile(rf"^第\s*(?P<n>{ANY_NUMERAL})\s*条\s*(?P<rest>.*)$")
_TABLE_OF_CONTENTS: Final = re.compile(r"^目\s*录$")
_PLAN_HEADINGS: Final[tuple[tuple[ClauseKind, re.Pattern[str]], ...]] = (
    ("part", _PART),
    ("section", _SECTION),
    ("item", _ITEM),
)
# 第一节 inside a chapter is read as a section: there is no separate kind for it.
_REGULATION_HEADINGS: Final[tuple[tuple[ClauseKind, re.Pattern[str]], ...]] = (
    ("chapter", _CHAPTER),
    ("section", _SUBCHAPTER),
    ("article", _ARTICLE),
)

_PLAN_RANK: Final[Mapping[ClauseKind, int]] = {"part": 0, "section": 1, "item": 2}
_REGULATION_RANK: Final[Mapping[ClauseKind, int]] = {"chapter": 0, "section": 1, "article": 2}

# --- titles -----------------------------------------------------------------------------------

_HEADING_STOP: Final = re.compile(r"[。：:]")
_PHRASE_STOP: Final = re.compile(r"[，。；！？,;!?：:\n]")
_SENTENCE_PUNCT: Final = re.compile(r"[。，,；;：:！？!?]")
_BRACKETED_TITLE: Final = re.compile(r"^【(?P<title>[^】]{1,30})】")
_DOCUMENT_TYPE: Final = re.compile(
    r"(?:方案|办法|规定|条例|细则|意见|通知|规划|计划|措施|决定|公告|通告|指引|指南|规则|章程|"
    r"纲要|要点|清单|目录|标准|规程|批复|公报|函)(?:[（(][^（）()]{1,10}[）)])?$"
)
# 关于印发《X》的通知: the page is a cover for X, and X is the document's own title.
_COVERED_TITLE: Final = re.compile(
    r"关于(?:印发|转发|发布|公布|颁布|修订)《(?P<title>[^《》]+)》的?(?:通知|决定|公告|通告|批复)"
)
_MAX_SHORT_TITLE: Final = 24
_MAX_HEADING_TITLE: Final = 40


class _Heading(NamedTuple):
    """A numbered line: its kind, its own number, the marker and what follows it."""

    kind: ClauseKind
    number: int
    marker: str
    rest: str


@dataclass(slots=True)
class _Draft:
    """A clause being read: its paragraphs grow until the next heading."""

    id: str
    kind: ClauseKind
    parent: str | None
    marker: str
    heading_title: str = ""
    paragraphs: list[str] = field(default_factory=list)

    def finish(self) -> Clause:
        text = "\n".join(self.paragraphs)
        title = self.heading_title or (_short_title(text) if text else self.marker)
        departments = lead_departments(self.paragraphs[-1]) if self.paragraphs else ()
        return Clause(
            id=self.id,
            kind=self.kind,
            title=title,
            text=text or title,
            departments=departments,
            parent=self.parent,
        )


# --- public API -------------------------------------------------------------------------------


def parse_file(path: Path) -> Document:
    """Read and parse a policy text file; its stem becomes the document key."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ParseError(f"{path}：读不了这个文件（{error.strerror or error}）。") from error
    try:
        return _parse(decode(data), key=path.stem)
    except ParseError as error:
        raise ParseError(f"{path}：{error}") from None


def parse_document(text: str, *, key: str) -> Document:
    """Parse a policy page's text; raises ParseError when it has no recognisable structure."""
    try:
        return _parse(text, key=key)
    except ParseError as error:
        raise ParseError(f"{key}：{error}") from None


def _parse(text: str, *, key: str) -> Document:
    text = text.translate(INVISIBLE)
    check_readable(text)
    lines = cut_footer([" ".join(line.split()) for line in text.splitlines()])
    markdown_title, markdown_meta, lines = take_markdown_header(lines)
    meta, lines = take_meta(lines, _is_heading)
    meta.update(markdown_meta)
    paragraphs = [line for line in lines if line and not is_chrome(line)]
    if not paragraphs:
        raise ParseError("只有网页框架或元数据，没有正文。")

    regulation = any(_regulation_heading(p) is not None for p in paragraphs)
    if regulation:
        paragraphs = _skip_table_of_contents(paragraphs)
    start = _body_start(paragraphs, regulation=regulation)
    if start is None:
        raise ParseError(f"找不到条款编号（{NUMBERING_HINT}），无法分出条款；请确认这是政策正文。")
    preamble = paragraphs[:start]
    body, closing_date = _split_signature(paragraphs[start:])
    drafts = _regulation_drafts(body) if regulation else _plan_drafts(body)

    title = markdown_title or _document_title(preamble, meta, paragraphs[0])
    signed = meta.get("signed") or _signature_date(preamble) or closing_date
    if signed:
        meta["signed"] = signed
    clauses = [draft.finish() for draft in drafts]
    if preamble:
        clauses.insert(0, _preamble(preamble, title))
    _check_unique(clauses)
    return Document(key=key, title=title, meta=meta, clauses=tuple(clauses))


# --- page structure ---------------------------------------------------------------------------


def _is_heading(line: str) -> bool:
    return _plan_heading(line) is not None or _regulation_heading(line) is not None


def _plan_heading(line: str) -> _Heading | None:
    return _match_heading(line, _PLAN_HEADINGS)


def _regulation_heading(line: str) -> _Heading | None:
    return _match_heading(line, _REGULATION_HEADINGS)


def _match_heading(
    line: str, patterns: Sequence[tuple[ClauseKind, re.Pattern[str]]]
) -> _Heading | None:
    for kind, pattern in patterns:
        match = pattern.match(line)
        if match:
            marker = line[: match.start("rest")].strip()
            return _Heading(kind, chinese_to_int(match["n"]), marker, match["rest"].strip())
    return None


def _skip_table_of_contents(paragraphs: list[str]) -> list[str]:
    """Drop a 目录 block: chapter lines whose numbers rise until the real 第一章 repeats one."""
    start = next((i for i, p in enumerate(paragraphs) if _TABLE_OF_CONTENTS.match(p)), None)
    if start is None or any(_regulation_heading(p) for p in paragraphs[:start]):
        return paragraphs
    end, last = start + 1, 0
    while end < len(paragraphs):
        heading = _regulation_heading(paragraphs[end])
        if heading is None or heading.kind == "article":
            break
        if heading.kind == "chapter":
            if heading.number <= last:
                break
            last = heading.number
        end += 1
    return paragraphs[:start] + paragraphs[end:]


def _body_start(paragraphs: Sequence[str], *, regulation: bool) -> int | None:
    """Index of the first heading of the highest rank present; earlier text is the preamble."""
    classify = _regulation_heading if regulation else _plan_heading
    ranks = _REGULATION_RANK if regulation else _PLAN_RANK
    found = [(index, heading) for index, p in enumerate(paragraphs) if (heading := classify(p))]
    if not found:
        return None
    top = min(ranks[heading.kind] for _, heading in found)
    return next(index for index, heading in found if ranks[heading.kind] == top)


# --- clauses ----------------------------------------------------------------------------------


def _plan_drafts(body: Sequence[str]) -> list[_Draft]:
    drafts: list[_Draft] = []
    part: str | None = None
    section: str | None = None
    for paragraph in body:
        heading = _plan_heading(paragraph)
        if heading is None:
            drafts[-1].paragraphs.append(paragraph)
            continue
        if heading.kind == "part":
            part, section = str(heading.number), None
            clause_id, parent = part, None
        elif heading.kind == "section":
            section = _child_id(part, heading.number)
            clause_id, parent = section, part
        else:
            parent = section or part
            clause_id = _child_id(parent, heading.number)
        drafts.append(_open(clause_id, heading, parent))
    return drafts


def _regulation_drafts(body: Sequence[str]) -> list[_Draft]:
    drafts: list[_Draft] = []
    chapter: str | None = None
    subchapter: str | None = None
    for paragraph in body:
        heading = _regulation_heading(paragraph)
        if heading is None:
            drafts[-1].paragraphs.append(paragraph)
            continue
        if heading.kind == "chapter":
            chapter, subchapter = f"ch{heading.number}", None
            clause_id, parent = chapter, None
        elif heading.kind == "section":
            subchapter = f"{chapter}.s{heading.number}" if chapter else f"s{heading.number}"
            clause_id, parent = subchapter, chapter
        else:
            clause_id, parent = f"art{heading.number}", subchapter or chapter
        drafts.append(_open(clause_id, heading, parent))
    return drafts


def _child_id(parent: str | None, number: int) -> str:
    return f"{parent}.{number}" if parent else str(number)


def _open(clause_id: str, heading: _Heading, parent: str | None) -> _Draft:
    draft = _Draft(clause_id, heading.kind, parent, heading.marker)
    if heading.kind in {"item", "article"}:
        # Items and articles are content; their title is derived from the text when finished.
        draft.paragraphs.extend([heading.rest] if heading.rest else [])
        bracketed = _BRACKETED_TITLE.match(heading.rest)
        draft.heading_title = bracketed["title"] if bracketed else ""
        return draft
    title, inline_body = _split_heading(heading.rest)
    draft.heading_title = title
    draft.paragraphs.extend([inline_body] if inline_body else [])
    return draft


def _split_heading(rest: str) -> tuple[str, str]:
    """`加强组织领导。各区要…` → (`加强组织领导`, `各区要…`); a plain heading has no body."""
    stop = _HEADING_STOP.search(rest)
    title, body = (rest[: stop.start()], rest[stop.end() :].strip()) if stop else (rest, "")
    title = title.strip(" ，,；;")
    if len(title) > _MAX_HEADING_TITLE:
        # No early stop: this is a paragraph that happens to be numbered, keep all of it.
        return _short_title(rest), rest
    return title, body


def _short_title(text: str) -> str:
    """The first phrase of a text, up to the first ，。； and at most ~24 characters."""
    phrase = _PHRASE_STOP.split(text, maxsplit=1)[0].strip() or text.strip()
    if len(phrase) <= _MAX_SHORT_TITLE:
        return phrase
    return phrase[: _MAX_SHORT_TITLE - 1] + "…"


def _preamble(paragraphs: Sequence[str], document_title: str) -> Clause:
    first = paragraphs[0]
    title = first if _looks_like_title(first) else document_title
    return Clause(id="0", kind="preamble", title=title, text="\n".join(paragraphs))


def _check_unique(clauses: Sequence[Clause]) -> None:
    seen: set[str] = set()
    for clause in clauses:
        if clause.id in seen:
            raise ParseError(
                f"条款编号 {clause.id} 出现了两次（{clause.title}），"
                "编号不连贯，可能混入了附件或目录。"
            )
        seen.add(clause.id)


# --- title and dates --------------------------------------------------------------------------


def _looks_like_title(line: str) -> bool:
    return 4 <= len(line) <= 80 and " " not in line and not _SENTENCE_PUNCT.search(line)


def _document_title(preamble: Sequence[str], meta: Mapping[str, str], first_line: str) -> str:
    """The last standalone title line before the body, else the meta name, else the first line."""
    standalone = (
        p for p in reversed(preamble) if _looks_like_title(p) and _DOCUMENT_TYPE.search(p)
    )
    chosen = next(standalone, None) or meta.get("name") or first_line
    covered = _COVERED_TITLE.search(chosen)
    return covered["title"] if covered else chosen


def _signature_date(preamble: Sequence[str]) -> str | None:
    for paragraph in reversed(preamble):
        match = _SIGNATURE_DATE.match(paragraph)
        iso = iso_date(match["date"]) if match else None
        if iso:
            return iso
    return None


def _split_signature(body: list[str]) -> tuple[list[str], str | None]:
    """A numbered notice ends with its signers and date: they belong to no clause."""
    match = _SIGNATURE_DATE.match(body[-1]) if len(body) > 1 else None
    closing_date = iso_date(match["date"]) if match else None
    if closing_date is None:
        return body, None
    end = len(body) - 1
    while end > 1 and _is_signer(body[end - 1]):
        end -= 1
    return body[:end], closing_date


def _is_signer(line: str) -> bool:
    return (
        len(line) <= 30
        and not _SENTENCE_PUNCT.search(line)
        and not _SUB_ITEM.match(line)
        and not _is_heading(line)
    )
