#!/usr/bin/env python3
"""Renders the OCR test fixtures in fixtures/ocr/: synthetic, no real personal data.

- page_vi.png: an A5-width page of Vietnamese administrative text at 300 dpi, slightly rotated,
  blurred and noisy, with its ground truth in page_vi.txt (for the character error rate);
- id_front.png: a citizen-ID-card-like front (căn cước) at 300 dpi, with id_front.json holding
  the values printed on it.

Needs Pillow and the DejaVu fonts (Debian: fonts-dejavu-core). The PNGs are committed, so the
tests do not need this script; run it to change them:  python3 scripts/make_fixtures.py
"""

import json
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "ocr"
FONTS = Path("/usr/share/fonts/truetype/dejavu")
random.seed(20250128)


def font(name, size):
    return ImageFont.truetype(str(FONTS / name), size)


def degrade(img, angle):
    """A scanner's defects: a small rotation, a little blur, speckle noise."""
    img = img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    px = img.load()
    w, h = img.size
    for _ in range(w * h // 400):
        x, y = random.randrange(w), random.randrange(h)
        px[x, y] = random.choice((0, 90, 200))
    return img


PAGE = [
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "",
    "TỜ KHAI ĐĂNG KÝ LẠI KHAI SINH",
    "",
    "Kính gửi: Ủy ban nhân dân phường Minh Xuân",
    "Họ, chữ đệm, tên người yêu cầu: Trần Thị Bích Ngọc",
    "Nơi cư trú: Số 12 đường Đinh Tiên Hoàng, phường Minh Xuân",
    "Giấy tờ tùy thân: Căn cước số 008195009999",
    "Quan hệ với người được đăng ký: Mẹ",
    "Đề nghị cơ quan đăng ký lại khai sinh cho người dưới đây:",
    "Họ, chữ đệm, tên: Nguyễn Đức Huy",
    "Ngày, tháng, năm sinh: 14/08/2019",
    "Giới tính: Nam    Dân tộc: Kinh    Quốc tịch: Việt Nam",
    "Nơi sinh: Bệnh viện Đa khoa tỉnh Tuyên Quang",
    "Tôi cam đoan nội dung đề nghị đăng ký lại khai sinh trên đây",
    "là đúng sự thật và chịu trách nhiệm trước pháp luật.",
]


def page():
    w, h = 1750, 1400
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    y = 80
    for i, line in enumerate(PAGE):
        bold = i in (0, 3)
        f = font("DejaVuSerif-Bold.ttf" if bold else "DejaVuSerif.ttf", 40)
        if i in (0, 1, 3):
            tw = d.textlength(line, font=f)
            d.text(((w - tw) / 2, y), line, font=f, fill=0)
        else:
            d.text((110, y), line, font=f, fill=0)
        y += 70
    degrade(img, 1.2).save(OUT / "page_vi.png", optimize=True)
    (OUT / "page_vi.txt").write_text("\n".join(l for l in PAGE if l) + "\n", encoding="utf-8")


CARD = {
    "id_number": "008195009999",
    "full_name": "TRẦN THỊ BÍCH NGỌC",
    "date_of_birth": "1995-03-21",
    "sex": "Nữ",
    "nationality": "Việt Nam",
    "place_of_origin": "Xã Tân Trào, Tuyên Quang",
    "place_of_residence": "Phường Minh Xuân, Tuyên Quang",
    "expiry": "2035-03-21",
}


def id_front():
    # 85.6 × 54 mm at 600 dpi.
    w, h = 2022, 1276
    img = Image.new("L", (w, h), 235)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((10, 10, w - 10, h - 10), radius=60, outline=120, width=6)
    head = font("DejaVuSans-Bold.ttf", 52)
    for y, line in ((60, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), (130, "Độc lập - Tự do - Hạnh phúc")):
        tw = d.textlength(line, font=head)
        d.text(((w - tw) / 2 + 150, y), line, font=head, fill=20)
    title = font("DejaVuSans-Bold.ttf", 72)
    d.text((560, 230), "CĂN CƯỚC CÔNG DÂN", font=title, fill=20)
    d.rectangle((70, 330, 500, 900), outline=90, width=4)  # the photo
    label, value = font("DejaVuSans.ttf", 44), font("DejaVuSans-Bold.ttf", 54)
    dob = "/".join(reversed(CARD["date_of_birth"].split("-")))
    exp = "/".join(reversed(CARD["expiry"].split("-")))
    rows = [
        ("Số / No.:", CARD["id_number"]),
        ("Họ và tên / Full name:", CARD["full_name"]),
        ("Ngày sinh / Date of birth:", dob),
        ("Giới tính / Sex:", f"{CARD['sex']}    Quốc tịch / Nationality: {CARD['nationality']}"),
        ("Quê quán / Place of origin:", CARD["place_of_origin"]),
        ("Nơi thường trú / Place of residence:", CARD["place_of_residence"]),
        ("Có giá trị đến / Date of expiry:", exp),
    ]
    y = 340
    for lab, val in rows:
        d.text((560, y), lab, font=label, fill=40)
        y += 56
        d.text((560, y), val, font=value, fill=0)
        y += 74
    degrade(img, -0.8).save(OUT / "id_front.png", optimize=True)
    (OUT / "id_front.json").write_text(json.dumps(CARD, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def check_digit(s):
    """ICAO 9303: digits, A-Z as 10-35, '<' as 0; weights 7, 3, 1."""
    total = 0
    for i, c in enumerate(s):
        v = int(c) if c.isdigit() else (ord(c) - 55 if c.isalpha() else 0)
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def id_back():
    """The back of the card: its machine-readable zone (TD1: three lines of 30 characters)."""
    id_no = CARD["id_number"]
    doc = id_no[3:]
    l1 = f"IDVNM{doc}{check_digit(doc)}{id_no}<<<"
    birth = CARD["date_of_birth"].replace("-", "")[2:]
    expiry = CARD["expiry"].replace("-", "")[2:]
    l2 = f"{birth}{check_digit(birth)}F{expiry}{check_digit(expiry)}VNM<<<<<<<<<<<"
    l2 = l2 + check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    l3 = "TRAN<<THI<BICH<NGOC".ljust(30, "<")
    assert len(l1) == len(l2) == len(l3) == 30, (l1, l2, l3)
    w, h = 2022, 1276
    img = Image.new("L", (w, h), 235)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((10, 10, w - 10, h - 10), radius=60, outline=120, width=6)
    small = font("DejaVuSans.ttf", 40)
    d.text((80, 80), "Đặc điểm nhân dạng / Personal identification: Nốt ruồi cách 2 cm trên đầu mày phải", font=small, fill=30)
    d.text((80, 150), "Ngày, tháng, năm / Date, month, year: 21/03/2021", font=small, fill=30)
    mono = font("DejaVuSansMono-Bold.ttf", 76)
    y = 840
    for line in (l1, l2, l3):
        d.text((90, y), line, font=mono, fill=0)
        y += 120
    degrade(img, 0.5).save(OUT / "id_back.png", optimize=True)
    (OUT / "id_back.txt").write_text("\n".join((l1, l2, l3)) + "\n", encoding="utf-8")


def archive():
    """Multi-page scans made from page_vi.png (so the page's ground truth holds for each page):
    archive_scan.pdf, a 3-page scanned PDF with no text layer (the backward-digitisation batch
    test), and archive_scan.tif, a 2-page bilevel TIFF (Group 4)."""
    base = Image.open(OUT / "page_vi.png").convert("L")
    bw = base.point(lambda v: 255 if v > 150 else 0).convert("1")
    bw.save(OUT / "archive_scan.pdf", save_all=True, append_images=[bw, bw], resolution=300)
    bw.save(OUT / "archive_scan.tif", save_all=True, append_images=[bw], compression="group4", dpi=(300, 300))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    page()
    id_front()
    id_back()
    archive()
    print(f"fixtures written to {OUT}", file=sys.stderr)
