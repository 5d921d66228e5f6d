"""Is this person describing their own labour dispute? Then a human should take it.

A handoff needs a dispute that happened (wages owed or docked, an injury the employer won't handle,
dismissal) told in the first person, or a request for a lawyer or help for oneself. A question
about rights in general, or a what-if, is answered from the plan instead.
"""

from __future__ import annotations

import re

_FIRST_PERSON = re.compile(
    r"我|本人|老伴|老公|媳妇|爱人|对象|儿子|闺女|女儿|孩子他爸|孩子他妈|我家|家里人|我爸|我妈|我哥|我弟"
)
# A what-if before the dispute in the same sentence makes it hypothetical ("万一以后老板不给钱").
_HYPOTHETICAL = re.compile(r"万一|如果|假如|假设|要是|比如|一般|按规定|按理说|以后.{0,4}(会|被)")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_WAGE_OWED = re.compile(
    r"(欠|拖欠|扣|克扣|压|拖|不给|没给|不发|没发|不结|没结|少给|只给|才给|赖).{0,12}(工资|工钱|薪|钱|salary|wage|pay)"
    r"|(工资|工钱|薪水|salary|wage|跑单的钱|血汗钱).{0,10}(不给|没给|不发|没发|没结|不结|拖|欠|压|一半|要不回|没到账|扣)"
)
_INJURY_UNHANDLED = re.compile(
    r"(摔|掉|压|砸|烫|割|夹|扭|撞|伤|断|折|骨折|工伤|出事).{0,24}"
    r"(不给报|不报|不管|不归|不认|不承认|不给钱|不赔|不给赔|自己看|自己垫|不接电话|没关系|不负责|推)"
)
_DISMISSED = re.compile(
    r"开除|辞退|解雇|炒了我|炒鱿鱼|不用来了|别来了|让我走人|逼我辞职|让我自己写辞职|赶走|"
    r"(无故|突然|单方面).{0,4}解除|解除.{0,6}合同.{0,8}(没|未|不).{0,4}(补偿|赔偿)"
)
_NO_CONTRACT = re.compile(r"(没|没有|不|未)(跟我|和我|给我|与我)?(签|签订)过?(劳动)?合同")
_ASKS_FOR_HELP = re.compile(
    r"(找|请|帮我找|想找|要找|给我找).{0,3}(律师|lawyer)|告他|告老板|告公司|起诉|做主|要回来|讨回|"
    r"(帮我|我想|我要).{0,6}(要钱|讨|维权|申请)|申请.{0,6}法律援助|我该去哪告"
)


def _is_hypothetical_before(text: str, position: int) -> bool:
    sentence_start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, position)), default=0)
    return bool(_HYPOTHETICAL.search(text, sentence_start, position))


def is_handoff(text: str) -> bool:
    """`text` is normalised and sound-corrected (simplified, lower case).

    Own means told in the first person, or told as something that happened (了 in the event).
    """
    is_first_person = bool(_FIRST_PERSON.search(text))
    for pattern in (_WAGE_OWED, _INJURY_UNHANDLED, _DISMISSED, _NO_CONTRACT, _ASKS_FOR_HELP):
        for match in pattern.finditer(text):
            happened = "了" in text[match.start() : match.end() + 2]
            if (is_first_person or happened) and not _is_hypothetical_before(text, match.start()):
                return True
    return False
