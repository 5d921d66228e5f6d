"""Replies as one WeChat text: numbered choices, the 2,048-byte limit, the citation kept."""

from __future__ import annotations

from bot.channels.wechat.replies import (
    MAX_REPLY_BYTES,
    MORE_LABEL,
    MORE_PAYLOAD,
    compose,
    next_page,
)
from handlers.messages import Choice, Reply, Source

CITATION = "依据：《实施方案》二（三）3"
SOURCE = Source("plan", "2.3.3", "标题", 1.0, CITATION)


def long_reply() -> Reply:
    body = "\n".join(f"第{n}段：" + "农民工工资支付保障" * 12 for n in range(20))
    return Reply(
        body + "\n" + CITATION,
        (Choice("查看原文", "full:plan:2.3.3"), Choice("👍 有用", "fb:1:1")),
        (SOURCE,),
    )


def test_choices_become_numbered_lines() -> None:
    page = compose([Reply("答案", (Choice("查看原文", "full:x"), Choice("按类别看", "menu")))])
    assert page.text == "答案\n\n回复 1 查看原文\n回复 2 按类别看"
    assert page.rest is None and [c.payload for c in page.choices] == ["full:x", "menu"]


def test_a_long_answer_fits_keeps_its_citation_and_offers_the_rest() -> None:
    page = compose([long_reply()])
    assert len(page.text.encode()) <= MAX_REPLY_BYTES
    assert CITATION in page.text
    assert page.choices[-1] == Choice(MORE_LABEL, MORE_PAYLOAD)
    assert f"回复 {len(page.choices)} {MORE_LABEL}" in page.text
    assert page.rest and "第19段" in page.rest and "第0段" not in page.rest


def test_the_pages_together_hold_the_whole_answer() -> None:
    reply = long_reply()
    page = compose([reply])
    seen = page.text
    while page.rest:
        page = next_page(page.rest, page.choices)
        assert len(page.text.encode()) <= MAX_REPLY_BYTES and CITATION in page.text
        seen += page.text
    for n in range(20):
        assert f"第{n}段" in seen
    assert MORE_LABEL not in page.text


def test_several_replies_become_one_text_with_all_choices_numbered_once() -> None:
    page = compose(
        [Reply("一", (Choice("甲", "a"),)), Reply("二", (Choice("甲", "a"), Choice("乙", "b")))]
    )
    assert page.text == "一\n\n二\n\n回复 1 甲\n回复 2 乙"
