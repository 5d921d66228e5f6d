"""The terminal channel: chat with the dialogue core in a shell, choices shown as numbers."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from handlers.dialogue import Dialogue
from handlers.messages import Choice, IncomingMessage, Reply

CHANNEL = "terminal"
USER_KEY = "terminal:local"
PROMPT = "你> "
EXIT_WORDS = frozenset({"exit", "quit", "退出", "/exit", "/quit"})


def render(reply: Reply) -> str:
    """A reply with its choices as numbered lines (回复数字选择)."""
    lines = [reply.text]
    if reply.choices:
        lines.append("")
        lines.extend(
            f"  {number}. {choice.label}" for number, choice in enumerate(reply.choices, 1)
        )
        lines.append("（回复数字选择）")
    return "\n".join(lines)


def to_message(line: str, choices: tuple[Choice, ...]) -> IncomingMessage:
    """A number picks one of the last reply's choices; anything else is typed text."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return IncomingMessage.pressed(USER_KEY, CHANNEL, choices[int(text) - 1].payload)
    return IncomingMessage.typed(USER_KEY, CHANNEL, text)


async def chat(dialogue: Dialogue, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """Read lines until end of input or 退出; the first screen is the /start greeting."""
    turn = await dialogue.handle(IncomingMessage.typed(USER_KEY, CHANNEL, "/start"))
    choices: tuple[Choice, ...] = ()
    for reply in turn.replies:
        print("机器人> " + render(reply), file=stdout, flush=True)
        choices = reply.choices or choices
    print("（输入“退出”结束）", file=stdout, flush=True)
    while True:
        print(PROMPT, end="", file=stdout, flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line or line.strip().lower() in EXIT_WORDS:
            print("再见！", file=stdout, flush=True)
            return
        if not line.strip():
            continue
        turn = await dialogue.handle(to_message(line, choices))
        for reply in turn.replies:
            print("机器人> " + render(reply), file=stdout, flush=True)
            choices = reply.choices or choices
