"""The Official Account's custom menu (自定义菜单): the topics and 法律援助, as WeChat's JSON.

Print it with `policybot wechat menu --json` and upload it with WeChat's menu/create API. Each
CLICK key is a topic payload or a command, handled like a pressed button or a typed command.
"""

from __future__ import annotations

from typing import Any

from handlers import texts
from handlers.answers import TOPIC_PAYLOAD_PREFIX

# WeChat shows at most 3 top-level buttons with 5 entries each.
MAX_SUB_BUTTONS = 5
LEGAL_AID_KEY = "/legalaid"
HELP_KEY = "/help"


def click(name: str, key: str) -> dict[str, str]:
    return {"type": "click", "name": name, "key": key}


def custom_menu() -> dict[str, Any]:
    topics = [click(label, TOPIC_PAYLOAD_PREFIX + key) for label, key, _ in texts.MENU]
    topics = [button for button in topics if button["name"] != "法律援助"]
    first, more = topics[:MAX_SUB_BUTTONS], topics[MAX_SUB_BUTTONS:]
    return {
        "button": [
            {"name": "问政策", "sub_button": first},
            {"name": "更多", "sub_button": [*more, click("怎么用", HELP_KEY)][:MAX_SUB_BUTTONS]},
            click("法律援助", LEGAL_AID_KEY),
        ]
    }
