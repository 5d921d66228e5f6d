"""What the plan cannot answer: other places' policies and everyday topics outside it."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Places whose policies the plan does not cover. 河北 is checked after removing 河北区 (a Tianjin district).
OTHER_REGIONS: tuple[str, ...] = (
    "北京", "上海", "广州", "深圳", "重庆", "河北", "石家庄", "唐山", "廊坊", "保定", "沧州", "承德",
    "山东", "济南", "青岛", "河南", "郑州", "山西", "太原", "江苏", "南京", "苏州", "无锡", "浙江",
    "杭州", "宁波", "安徽", "合肥", "福建", "厦门", "福州", "江西", "南昌", "湖北", "武汉", "湖南",
    "长沙", "广东", "东莞", "佛山", "广西", "南宁", "海南", "海口", "四川", "成都", "贵州", "贵阳",
    "云南", "昆明", "陕西", "西安", "甘肃", "兰州", "青海", "西宁", "宁夏", "银川", "新疆", "乌鲁木齐",
    "西藏", "拉萨", "内蒙古", "呼和浩特", "辽宁", "沈阳", "大连", "吉林", "长春", "黑龙江", "哈尔滨",
    "香港", "澳门", "台湾", "台北", "雄安",
)  # fmt: skip
TIANJIN_MARKERS: tuple[str, ...] = (
    "天津", "津", "本市", "咱市", "和平区", "河东", "河西", "南开", "河北区", "红桥",
    "东丽", "西青", "津南", "北辰", "武清", "宝坻", "宁河", "静海", "蓟州", "蓟县", "滨海",
)  # fmt: skip
# Words that say a place is where someone comes from, not whose policy they ask about.
_ORIGIN_BEFORE = re.compile(r"(老家|户口|户籍|来自|从|回|是|家在|家是)\s*$")
_ORIGIN_AFTER = re.compile(r"^\s*(人|农村|老家|过来|来的|户口|户籍|的[人户]|那边过来)")
# Everyday topics outside the plan.
OFF_TOPIC_WORDS: tuple[str, ...] = (
    "天气", "下雨", "有雨", "下雪", "气温", "温度", "雾霾", "台风", "股票", "股市", "基金", "炒股",
    "割肉", "涨停", "跌停", "比特币", "彩票", "高铁", "火车票", "动车", "机票", "车票", "12306",
    "抢票", "候补", "航班", "地铁", "公交", "电影", "电视剧", "游戏", "足球", "篮球", "世界杯",
    "减肥", "菜谱", "做菜", "做饭", "星座", "算命", "八字", "风水", "茅台", "演唱会", "旅游", "景点",
    "外卖券", "红包", "快递单号", "手机号码归属", "翻译", "写作文", "作业答案",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ScopeCheck:
    """Why a question may be outside the plan: another place, or an everyday topic."""

    other_region: str | None
    is_off_topic: bool


def _region_is_asked_about(text: str, region: str) -> bool:
    for match in re.finditer(re.escape(region), text):
        before = text[max(0, match.start() - 4) : match.start()]
        after = text[match.end() : match.end() + 5]
        if not (_ORIGIN_BEFORE.search(before) or _ORIGIN_AFTER.search(after)):
            return True
    return False


def check_scope(text: str) -> ScopeCheck:
    """`text` is normalised (simplified, lower case)."""
    without_districts = text.replace("河北区", "")
    mentions_tianjin = any(marker in text for marker in TIANJIN_MARKERS)
    other_region = None
    if not mentions_tianjin:
        other_region = next(
            (r for r in OTHER_REGIONS if _region_is_asked_about(without_districts, r)), None
        )
    return ScopeCheck(
        other_region=other_region,
        is_off_topic=any(word in text for word in OFF_TOPIC_WORDS),
    )
