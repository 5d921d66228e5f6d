"""What the bot recognises in what people type, in one place beside `texts` (what it says).

Word sets are compared after `plain_word` (fixed words) or `bare_word` (legal-aid answers); the
subscription words are matched before any conversion, so they carry Traditional spellings too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# --- Fixed words (handlers/topics.py, handlers/help.py, handlers/legal_aid.py's entry) ---
MENU_WORDS = frozenset({"菜单", "目录", "主题", "分类", "menu", "topics", "选单"})
HELP_WORDS = frozenset({"帮助", "help", "说明", "怎么用", "使用说明"})
GREETINGS = frozenset({"你好", "您好", "hi", "hello", "在吗", "嗨", "哈喽", "在不在"})
LEGAL_AID_WORDS = frozenset(
    {
        "找律师",
        "法律援助",
        "人工",
        "人工服务",
        "转人工",
        "找人工",
        "律师",
        "申请法律援助",
        "legal aid",
    }
)
# "我要找律师" means 找律师: polite or wanting openings don't change which fixed word was meant.
_REQUEST_PREFIX = re.compile(r"^(?:请|麻烦)?(?:帮我|给我|我要|我想要|我想|我需要|我得|俺要|俺想)?")

# --- Subscriptions (handlers/subscriptions.py) ---
SUBSCRIBE_WORDS = frozenset({"订阅", "订阅消息", "订阅活动", "訂閱", "subscribe"})
UNSUBSCRIBE_WORDS = frozenset(
    {"退订", "取消订阅", "不要再发", "退訂", "取消訂閱", "不要再發", "unsubscribe", "td"}
)

# --- Job postings (handlers/jobs.py), compared after `plain_word` ---
JOBS_WORDS = frozenset(
    {"找工作", "找活", "找活干", "招工", "岗位推送", "推荐工作", "推荐岗位", "jobs"}
)
JOBS_OFF_WORDS = frozenset({"停止岗位推送", "不要岗位推送", "取消岗位推送", "jobs off"})
JOBS_NEXT_WORDS = frozenset({"下一步", "好了", "选好了", "就这些", "next"})
JOBS_ANY_WORDS = frozenset({"不限", "都行", "都可以", "随便", "无所谓"})

# --- Legal-aid referral answers (handlers/legal_aid.py) and the /forget confirmation ---
CANCEL_WORDS = frozenset({"取消", "不办了", "算了", "退出", "不填了", "不要了", "cancel"})
YES_WORDS = frozenset({"同意", "好", "好的", "可以", "是", "行", "嗯", "yes", "ok", "确认", "愿意"})
NO_WORDS = frozenset({"不同意", "不", "不要", "不用", "不行", "no", "拒绝", "不愿意"})
SKIP_WORDS = frozenset({"跳过", "不知道", "没有", "不想填", "不填", "无", "skip", "不清楚"})
# Each includes its button's payload value (yes, no, submit) beside the words people type.
SUBMIT_WORDS = frozenset(
    {"确认提交", "提交", "确认", "是", "好", "对", "没问题", "ok", "yes", "submit"}
)
# Typed categories: the first keyword found decides (order matters: 工伤 before 合同).
CATEGORY_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("wages", ("欠薪", "工资", "工钱", "欠钱", "拖欠", "讨薪", "薪水", "血汗钱", "结账")),
    ("injury", ("工伤", "受伤", "伤", "摔", "砸", "职业病")),
    ("contract", ("合同", "解除", "辞退", "开除", "炒", "裁员", "赶走", "不让干")),
    ("insurance", ("社保", "保险", "养老", "医保", "公积金")),
    ("other", ("其他", "其它", "别的")),
)
# Older names people still use for parts of today's districts.
DISTRICT_ALIASES = {"塘沽": "滨海新区", "汉沽": "滨海新区", "大港": "滨海新区", "蓟县": "蓟州区"}
# Stripped (in this order) to get the name people type: 滨海新区 → 滨海, 武清区 → 武清.
DISTRICT_SUFFIXES = ("新区", "区")

_PUNCTUATION = re.compile(r"[\s!！。.?？~～,，、]+")


def plain_word(text: str, to_simplified: Callable[[str], str]) -> str:
    """A typed message as a fixed word: lower case, Simplified, no trailing marks or request."""
    word = text.strip().lower().rstrip("!！。.?？~～ ")
    return _REQUEST_PREFIX.sub("", to_simplified(word))


def without_punctuation(text: str) -> str:
    return _PUNCTUATION.sub("", text)


def bare_word(text: str) -> str:
    """Text without spaces or punctuation anywhere, lower case: how step answers are compared."""
    return without_punctuation(text).lower()


def subscription_word(text: str) -> str:
    return text.strip().lower().rstrip("!！。.~～ ")
