"""Chinese numerals and dates as policy texts write them: 第十二条, 二〇二三年三月十一日, 2023-03-11."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Final

# --- numerals ---------------------------------------------------------------------------------

_CN_DIGITS: Final[Mapping[str, int]] = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CN_UNITS: Final[Mapping[str, int]] = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL: Final = "[零〇○一二两三四五六七八九十百千]+"
ANY_NUMERAL: Final = "[零〇○一二两三四五六七八九十百千0-9０-９]+"

# --- quantities -------------------------------------------------------------------------------

# An amount, a stretch of time or a count with its unit (五个月, 三十多天, 十来天, 一个半月,
# 两千块钱, 这个月, 三回): one word, so the unit never glues to the word after it (五个/月工资
# cut as 五个月/工资).
QUANTITY_PHRASE: Final = re.compile(
    r"(?:第?[零〇○一二两三四五六七八九十百千万几半0-9０-９]+[多来]?|[每这那上下头]个)"
    r"(?:个多?半?)?"
    r"(?P<unit>星期|礼拜|小时|钟头|分钟|季度|块钱|毛钱|[年月天日周元块次回趟遍])"
)

# --- dates ------------------------------------------------------------------------------------

CN_DATE: Final = (
    r"(?P<y>[0-9０-９]{4}|[〇○零一二三四五六七八九]{4})\s*年\s*"
    r"(?P<m>[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})\s*月\s*"
    r"(?P<d>[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})\s*日"
)
_DATE_FORMS: Final = (
    re.compile(CN_DATE),
    re.compile(r"(?P<y>[0-9]{4})\s*[-/.]\s*(?P<m>[0-9]{1,2})\s*[-/.]\s*(?P<d>[0-9]{1,2})"),
)
# A signature date: the date alone, or after a short signer name, at the end of a line.


def chinese_to_int(numeral: str) -> int:
    """`十二` → 12, `九十九` → 99, `一百零五` → 105, `１２` → 12, `二〇二三` → 2023."""
    if numeral.isdecimal():
        return int(numeral)  # int() also reads full-width digits
    if not any(char in _CN_UNITS for char in numeral):
        return int("".join(str(_CN_DIGITS[char]) for char in numeral))
    total, digit = 0, 0
    for char in numeral:
        if char in _CN_UNITS:
            total += (digit or 1) * _CN_UNITS[char]
            digit = 0
        else:
            digit = _CN_DIGITS[char]
    return total + digit


def iso_date(text: str) -> str | None:
    """`2023年3月11日`, `二〇二三年三月十一日`, `2023-03-11` → `2023-03-11`; None if not a date."""
    for pattern in _DATE_FORMS:
        match = pattern.fullmatch(text.strip())
        if match:
            year, month, day = (chinese_to_int(match[group]) for group in "ymd")
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return None
    return None
