"""What the bot says, in one place: plain Chinese for a phone screen."""

from __future__ import annotations

from collections.abc import Mapping

from knowledge.curation import Topic

# The topic menu in the order a worker scans it: label, payload key, the curated topics it gathers.
MENU: tuple[tuple[str, str, tuple[Topic, ...]], ...] = (
    ("找工作·创业", "jobs", ("employment", "campaign")),
    ("技能培训", "skills", ("skills",)),
    (
        "工资·合同·工伤",
        "rights",
        (
            "rights",
            "wages",
            "contract",
            "dismissal",
            "working_hours",
            "work_injury",
            "arbitration",
        ),
    ),
    ("社保", "insurance", ("social_insurance",)),
    ("落户·居住证", "settle", ("settlement", "residence_permit")),
    ("孩子上学", "school", ("schooling",)),
    ("住房", "housing", ("housing",)),
    ("法律援助", "legal", ("legal_aid",)),
)

WELCOME = (
    "你好！我是天津农民工政策小助手。\n"
    "直接打字问我就行，比如“老板欠工资怎么办”“孩子能上公办学校吗”。\n"
    "我按天津市《县域农民工市民化质量提升行动实施方案》和国家的劳动法律法规"
    "（劳动合同法、工资支付条例、工伤保险条例等）回答，每条都注明出处。\n"
    "遇到自己的劳动纠纷，我可以帮你联系工会法律援助。"
)
HELP = (
    "怎么用：\n"
    "1. 直接打字提问，说大白话就行，繁体、拼音也可以。\n"
    "2. 点“查看原文”看政策或法律原话。\n"
    "3. 发 /topics 或“菜单”按类别浏览。\n"
    "4. 自己遇到欠薪、工伤、被辞退，发“法律援助”。\n"
    "我只讲政策和法律原文里有的内容，具体办理以相关部门为准。"
)
TOPICS_PROMPT = "想了解哪方面？点一下："
TOPIC_CLAUSES_PROMPT = (
    "“{label}”方面，《实施方案》写了这些，点一下看说明（法律上的具体规定，直接打字问我）："
)
UNSUPPORTED_HINT = "我现在只看得懂文字。请把问题打字发给我，比如“工伤保险回老家还能领吗”。"
EMPTY_HINT = "没看到问题内容。请直接打字问我，比如“怎么申请创业担保贷款”。"
FALLBACK_NO_MATCH = (
    "抱歉，这个问题我查的《实施方案》和劳动法律法规里都没有写到，我不能乱说。\n"
    "我能回答：找工作·创业、技能培训、工资·合同·工伤、社保、落户·居住证、孩子上学、住房、法律援助。"
    "换个说法再问，或打12345政务服务热线。"
)
FALLBACK_OFF_TOPIC = (
    "这个问题不在天津农民工政策的范围里，我答不了。\n"
    "我能回答：找工作·创业、技能培训、工资·合同·工伤、社保、落户·居住证、孩子上学、住房、法律援助。"
)
FALLBACK_OTHER_REGION = (
    "我只了解天津的政策和国家的劳动法律，{region}本地的规定我答不了，请打当地的12345政务服务热线问。\n"
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
# A second article the answer needs, said in one line after the first.
SECOND_SOURCE = "另见{citation}：{title}"
# After a fallback, the topics closest to what was asked.
CLOSEST_TOPIC = "也许你想问：{label}"
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
CURATED_HEADLINE = "【{title}】{summary}"
ASK_HOTLINES = "，或打{hotlines}"
LIST_SEPARATOR = "、"
CAMPAIGN_NOTICE_LINE = "\n\n📢 {name}：{info}"
USEFUL_LABEL = "👍 有用"
NOT_USEFUL_LABEL = "👎 没用"
THANKS_USEFUL = "谢谢！有别的问题继续问我。"
THANKS_NOT_USEFUL = "谢谢反馈，我们会改进。可以换个说法再问，或打12345政务服务热线。"
FEEDBACK_GONE = "这条反馈已经过期了，谢谢你。"

# --- Campaign subscriptions (handlers/subscriptions.py) ---
SUBSCRIBED = (
    "已订阅春风行动、春暖农民工等活动消息，有招聘会、服务活动会发给你。\n"
    "只想收某一类？点下面。随时回复“退订”就不再发。"
)
NARROWED = "好的，只给你发这些方面的活动消息：{labels}。\n随时回复“退订”就不再发。"
WIDENED = "好的，各方面的活动消息都会发给你。随时回复“退订”就不再发。"
UNSUBSCRIBED = "已退订，不会再给你发活动消息。想再收，发 /subscribe。"
NOT_SUBSCRIBED = "你没有订阅活动消息。想收，发 /subscribe。"
SUBSCRIPTION_UNREACHABLE = "这里暂时不能推送消息。请在 Telegram 里找我订阅。"
SUBSCRIBE_ALL_LABEL = "全部都收"
SUBSCRIBE_STOP_LABEL = "退订"
SUBSCRIBE_TOPIC_LABEL = "只收：{label}"

# --- Legal-aid referral (handlers/legal_aid.py) and staff casework (handlers/casework.py) ---
LEGAL_AID_INTRO = (
    "工会免费法律援助（依据：《实施方案》二（三）4）\n"
    "我可以把你的情况转给工会法律援助工作人员，由他们联系你。要填：纠纷类型、所在区、手机号、"
    "单位名称（可不填）、简单经过，约2分钟。\n"
    "隐私说明：手机号和经过只给工会法律援助人员处理你的申请用；结案{retention_days}天后删除；"
    "随时发 /forget 可删除。\n"
    "同意并开始填写吗？（不想填也可以用“知工”APP或打12351）"
)
# Category key → label, in the order the buttons show them.
CATEGORY_LABELS: Mapping[str, str] = {
    "wages": "欠薪",
    "injury": "工伤",
    "contract": "劳动合同/解除",
    "insurance": "社保",
    "other": "其他",
}
# Tianjin's 16 districts, in the city's official order (the district buttons).
DISTRICTS: tuple[str, ...] = (
    "和平区",
    "河东区",
    "河西区",
    "南开区",
    "河北区",
    "红桥区",
    "东丽区",
    "西青区",
    "津南区",
    "北辰区",
    "武清区",
    "宝坻区",
    "滨海新区",
    "宁河区",
    "静海区",
    "蓟州区",
)
CONSENT_YES = "同意"
CONSENT_NO = "不同意"
CONSENT_DECLINED = (
    "好的，不转介，也没有保存你的信息。\n"
    "需要时可以用市总工会“知工”APP申请法律援助，或打12351工会服务热线、12348法律服务热线。"
)
ASK_CATEGORY = "第1步/共5步：遇到的是哪类问题？"
ASK_DISTRICT = "第2步/共5步：你在天津哪个区打工？点一下，或直接打区名。"
ASK_PHONE = "第3步/共5步：请发你的手机号（11位），工作人员用它联系你。"
PHONE_BUTTON = "📱 发送我的手机号"
PHONE_RECEIVED = "收到手机号：{phone}"
ASK_EMPLOYER = "第4步/共5步：单位（公司、老板或包工头）叫什么？不知道或不想填，点“跳过”。"
ASK_DESCRIPTION = (
    "第5步/共5步：用几句话说说经过：什么时候、发生了什么、涉及多少钱。（最多{max_chars}字）"
)
CONFIRM_SUMMARY = (
    "请核对：\n类型：{category}\n区：{district}\n手机：{phone}\n单位：{employer}\n经过：{description}\n"
    "没问题就点“确认提交”。"
)
SUBMIT_LABEL = "确认提交"
SKIP_LABEL = "跳过"
CANCEL_LABEL = "取消"
NOT_FILLED = "（未填）"
SUBMITTED = (
    "已提交！案件编号 {number}\n"
    "工会法律援助工作人员会尽快打电话联系你，请留意来电。有人接手、办结时我都会告诉你。\n"
    "发 /mycase 查看进度；着急可以打12351工会服务热线。"
)
SUBMITTED_NO_NOTICES = (
    "已提交！案件编号 {number}\n"
    "工会法律援助工作人员会尽快打电话联系你，请留意来电。\n"
    "发 /mycase 查看进度；着急可以打12351工会服务热线。"
)
FLOW_CANCELLED = "已取消，填的内容已删除。需要时再发“法律援助”。"
FLOW_LEFT = "已退出法律援助申请，填的内容已删除。"
FLOW_EXPIRED = "上次的法律援助申请太久没填完，已经取消，填的内容已删除。需要时再发“法律援助”。"
HINT_CONSENT = "请点“同意”或“不同意”。不想填可以发“取消”。"
HINT_CATEGORY = "没看懂是哪类问题。请点下面的按钮，拿不准就选“其他”。发“取消”可退出。"
HINT_DISTRICT = (
    "没找到这个区。请点下面天津的16个区之一，或打区名，比如“武清”“滨海新区”。发“取消”可退出。"
)
HINT_PHONE = "这不像大陆手机号。请发11位手机号，比如 13812345678。发“取消”可退出。"
HINT_PHONE_FOREIGN = "这个号码不是大陆手机号，工作人员打不通。请直接输入11位手机号。"
HINT_EMPLOYER = "单位名称太长了，请写{max_chars}字以内，或点“跳过”。"
HINT_DESCRIPTION_SHORT = "再多说一点吧，比如“老板拖欠我3个月工资共1万2，多次要没给”。"
HINT_DESCRIPTION_LONG = "太长了（{length}字）。请压缩到{max_chars}字以内，细节可以电话里说。"
HINT_CONFIRM = "请点“确认提交”，或发“取消”。"
# An answer (or button) for a step already done: re-sent after a network error, or an old button.
HINT_STEP_DONE = "这一步已经记下了，请接着回答下面的问题。"
MY_CASES_HEADER = "你的法律援助申请："
MY_CASE_LINE = "{number} · {category} · {status} · {month}月{day}日提交"
NO_CASES = "你还没有法律援助申请。需要的话发“法律援助”。"
STATUS_LABELS = {
    "pending": "等待工作人员接手",
    "claimed": "工作人员已接手，会联系你",
    "closed": "已办结",
}
FORGET_PROMPT = (
    "确定删除你在这里的个人信息吗？\n"
    "会删除：手机号、纠纷经过、单位名称、聊天记录、提问原文、订阅和岗位推送条件。"
    "已提交的申请只留匿名的类型和区（用于统计），"
    "工作人员之后就联系不上你了。"
)
FORGET_CONFIRM_LABEL = "确认删除"
FORGET_KEEP_LABEL = "不删了"
FORGOTTEN = "已删除。你的手机号、纠纷经过、单位名称和聊天记录都已清除。"
FORGOTTEN_CASES = (
    "已删除。你的手机号、纠纷经过、单位名称和聊天记录都已清除，{count}件申请已变成匿名记录。"
)
FORGET_KEPT = "好的，没有删除。"
NOTICE_CLAIMED = "你的法律援助申请 {number} 已有工会法律援助工作人员接手，他们会尽快打电话联系你。"
NOTICE_CLOSED = (
    "你的法律援助申请 {number} 已办结。还有问题可以再发“法律援助”，或打12351工会服务热线。"
)

# Staff side: the card in the union's legal-aid group and its buttons.
CARD = (
    "{icon} 法律援助转介 {number}\n"
    "类型：{category}\n区：{district}\n电话：{phone}\n单位：{employer}\n经过：{description}\n"
    "提交：{created}（北京时间）\n状态：{status}"
)
CARD_STATUS_PENDING = "待接单"
CARD_STATUS_CLAIMED = "已接单（{name}，{at}）"
CARD_STATUS_CLOSED = "已结案（{name}，{at}）：{outcome}"
CARD_NOTE = "备注（{author}，{at}）：{text}"
CARD_DELETED = "（本人已删除）"
PHONE_DELETED = "（已删除）"
CLAIM_LABEL = "接单"
CLOSE_LABEL = "结案"
NOTE_LABEL = "备注"
STAFF_ONLY = "只有工会法律援助工作人员可以操作这张卡片。"
STAFF_CLAIMED = "已接单：{number}"
STAFF_ALREADY_CLAIMED = "{number} 已由{name}接单。"
STAFF_ALREADY_CLOSED = "{number} 已经结案了。"
STAFF_CASE_GONE = "找不到这个案件。"
STAFF_ASK_NOTE = "{name}，请回复这条消息，写 {number} 的备注。"
STAFF_ASK_OUTCOME = "{name}，请回复这条消息，写 {number} 的处理结果（结案说明，只给工作人员看）。"
STAFF_NOTED = "已记下 {number} 的备注。"
STAFF_CLOSED = "已结案：{number}"

# --- Job postings (handlers/jobs.py, handlers/job_board.py) ---
JOBS_INTRO = (
    "岗位推送：告诉我你想在哪些区、干什么工种、每月最少挣多少，我马上找现有的岗位给你看；"
    "以后有新岗位，每天{hour}点左右发你一次（最多{limit}条，晚9点到早8点不发）。\n"
    "隐私说明：只保存你选的区、工种、工资和联系你的方式，只用来给你找岗位；"
    "发 /jobs off 停止并删除，发 /forget 删除全部。\n同意吗？"
)
JOBS_YES_LABEL = "同意"
JOBS_NO_LABEL = "不同意"
JOBS_DECLINED = "好的，什么都没保存。想看岗位随时发 /jobs。"
JOBS_ASK_DISTRICTS = (
    "第1步/共3步：想在哪些区干活？可以点几个（或打区名，比如“西青 津南”），选好点“下一步”。"
    "哪个区都行就直接点“下一步”。"
)
JOBS_ASK_TRADES = (
    "第2步/共3步：想干什么工种？可以点几个（或打字，比如“电焊”），选好点“下一步”。"
    "什么都行就直接点“下一步”。"
)
JOBS_CHOSEN = "已选：{labels}。还可以再点，选好点“下一步”。"
JOBS_ASK_PAY = "第3步/共3步：每月最少要挣多少？（按天、按小时的岗位按每月26天、每天8小时折算）"
JOBS_NEXT_LABEL = "下一步"
JOBS_ANY = "不限"
JOBS_PAY_LABEL = "{amount}元以上"
JOBS_PAY_SUMMARY = "每月{amount}元以上"
JOBS_SUMMARY = "区：{districts}；工种：{trades}；工资：{pay}"
JOBS_SAVED = "记好了。{summary}\n有新岗位每天{hour}点左右发给你（每天最多{limit}条）。"
JOBS_SAVED_NO_PUSH = "记好了。{summary}\n这里没法主动给你发消息，想看新岗位随时发 /jobs。"
JOBS_CURRENT = "你的岗位推送条件：{summary}"
JOBS_MATCHES_HEADER = "现在符合条件的岗位（点“看第几条”看详情）："
JOBS_NO_MATCHES = "现在还没有符合条件的岗位，有了会告诉你。"
JOBS_CHANGE_LABEL = "改条件"
JOBS_STOP_LABEL = "停止推送"
JOBS_STOPPED = "已停止岗位推送，你的条件已删除。想再收，发 /jobs。"
JOBS_NOT_SET = "你没有设置岗位推送。想设置，发 /jobs。"
JOBS_START_LABEL = "💼 按条件推荐岗位"
JOBS_HINT = "没看懂。请点下面的按钮，或发“取消”退出岗位设置。"
JOBS_CANCELLED = "已退出岗位设置，什么都没改。"
JOBS_PAY_RANGE = "{low}-{high}元/{unit}"
JOBS_PAY_SINGLE = "{low}元/{unit}"
JOBS_LINE = "{n}. {title}｜{employer}\n   {district}｜{trade}｜{pay}\n   来源：{source}，{month}月{day}日导入"
JOBS_DETAIL = (
    "【{title}】\n单位：{employer}\n地点：{district} {address}\n工种：{trade}\n工资：{pay}\n"
    "班次：{shift}\n食宿：{board}\n电话：{phone}\n有效期至：{valid_until}\n"
    "来源：{source}，{month}月{day}日导入"
)
JOBS_UNVERIFIED = "本机器人没有核实岗位信息，以用人单位和人社部门发布为准。"
JOBS_NOT_GIVEN = "未写"
JOBS_OPEN_LABEL = "看第{n}条"
JOBS_REPORT_LABEL = "⚠️ 举报这条"
JOBS_REPORTED = "谢谢，已转给工作人员核查。遇到收费、扣押证件等情况，也可以打12333。"
JOBS_GONE = "这个岗位已经过期或下架了。"
JOBS_DIGEST_HEADER = "今天有{count}个新岗位符合你的条件："
JOBS_HELD_HEADER = "你不在时来的新岗位："
JOBS_DIGEST_FOOTER = "改条件发 /jobs，不想再收发 /jobs off。"

# The web chat's answers to a request it cannot take (shown in the page where the reply would be).
WEB_BAD_REQUEST = "请求格式不对。"
WEB_NOT_JSON = "请求格式不对：请用 JSON 发送（Content-Type: application/json）。"
WEB_TOO_LARGE = "发送的内容太大了。"
WEB_BAD_SESSION = "会话编号无效，请刷新页面再试。"
WEB_TEXT_TOO_LONG = "一次最多发{max_chars}个字，请分几次发，或者写短一点。"
WEB_TOO_FAST = "发得太快了，请稍等一会儿再发。"
