"""What the bot says, in one place: plain Chinese for a phone screen."""

from __future__ import annotations

from collections.abc import Mapping

from knowledge.curation import Topic

# The topic menu in the order a worker scans it: label, payload key, the curated topics it gathers.
MENU: tuple[tuple[str, str, tuple[Topic, ...]], ...] = (
    ("找工作·创业", "jobs", ("employment", "campaign")),
    ("技能培训", "skills", ("skills",)),
    ("工资·合同·工伤", "rights", ("rights",)),
    ("社保", "insurance", ("social_insurance",)),
    ("落户·居住证", "settle", ("settlement",)),
    ("孩子上学", "school", ("schooling",)),
    ("住房", "housing", ("housing",)),
    ("法律援助", "legal", ("legal_aid",)),
)

WELCOME = (
    "你好！我是天津农民工政策小助手。\n"
    "直接打字问我就行，比如“老板欠工资怎么办”“孩子能上公办学校吗”。\n"
    "我按天津市《县域农民工市民化质量提升行动实施方案》回答，每条都注明出处。\n"
    "遇到自己的劳动纠纷，我可以帮你联系工会法律援助。"
)
HELP = (
    "怎么用：\n"
    "1. 直接打字提问，说大白话就行，繁体、拼音也可以。\n"
    "2. 点“查看原文”看政策原话。\n"
    "3. 发 /topics 或“菜单”按类别浏览。\n"
    "4. 自己遇到欠薪、工伤、被辞退，发“法律援助”。\n"
    "我只讲政策原文里有的内容，具体办理以相关部门为准。"
)
TOPICS_PROMPT = "想了解哪方面？点一下："
TOPIC_CLAUSES_PROMPT = "“{label}”方面，《实施方案》写了这些，点一下看说明："
UNSUPPORTED_HINT = "我现在只看得懂文字。请把问题打字发给我，比如“工伤保险回老家还能领吗”。"
EMPTY_HINT = "没看到问题内容。请直接打字问我，比如“怎么申请创业担保贷款”。"
FALLBACK_NO_MATCH = (
    "抱歉，这个问题《实施方案》里没有写到，我不能乱说。\n"
    "我能回答：找工作·创业、技能培训、工资·合同·工伤、社保、落户·居住证、孩子上学、住房、法律援助。"
    "换个说法再问，或打12345政务服务热线。"
)
FALLBACK_OFF_TOPIC = (
    "这个问题不在天津农民工政策的范围里，我答不了。\n"
    "我能回答：找工作·创业、技能培训、工资·合同·工伤、社保、落户·居住证、孩子上学、住房、法律援助。"
)
FALLBACK_OTHER_REGION = (
    "我只了解天津的《实施方案》，{region}的政策我答不了，请打当地的12345政务服务热线问。\n"
    "如果你在天津打工，可以问我天津这边的政策。"
)
HANDOFF_OFFER = (
    "听起来你遇到了劳动纠纷。工会可为符合条件的农民工提供免费法律援助：用“知工”APP或打12351。"
)
LEGAL_AID_INFO = (
    "工会免费法律援助（依据：《实施方案》二（三）4）：\n"
    "• 下载市总工会“知工”APP，用“法律服务”“法律援助”功能，有律师在线解答劳动法律问题；\n"
    "• 打12351工会职工服务热线；\n"
    "• 打12348公共法律服务热线问法律问题；欠薪、劳动合同问题也可打12333。"
)
AMBIGUOUS_PREFIX = "你的问题可能说的是两件事，先说第一条："
ALSO_MAYBE = "也可能你想问："
RELATED = "相关："
VIEW_FULL_TEXT = "查看原文"
MENU_LABEL = "按类别看"
LEGAL_AID_LABEL = "找法律援助"
NEXT_STEPS_PREFIX = "下一步："
ASK_PREFIX = "可以问："
FULL_TEXT_HEADER = "《{short_title}》{label}原文："
UNKNOWN_CHOICE = "这个按钮已经过期了。请直接打字提问，或发“菜单”。"
NO_CLAUSES_FOR_TOPIC = "这方面《实施方案》没有单独的条款。可以直接打字问我。"
HOTLINE_NAMES: Mapping[str, str] = {
    "12333": "12333人社服务热线",
    "12351": "12351工会服务热线",
    "12348": "12348法律服务热线",
    "12345": "12345政务服务热线",
}
USEFUL_LABEL = "👍 有用"
NOT_USEFUL_LABEL = "👎 没用"
THANKS_USEFUL = "谢谢！有别的问题继续问我。"
THANKS_NOT_USEFUL = "谢谢反馈，我们会改进。可以换个说法再问，或打12345政务服务热线。"
FEEDBACK_GONE = "这条反馈已经过期了，谢谢你。"
