"""Generates the legacy samples in this folder (run: python tests/data/legacy/make_samples.py).

``vendor_a/JUKI.DAT`` imitates a vendor's fixed-length resident file: CP932 (with 髙 from the
NEC/IBM extension and two user-defined-area 外字, 0xF040 and 0xF041), 7-digit 和暦 dates with
a 不詳 month, vendor codes for 続柄 and 住民状態, CRLF line ends. ``vendor_a_broken/JUKI.DAT``
has a bad byte, a short record, an impossible date and an unknown code. All persons are
invented.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
GAIJI_F040 = b"\xf0\x40"  # U+E000 after decoding: identified as 葛󠄂 in the tests
GAIJI_F041 = b"\xf0\x41"  # U+E001: not identified → the identification queue


def m11(base: str) -> str:
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(base)))
    r = total % 11
    assert r != 1, base
    return base + ("0" if r == 0 else str(11 - r))


def field(data: bytes, width: int) -> bytes:
    assert len(data) <= width, data
    return data + b" " * (width - len(data))


def record(
    number: str,
    household: str,
    name: bytes,
    kana: str,
    birth: str,
    sex: str,
    relation: str,
    status: str,
    town: str,
    block: str,
    set_on: str,
) -> bytes:
    row = (
        field(m11(number).encode(), 10)
        + field(m11(household).encode(), 10)
        + field(name, 20)
        + field(kana.encode("cp932"), 30)
        + birth.encode()
        + sex.encode()
        + relation.encode()
        + status.encode()
        + field(town.encode("cp932"), 20)
        + field(block.encode("cp932"), 10)
        + set_on.encode()
    )
    assert len(row) == 118, len(row)
    return row


def cp(text: str) -> bytes:
    return text.encode("cp932")


ROWS = [
    record(
        "000000001",
        "000000100",
        cp("髙橋　一郎"),
        "ﾀｶﾊｼ ｲﾁﾛｳ",
        "3550510",
        "1",
        "01",
        "1",
        "一色",
        "1234番地",
        "4300401",
    ),
    record(
        "000000002",
        "000000100",
        cp("髙橋　花子"),
        "ﾀｶﾊｼ ﾊﾅｺ",
        "3581103",
        "2",
        "02",
        "1",
        "一色",
        "1234番地",
        "4300401",
    ),
    record(
        "000000003",
        "000000200",
        GAIJI_F040 + cp("城　清"),
        "ｶﾂﾗｷﾞ ｷﾖｼ",
        "3250000",
        "1",
        "01",
        "1",
        "堀内",
        "5番地",
        "3600101",
    ),
    record(
        "000000004",
        "000000400",
        cp("山") + GAIJI_F041 + cp("　一"),
        "ﾔﾏﾂｼﾞ ﾊｼﾞﾒ",
        "4050707",
        "1",
        "01",
        "1",
        "長柄",
        "10番地",
        "5010501",
    ),
]


def main() -> None:
    (HERE / "vendor_a" / "JUKI.DAT").write_bytes(b"\r\n".join(ROWS) + b"\r\n")
    broken = list(ROWS[:2])
    broken[0] = broken[0][:20] + b"\x81\xff" + broken[0][22:]  # not CP932
    broken.append(ROWS[2][:100])  # a short record
    bad_date = bytearray(ROWS[3])
    bad_date[70:77] = b"4051307"  # 平成5年13月7日
    broken.append(bytes(bad_date))
    unknown = bytearray(ROWS[0])
    unknown[0:10] = m11("000000009").encode()
    unknown[78:80] = b"77"  # no such 続柄 code
    broken.append(bytes(unknown))
    (HERE / "vendor_a_broken" / "JUKI.DAT").write_bytes(b"\r\n".join(broken) + b"\r\n")
    glyph_image()


def glyph_image() -> None:
    """The vendor's picture of its 外字 0xF041 (as vendors supply them), 64×64 PNG."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(
        "/usr/share/fonts/truetype/ipamj/ipamjm.ttf", 56, layout_engine=ImageFont.Layout.RAQM
    )
    image = Image.new("L", (64, 64), 255)
    ImageDraw.Draw(image).text((4, 0), "辻\U000e0102", font=font, fill=0)
    (HERE / "vendor_a" / "gaiji").mkdir(exist_ok=True)
    image.save(HERE / "vendor_a" / "gaiji" / "E001.png", optimize=True)


if __name__ == "__main__":
    main()
