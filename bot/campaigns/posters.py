"""Printable campaign posters: the deep link's QR code, the campaign's name and what the bot helps
with, in Noto Sans SC (SIL Open Font License; installed by pip with justmytype-intl-cjk)."""

from __future__ import annotations

from contextlib import ExitStack
from importlib.resources import as_file, files
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

# A4 at 150 dpi: prints sharp, stays a small file.
POSTER_SIZE = (1240, 1754)
MARGIN = 90
QR_SIDE = 760
INK = (20, 20, 20)
ACCENT = (196, 30, 58)
HELPS = (
    "找工作、技能培训、创业贷款怎么办",
    "欠工资、工伤、社保，政策怎么说",
    "孩子上学、落户、住房，有啥规定",
)
FONT_PACKAGE = "justmytype_intl_cjk"
FONT_FILE = "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"


def deep_link(username: str, payload: str) -> str:
    return f"https://t.me/{username.lstrip('@')}?start={payload}"


class PosterFonts:
    """Noto Sans SC at the weights a poster needs; the variable font's default is Thin."""

    def __init__(self) -> None:
        self._files = ExitStack()
        self.path = self._files.enter_context(as_file(files(FONT_PACKAGE).joinpath(FONT_FILE)))

    def at(self, size: int, weight: str = "Regular") -> ImageFont.FreeTypeFont:
        font = ImageFont.truetype(str(self.path), size)
        font.set_variation_by_name(weight)
        return font

    def close(self) -> None:
        self._files.close()


def qr_image(link: str) -> Image.Image:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(link)
    code.make(fit=True)
    made: Image.Image = code.make_image(fill_color="black", back_color="white").get_image()
    image = made.convert("RGB")
    # Nearest neighbour keeps the modules crisp at any print size.
    return image.resize((QR_SIDE, QR_SIDE), Image.Resampling.NEAREST)


def _centered(
    draw: ImageDraw.ImageDraw,
    y: int,
    text: str,
    font: ImageFont.FreeTypeFont,
    fill: tuple[int, int, int],
) -> int:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((POSTER_SIZE[0] - (right - left)) // 2 - left, y - top), text, font=font, fill=fill)
    return y + int(bottom - top)


def fit_font(
    fonts: PosterFonts, text: str, *, size: int, weight: str, width: int
) -> ImageFont.FreeTypeFont:
    """The largest size up to `size` at which `text` fits in `width` pixels."""
    while True:
        font = fonts.at(size, weight)
        if font.getlength(text) <= width or size <= 24:
            return font
        size -= 4


def render_poster(
    out: Path, *, link: str, campaign_name: str, place: str, helps: tuple[str, ...] = HELPS
) -> Path:
    """Draw the poster and save it as PNG at `out`."""
    fonts = PosterFonts()
    try:
        poster = Image.new("RGB", POSTER_SIZE, "white")
        draw = ImageDraw.Draw(poster)
        width = POSTER_SIZE[0] - 2 * MARGIN
        draw.rectangle((0, 0, POSTER_SIZE[0], 24), fill=ACCENT)
        y = _centered(
            draw,
            80,
            campaign_name,
            fit_font(fonts, campaign_name, size=96, weight="Bold", width=width),
            ACCENT,
        )
        y = _centered(draw, y + 36, "天津农民工政策小助手", fonts.at(54, "Medium"), INK)
        y = _centered(draw, y + 24, "手机扫码，用 Telegram 直接问政策", fonts.at(40), INK)
        qr_top = y + 40
        poster.paste(qr_image(link), ((POSTER_SIZE[0] - QR_SIDE) // 2, qr_top))
        y = qr_top + QR_SIDE + 50
        help_font = fonts.at(50)
        for number, line in enumerate(helps[:3], start=1):
            draw.text((MARGIN + 40, y), f"{number}. {line}", font=help_font, fill=INK)
            y += 88
        footer = fonts.at(28)
        note = f"按《天津市开展县域农民工市民化质量提升行动实施方案》回答 · {place}"
        _centered(
            draw,
            POSTER_SIZE[1] - 110,
            note,
            fit_font(fonts, note, size=28, weight="Regular", width=width),
            INK,
        )
        _centered(draw, POSTER_SIZE[1] - 64, link, footer, INK)
        out.parent.mkdir(parents=True, exist_ok=True)
        poster.save(out, "PNG", dpi=(150, 150))
    finally:
        fonts.close()
    return out
