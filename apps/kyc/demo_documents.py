"""Real-looking demo documents, drawn with Pillow: a passport data page (name, birth date, a photo box, the
machine-readable zone) as a JPEG, a utility bill with the player's address as a PDF, a payslip as a PDF. Only for
``seed_demo``: they go through ``document_upload`` like any upload, so intake re-encodes them."""

from __future__ import annotations

import io
import random
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _mrz_name(text: str) -> str:
    return "".join(c if c.isalpha() else "<" for c in text.upper())


def passport_jpeg(
    *, first_name: str, last_name: str, born: date, country: str, number: str, expires: date, seed: int = 0
) -> bytes:
    """A passport's data page, 1000 x 700: the holder's photo box, the printed fields and two MRZ lines."""
    rng = random.Random(seed)
    tint: Colour = (rng.randint(215, 235), rng.randint(225, 240), rng.randint(230, 245))
    image = Image.new("RGB", (1000, 700), tint)
    draw = ImageDraw.Draw(image)
    for y in range(0, 700, 14):  # the guilloche-like background lines
        draw.arc((-200, y - 300, 1200, y + 300), 0, 180, fill=(tint[0] - 25, tint[1] - 20, tint[2] - 10), width=1)
    draw.rectangle((0, 0, 999, 70), fill=(25, 45, 95))
    draw.text((30, 18), f"PASSPORT  ·  {country}", font=_font(34), fill=(255, 255, 255))
    # the photo box: a face drawn in simple shapes
    draw.rectangle((40, 110, 300, 450), fill=(200, 205, 215), outline=(60, 60, 80), width=3)
    skin: Colour = rng.choice([(236, 200, 170), (200, 150, 110), (150, 100, 70), (240, 215, 190)])
    draw.ellipse((110, 160, 230, 310), fill=skin, outline=(90, 70, 60), width=2)
    draw.rectangle((90, 320, 250, 450), fill=(60, 70, 110))
    draw.ellipse((140, 215, 155, 230), fill=(40, 40, 40))
    draw.ellipse((185, 215, 200, 230), fill=(40, 40, 40))
    draw.arc((145, 250, 195, 280), 10, 170, fill=(120, 60, 60), width=3)
    label, value = _font(20), _font(30)
    fields = [
        ("Surname", last_name.upper()),
        ("Given names", first_name.upper()),
        ("Nationality", country),
        ("Date of birth", born.strftime("%d %b %Y").upper()),
        ("Passport No.", number),
        ("Date of expiry", expires.strftime("%d %b %Y").upper()),
    ]
    for i, (name, text) in enumerate(fields):
        y = 100 + i * 62
        draw.text((340, y), name, font=label, fill=(70, 70, 90))
        draw.text((340, y + 22), text, font=value, fill=(15, 15, 30))
    line1 = f"P<{country}{_mrz_name(last_name)}<<{_mrz_name(first_name)}".ljust(44, "<")[:44]
    line2 = f"{number.ljust(9, '<')[:9]}0{country}{born:%y%m%d}0M{expires:%y%m%d}0".ljust(44, "<")[:44]
    draw.rectangle((0, 560, 999, 699), fill=(245, 245, 240))
    mono = _font(34)
    draw.text((30, 580), line1, font=mono, fill=(10, 10, 10))
    draw.text((30, 630), line2, font=mono, fill=(10, 10, 10))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()


def _page_pdf(draw_page: object) -> bytes:
    image = Image.new("RGB", (1240, 1754), (255, 255, 255))  # A4 at 150 dpi
    draw_page(ImageDraw.Draw(image))  # type: ignore[operator]
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=150.0)
    return out.getvalue()


def utility_bill_pdf(*, name: str, address: str, city: str, postal_code: str, issued: date, seed: int = 0) -> bytes:
    """An electricity bill, one A4 page: the supplier, the account holder's name and address, the period, amounts."""
    rng = random.Random(seed)
    supplier = rng.choice(["Northern Grid Energy", "BrightVolt Power", "Harbour Gas & Electric", "Evergreen Utilities"])
    used = Decimal(rng.randint(4000, 19000)) / 100
    vat = (used + Decimal("14.26")) * Decimal("0.05")
    amount, vat_text = f"{used:.2f}", f"{vat.quantize(Decimal('0.01'), ROUND_HALF_UP)}"
    total = f"{used + Decimal('14.26') + Decimal(vat_text):.2f}"

    def page(draw: ImageDraw.ImageDraw) -> None:
        draw.rectangle((0, 0, 1240, 150), fill=(20, 110, 90))
        draw.text((80, 45), supplier, font=_font(56), fill=(255, 255, 255))
        body, big = _font(30), _font(40)
        draw.text((80, 230), name, font=big, fill=(0, 0, 0))
        for i, line in enumerate([address, f"{postal_code} {city}".strip()]):
            draw.text((80, 290 + i * 44), line, font=body, fill=(0, 0, 0))
        draw.text((760, 230), f"Bill date: {issued:%d %B %Y}", font=body, fill=(0, 0, 0))
        draw.text((760, 274), f"Account: {rng.randint(10_000_000, 99_999_999)}", font=body, fill=(0, 0, 0))
        draw.line((80, 450, 1160, 450), fill=(20, 110, 90), width=4)
        draw.text((80, 480), "Your electricity bill", font=big, fill=(20, 110, 90))
        rows = [("Standing charge (31 days)", "14.26"), ("Energy used", amount), ("VAT 5%", vat_text)]
        for i, (what, cost) in enumerate(rows):
            draw.text((80, 560 + i * 50), what, font=body, fill=(40, 40, 40))
            draw.text((1000, 560 + i * 50), cost, font=body, fill=(40, 40, 40))
        draw.text((80, 760), "Total due", font=big, fill=(0, 0, 0))
        draw.text((960, 760), total, font=big, fill=(0, 0, 0))
        draw.text((80, 1600), "Please keep this bill as your proof of address.", font=_font(24), fill=(90, 90, 90))

    return _page_pdf(page)


def payslip_pdf(*, name: str, employer: str, month: date, net: str) -> bytes:
    def page(draw: ImageDraw.ImageDraw) -> None:
        draw.text((80, 80), employer, font=_font(50), fill=(30, 30, 60))
        draw.text((80, 170), f"Payslip for {month:%B %Y}", font=_font(36), fill=(0, 0, 0))
        draw.text((80, 240), f"Employee: {name}", font=_font(30), fill=(0, 0, 0))
        draw.text((80, 330), f"Net pay: {net}", font=_font(40), fill=(0, 0, 0))

    return _page_pdf(page)
