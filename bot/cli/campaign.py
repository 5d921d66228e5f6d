"""`policybot campaign …` and `policybot broadcast`: create campaigns, print posters, read their
figures, and send campaign news to subscribers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.app import prepare_engine
from bot.campaigns.stats import campaign_figures, format_figures
from bot.cli.command import EXIT_BAD_CONFIG, EXIT_BAD_INPUT, Command, Subcommands
from bot.settings import Settings
from bot.storage.engine import run_transaction
from bot.storage.models import CampaignRecord
from bot.storage.repositories import broadcasts, campaigns
from bot.storage.repositories.broadcasts import QueuedBroadcast
from bot.storage.repositories.campaigns import CampaignError
from handlers.cases import BEIJING
from knowledge.curation import TOPICS

if TYPE_CHECKING:
    from bot.campaigns.broadcasts import BroadcastReport
    from bot.campaigns.pacing import SendLimits

MAX_INFO_CHARS = 200
BROADCAST_CONNECTIONS = 32


def command_campaign_create(settings: Settings, args: argparse.Namespace) -> int:
    unknown = [topic for topic in args.topics if topic not in TOPICS]
    if unknown:
        sys.stderr.write(f"不认识的主题：{', '.join(unknown)}；可用：{', '.join(TOPICS)}\n")
        return EXIT_BAD_INPUT
    info = Path(args.info).read_text(encoding="utf-8").strip() if args.info else ""
    if len(info) > MAX_INFO_CHARS:
        sys.stderr.write(f"活动信息太长：最多 {MAX_INFO_CHARS} 个字（会附在回答后面）\n")
        return EXIT_BAD_INPUT
    campaign = run_transaction(
        prepare_engine(settings),
        lambda session: campaigns.create_campaign(
            args.code,
            name=args.name,
            starts_on=args.start,
            ends_on=args.end,
            topics=list(args.topics),
            info=info,
            session=session,
        ),
    )
    print(f"已创建活动 {campaign.code}：{campaign.name} {campaign.starts_on}–{campaign.ends_on}")
    return 0


def command_campaign_list(settings: Settings, _args: argparse.Namespace) -> int:
    with Session(prepare_engine(settings)) as session:
        for campaign in campaigns.list_campaigns(session=session):
            topics = ",".join(campaign.topics) or "全部主题"
            print(
                f"{campaign.code}  {campaign.name}  {campaign.starts_on}–{campaign.ends_on}  {topics}"
            )
    return 0


def known_campaign(settings: Settings, code: str) -> CampaignRecord | None:
    """The campaign, or None once the operator has been told there is none."""
    campaign = run_transaction(
        prepare_engine(settings), lambda session: campaigns.get_campaign(code, session=session)
    )
    if campaign is None:
        sys.stderr.write(f"没有活动 {code}\n")
    return campaign


def command_campaign_show(settings: Settings, args: argparse.Namespace) -> int:
    campaign = known_campaign(settings, args.code)
    if campaign is None:
        return EXIT_BAD_INPUT
    print(f"代码：{campaign.code}\n名称：{campaign.name}")
    print(f"时间：{campaign.starts_on} 至 {campaign.ends_on}（天津时间）")
    print(f"主题：{', '.join(campaign.topics) or '全部主题'}")
    print(f"活动信息：{campaign.info or '（无）'}")
    print(f"深链接：https://t.me/<机器人>?start={campaign.code}_<地点>")
    return 0


def command_campaign_poster(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here, like telegram and matplotlib: the other commands start without them.
    from bot.campaigns.posters import deep_link, render_poster

    campaign = known_campaign(settings, args.code)
    if campaign is None:
        return EXIT_BAD_INPUT
    payload = campaigns.deep_link_payload(campaign.code, args.place)
    username = asyncio.run(bot_username(settings))
    if not username:
        sys.stderr.write(
            "不知道机器人的用户名：设置 TELEGRAM_BOT_TOKEN（用 getMe 查）或 [telegram] username\n"
        )
        return EXIT_BAD_CONFIG
    link = deep_link(username, payload)
    out = render_poster(Path(args.out), link=link, campaign_name=campaign.name, place=args.place)
    print(f"海报：{out}\n链接：{link}")
    return 0


def command_campaign_stats(settings: Settings, args: argparse.Namespace) -> int:
    if known_campaign(settings, args.code) is None:
        return EXIT_BAD_INPUT
    figures = run_transaction(
        prepare_engine(settings), lambda session: campaign_figures(args.code, session=session)
    )
    print(format_figures(figures))
    if args.chart:
        from bot.campaigns.stats import draw_chart

        print(f"图表：{draw_chart(figures, Path(args.chart))}")
    return 0


def command_broadcast(settings: Settings, args: argparse.Namespace) -> int:
    from bot.campaigns.broadcasts import audience, check_broadcast_text
    from bot.campaigns.pacing import SendLimits

    token = settings.telegram.token
    if token is None:
        sys.stderr.write("群发需要 TELEGRAM_BOT_TOKEN\n")
        return EXIT_BAD_CONFIG
    text = Path(args.message).read_text(encoding="utf-8").strip()
    problem = check_broadcast_text(text)
    if problem:
        sys.stderr.write(f"{problem}\n")
        return EXIT_BAD_INPUT
    engine = prepare_engine(settings)

    def queue(session: Session) -> tuple[QueuedBroadcast, dict[str, int]] | None:
        campaign = campaigns.get_campaign(args.campaign, session=session)
        if campaign is None:
            return None
        queued = broadcasts.queue_broadcast(
            campaign, text, not_before=args.at, audience=audience(), session=session
        )
        assert queued.broadcast.id is not None
        return queued, broadcasts.delivery_counts(queued.broadcast.id, session=session)

    found = run_transaction(engine, queue)
    if found is None:
        sys.stderr.write(f"没有活动 {args.campaign}\n")
        return EXIT_BAD_INPUT
    queued, counts = found
    broadcast = queued.broadcast
    assert broadcast.id is not None
    if broadcast.finished_at is not None:
        print(f"这条消息已经发完（群发 #{broadcast.id}），没有再发。要再发请改动消息内容。")
        return 0
    verb = "新建" if queued.created else "继续"
    at = broadcast.not_before.astimezone(BEIJING)
    print(
        f"{verb}群发 #{broadcast.id}：{counts.get(broadcasts.PENDING, 0)} 人待发，"
        f"{at:%Y-%m-%d %H:%M} 起发送（天津时间）"
    )
    limits = SendLimits.from_settings(settings.broadcast)
    report = asyncio.run(
        send_broadcast(settings, token.get_secret_value(), engine, broadcast.id, limits)
    )
    print(
        f"已发 {report.sent}，屏蔽了机器人 {report.blocked}，已退订 {report.gone}，"
        f"发不出 {report.failed}，仍待发 {report.still_pending}；"
        f"{report.messages_per_second:.1f} 条/秒"
    )
    if report.still_pending:
        print("有消息没发出去：稍后再运行同一条命令，会接着发，不会重复。")
    return 0


async def send_broadcast(
    settings: Settings, token: str, engine: Any, broadcast_id: int, limits: SendLimits
) -> BroadcastReport:
    """Send with python-telegram-bot's Bot; SIGTERM stops like Ctrl-C (in-flight sends recorded)."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.campaigns.broadcasts import Broadcaster
    from bot.limits.shared_redis import SharedRedis
    from bot.storage.claims import new_lease

    request = HTTPXRequest(
        connection_pool_size=BROADCAST_CONNECTIONS,
        connect_timeout=settings.telegram.connect_timeout,
        read_timeout=settings.telegram.read_timeout,
    )
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    redis = SharedRedis.from_settings(settings.redis)
    if redis is None:
        bot: Bot = Bot(token, base_url=settings.telegram.base_url, request=request)
    else:
        # With Redis the broadcast keeps the pace the serving processes keep (one bot, 30/s);
        # a 429 is still the broadcaster's to wait out (max_retries=0).
        from telegram.ext import ExtBot

        from bot.channels.telegram.pace_limiter import PacedRateLimiter
        from bot.limits.send_pace import RedisSendPace

        pace = RedisSendPace.from_settings(redis, settings.broadcast)
        bot = ExtBot(
            token,
            base_url=settings.telegram.base_url,
            request=request,
            rate_limiter=PacedRateLimiter(pace, max_retries=0),
        )
    try:
        async with bot:
            lease = new_lease("broadcast", settings.senders.lease_seconds)
            broadcaster = Broadcaster(engine, bot, limits=limits, show_progress=True, lease=lease)
            return await broadcaster.run(broadcast_id)
    finally:
        if redis is not None:
            await redis.aclose()


async def bot_username(settings: Settings) -> str | None:
    """`[telegram] username`, else what getMe says (needs the token)."""
    if settings.telegram.username:
        return settings.telegram.username
    if settings.telegram.token is None:
        return None
    from telegram import Bot

    async with Bot(
        settings.telegram.token.get_secret_value(), base_url=settings.telegram.base_url
    ) as bot:
        return bot.username


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期要写成 2027-02-01：{value!r}") from None


def parse_moment(value: str) -> datetime:
    """An ISO date and time; without a zone it is Tianjin time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"时间要写成 2027-02-01T09:00：{value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


def deep_link_part(value: str) -> str:
    if not campaigns.is_deep_link_text(value):
        raise argparse.ArgumentTypeError(f"只能用 A–Z a–z 0–9 _ -，最多 64 个字符：{value!r}")
    return value


def add_commands(commands: Subcommands) -> None:
    """The `campaign` and `broadcast` commands, added to the CLI's subparsers."""
    campaign = commands.add_parser("campaign", help="春风行动等活动：创建、海报、统计")
    actions = campaign.add_subparsers(dest="campaign_command", required=True)
    create = actions.add_parser("create", help="新建活动")
    create.add_argument("code", type=deep_link_part, help="活动代码（深链接用）")
    create.add_argument("--name", required=True, help="活动名称，印在海报上")
    create.add_argument("--start", type=parse_day, required=True, help="开始日期 2027-02-01")
    create.add_argument("--end", type=parse_day, required=True, help="结束日期 2027-03-31")
    create.add_argument("--topics", nargs="*", default=[], help=f"主题：{' '.join(TOPICS)}")
    create.add_argument("--info", help="活动信息文件（活动期间附在相关回答后）")
    create.set_defaults(handler=reporting_errors(command_campaign_create))
    actions.add_parser("list", help="列出活动").set_defaults(
        handler=reporting_errors(command_campaign_list)
    )
    show = actions.add_parser("show", help="显示一个活动")
    show.add_argument("code")
    show.set_defaults(handler=reporting_errors(command_campaign_show))
    poster = actions.add_parser("poster", help="生成带二维码的海报 PNG")
    poster.add_argument("code")
    poster.add_argument("--place", type=deep_link_part, required=True, help="张贴地点代码")
    poster.add_argument("--out", required=True, help="输出文件 .png")
    poster.set_defaults(handler=reporting_errors(command_campaign_poster))
    stats = actions.add_parser("stats", help="按天统计：新用户、提问、法律援助、订阅")
    stats.add_argument("code")
    stats.add_argument("--chart", help="同时画图，输出 .png")
    stats.set_defaults(handler=reporting_errors(command_campaign_stats))

    broadcast = commands.add_parser("broadcast", help="给活动的订阅者群发消息（可断点续发）")
    broadcast.add_argument("--campaign", required=True)
    broadcast.add_argument("--message", required=True, help="消息文本文件")
    broadcast.add_argument(
        "--at", type=parse_moment, help="定时发送，如 2027-02-20T09:00（天津时间）；命令会等到那时"
    )
    broadcast.set_defaults(handler=reporting_errors(command_broadcast))


def reporting_errors(command: Command) -> Command:
    """The command, with a campaign mistake (bad code, duplicate) reported instead of raised."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        try:
            return command(settings, args)
        except CampaignError as error:
            sys.stderr.write(f"{error}\n")
            return EXIT_BAD_INPUT

    return run
