"""The channels, in the order the server mounts, starts and stops them: a new channel is its
sub-package plus one line here."""

from __future__ import annotations

from bot.channels.base import ChannelSpec
from bot.channels.telegram.channel import SPEC as TELEGRAM
from bot.channels.web.channel import SPEC as WEB
from bot.channels.wechat.channel import SPEC as WECHAT

CHANNELS: tuple[ChannelSpec, ...] = (WEB, TELEGRAM, WECHAT)
