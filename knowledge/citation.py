"""Clause ids as a worker reads them: `2.3.3` → 二（三）3, `art12` → 第十二条."""

from __future__ import annotations

_DIGITS = "零一二三四五六七八九"


def chinese_numeral(number: int) -> str:
    """1 → 一, 10 → 十, 23 → 二十三 (enough for any document's parts, sections and articles)."""
    if number < 10:
        return _DIGITS[number]
    if number < 20:
        return "十" + (_DIGITS[number % 10] if number % 10 else "")
    if number < 100:
        return _DIGITS[number // 10] + "十" + (_DIGITS[number % 10] if number % 10 else "")
    hundreds, rest = divmod(number, 100)
    if rest == 0:
        return _DIGITS[hundreds] + "百"
    tail = chinese_numeral(rest) if rest >= 10 else "零" + _DIGITS[rest]
    if 10 <= rest < 20:
        tail = "一" + tail
    return _DIGITS[hundreds] + "百" + tail


def clause_label(clause_id: str) -> str:
    """The clause's position in the document's own numbering."""
    if clause_id == "0":
        return "前言"
    if clause_id.startswith("ch") and clause_id[2:].isdigit():
        return f"第{chinese_numeral(int(clause_id[2:]))}章"
    if clause_id.startswith("art") and clause_id[3:].isdigit():
        return f"第{chinese_numeral(int(clause_id[3:]))}条"
    parts = clause_id.split(".")
    if not all(part.isdigit() for part in parts):
        return clause_id
    label = chinese_numeral(int(parts[0]))
    if len(parts) >= 2:
        label += f"（{chinese_numeral(int(parts[1]))}）"
    if len(parts) >= 3:
        label += ".".join(parts[2:])
    return label


def reference(short_title: str, clause_id: str) -> str:
    """《劳动合同法》第八十二条"""
    return f"《{short_title}》{clause_label(clause_id)}"


def citation(short_title: str, clause_id: str) -> str:
    """依据：《实施方案》二（三）3"""
    return "依据：" + reference(short_title, clause_id)
