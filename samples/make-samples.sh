#!/bin/sh
# make-samples.sh - regenerate the binary media of the Cistern sample trees.
#
# Not run by the build: the generated files are committed. Re-run it only to
# rebuild the media from scratch (output bytes can differ slightly between
# ffmpeg / espeak-ng / font versions; the text files are hand-written).
#
# Needs: python3 (stdlib only), ffmpeg (libx264, aac, libmp3lame, libvorbis,
# drawtext + DejaVu fonts), espeak-ng. On Debian 12:
#   apt-get install -y ffmpeg espeak-ng fonts-dejavu-core poppler-utils qpdf
#
# Usage: sh samples/make-samples.sh        (from anywhere)
set -eu

S=$(cd "$(dirname "$0")" && pwd)
V1="$S/v1"
V2="$S/v2"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
FONTB=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
FF="ffmpeg -hide_banner -loglevel error -y"
BITEXACT="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1"

mkdir -p "$V1/math-g3-fractions-intro/img" "$V1/geography-g8-great-wall-map" \
         "$V1/math-g8-pythagorean-theorem" "$V1/chemistry-g9-composition-of-water" \
         "$V1/chinese-g1-jingyesi-audio" "$V1/music-g2-do-re-mi" \
         "$V1/science-g5-water-cycle-video"

# ---------------------------------------------------------------------------
# 1. PNG images (pure Python rasteriser) and 2. PDFs (hand-written PDF 1.4),
#    3. the do-re-mi WAV (wave module). All stdlib.
# ---------------------------------------------------------------------------
python3 - "$S" "$TMP" <<'PY'
import math, struct, sys, wave, zlib, os

S, TMP = sys.argv[1], sys.argv[2]

# ---------- tiny RGB canvas + PNG writer ----------
class Canvas:
    def __init__(self, w, h, bg):
        self.w, self.h = w, h
        self.px = bytearray(bytes(bg) * (w * h))
    def set(self, x, y, c):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)
    def rect(self, x0, y0, x1, y1, c):
        for y in range(max(0, y0), min(self.h, y1)):
            for x in range(max(0, x0), min(self.w, x1)):
                self.set(x, y, c)
    def frame(self, x0, y0, x1, y1, c, t=1):
        self.rect(x0, y0, x1, y0 + t, c); self.rect(x0, y1 - t, x1, y1, c)
        self.rect(x0, y0, x0 + t, y1, c); self.rect(x1 - t, y0, x1, y1, c)
    def disc(self, cx, cy, r, c, a0=None, a1=None):
        """Filled circle, or a sector from a0 to a1 degrees (0 = up, clockwise)."""
        for y in range(int(cy - r) - 1, int(cy + r) + 2):
            for x in range(int(cx - r) - 1, int(cx + r) + 2):
                dx, dy = x + 0.5 - cx, y + 0.5 - cy
                if dx * dx + dy * dy > r * r:
                    continue
                if a0 is not None:
                    a = math.degrees(math.atan2(dx, -dy)) % 360
                    if not (a0 <= a < a1):
                        continue
                self.set(x, y, c)
    def ring(self, cx, cy, r, c, t=2):
        for y in range(int(cy - r) - 2, int(cy + r) + 3):
            for x in range(int(cx - r) - 2, int(cx + r) + 3):
                d = math.hypot(x + 0.5 - cx, y + 0.5 - cy)
                if r - t <= d <= r:
                    self.set(x, y, c)
    def line(self, x0, y0, x1, y1, c, t=2):
        n = int(max(abs(x1 - x0), abs(y1 - y0))) * 2 + 1
        for i in range(n + 1):
            x = x0 + (x1 - x0) * i / n
            y = y0 + (y1 - y0) * i / n
            self.rect(int(x - t / 2), int(y - t / 2), int(x - t / 2) + t, int(y - t / 2) + t, c)
    def polyline(self, pts, c, t=2):
        for (a, b), (p, q) in zip(pts, pts[1:]):
            self.line(a, b, p, q, c, t)
    def png(self, path):
        raw = b"".join(b"\x00" + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3])
                       for y in range(self.h))
        def chunk(t, d):
            return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
        data = (b"\x89PNG\r\n\x1a\n"
                + chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9))
                + chunk(b"IEND", b""))
        with open(path, "wb") as f:
            f.write(data)

WHITE = (255, 255, 255); BLACK = (40, 40, 40); ORANGE = (245, 160, 50)
BLUE = (70, 140, 220); GREY = (200, 200, 200)

# fraction-pie.png: 3/4 of a circle and 1/3 of a bar shaded
c = Canvas(240, 120, WHITE)
c.disc(60, 60, 48, GREY)
c.disc(60, 60, 48, ORANGE, 0, 270)
c.ring(60, 60, 49, BLACK, 2)
c.line(60, 11, 60, 109, BLACK, 2); c.line(11, 60, 109, 60, BLACK, 2)
c.rect(130, 40, 230, 80, GREY)
c.rect(130, 40, 163, 80, BLUE)
c.frame(130, 40, 230, 80, BLACK, 2)
c.line(163, 40, 163, 80, BLACK, 2); c.line(196, 40, 196, 80, BLACK, 2)
c.png(os.path.join(S, "v1/math-g3-fractions-intro/img/fraction-pie.png"))

# great-wall base maps (labels are added by ffmpeg drawtext below)
def wall_map(version):
    LAND = (236, 226, 196); SEA = (150, 200, 235); WALL = (150, 40, 30)
    c = Canvas(320, 200, LAND)
    # Bohai Sea / Yellow Sea on the right
    for y in range(60, 200):
        x0 = 262 - int(18 * math.sin(y / 23.0)) - (y - 60) // 6
        c.rect(x0, y, 320, y + 1, SEA)
    # Ming Great Wall: Jiayuguan (west) -> Shanhaiguan (east), crenellated
    pts = [(22, 118), (50, 104), (80, 100), (104, 88), (130, 92), (152, 80),
           (176, 84), (198, 70), (220, 66), (244, 62), (266, 70)]
    c.polyline(pts, WALL, 4)
    for (a, b), (p, q) in zip(pts, pts[1:]):
        n = int(math.hypot(p - a, q - b) // 8)
        for i in range(n):
            x = a + (p - a) * i / n; y = b + (q - b) * i / n
            c.rect(int(x) - 1, int(y) - 5, int(x) + 2, int(y) - 2, WALL)
    c.disc(22, 118, 5, BLACK)     # Jiayuguan
    c.disc(266, 70, 5, BLACK)     # Shanhaiguan
    c.disc(236, 82, 4, (200, 30, 30))  # Beijing
    if version == 2:
        c.disc(228, 66, 3, (30, 110, 40))     # Badaling
        # Yellow River (schematic)
        c.polyline([(40, 170), (70, 140), (100, 130), (120, 100), (138, 70),
                    (160, 66), (172, 100), (176, 140), (200, 150), (240, 140),
                    (262, 128)], (200, 150, 40), 2)
        # scale bar
        c.rect(20, 186, 100, 189, BLACK); c.rect(20, 182, 22, 193, BLACK)
        c.rect(98, 182, 100, 193, BLACK)
    c.frame(0, 0, 320, 200, BLACK, 1)
    c.png(os.path.join(TMP, "great-wall-v%d-base.png" % version))
wall_map(1)
wall_map(2)

# ---------- hand-written PDF ----------
def pdf(path, title, pages, w=420, h=595):
    """pages: list of content-stream strings. Fonts: F1 Helvetica, F2 Helvetica-Bold,
    F3 STSong-Light (Adobe-GB1, not embedded, UniGB-UCS2-H)."""
    objs = []
    def add(body):
        objs.append(body if isinstance(body, bytes) else body.encode("latin-1"))
        return len(objs)
    cat = add("")            # 1 placeholder
    pages_id = add("")       # 2 placeholder
    f1 = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    f2 = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    desc = add("<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
               "/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
               "/CapHeight 880 /StemV 93 >>")
    cid = add("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
              "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
              "/FontDescriptor %d 0 R /DW 1000 /W [1 95 500] >>" % desc)
    f3 = add("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UCS2-H "
             "/Encoding /UniGB-UCS2-H /DescendantFonts [%d 0 R] >>" % cid)
    res = "<< /Font << /F1 %d 0 R /F2 %d 0 R /F3 %d 0 R >> >>" % (f1, f2, f3)
    kids = []
    for content in pages:
        data = content.encode("latin-1")
        s = add(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
        kids.append(add("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] "
                        "/Resources %s /Contents %d 0 R >>" % (pages_id, w, h, res, s)))
    objs[cat - 1] = ("<< /Type /Catalog /Pages %d 0 R >>" % pages_id).encode()
    objs[pages_id - 1] = ("<< /Type /Pages /Kids [%s] /Count %d >>"
                          % (" ".join("%d 0 R" % k for k in kids), len(kids))).encode()
    info = add("<< /Title <FEFF%s> /Author (Cistern sample content) /Producer (make-samples.sh) >>"
               % title.encode("utf-16-be").hex().upper())
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offs = []
    for i, body in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offs:
        out += b"%010d 00000 n \n" % o
    out += (b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objs) + 1, cat, info, xref))
    with open(path, "wb") as f:
        f.write(out)

def zh(x, y, size, text):
    return "BT /F3 %g Tf %g %g Td <%s> Tj ET\n" % (size, x, y, text.encode("utf-16-be").hex().upper())
def en(x, y, size, text, bold=False):
    t = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return "BT /%s %g Tf %g %g Td (%s) Tj ET\n" % ("F2" if bold else "F1", size, x, y, t)
def sq(x, y, size, parts, bold=False):
    """Formula with superscripts/subscripts: parts = [(text, rise)]."""
    s = "BT /%s %g Tf %g %g Td " % ("F2" if bold else "F1", size, x, y)
    for text, rise in parts:
        fs = size if rise == 0 else size * 0.6
        t = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        s += "/%s %g Tf %g Ts (%s) Tj " % ("F2" if bold else "F1", fs, rise, t)
    return s + "0 Ts ET\n"

# Pythagorean theorem, 2 A5 pages
p1 = ""
p1 += "0.93 0.96 1 rg 0 535 420 60 re f 0 0 0 rg\n"
p1 += zh(30, 565, 20, "第十七章  勾股定理")
p1 += en(30, 545, 11, "Chapter 17  The Pythagorean Theorem  (Grade 8, Volume 2)")
p1 += zh(30, 505, 12, "定理：直角三角形两条直角边的平方和，等于斜边的平方。")
p1 += en(30, 487, 10, "In a right triangle, the squares of the two legs add up to the square of the hypotenuse.")
p1 += sq(150, 455, 22, [("a", 0), ("2", 9), (" + b", 0), ("2", 9), (" = c", 0), ("2", 9)], True)
# triangle: right angle at (80,300), legs 3 and 4 (scale 40)
p1 += "1 0.92 0.8 rg 80 300 m 240 300 l 80 420 l h f 0 0 0 RG 1.5 w 80 300 m 240 300 l 80 420 l h S\n"
p1 += "0.5 w 80 312 m 92 312 l 92 300 l S 0 0 0 rg\n"
p1 += en(150, 285, 12, "b = 4") + en(50, 356, 12, "a = 3") + en(165, 366, 12, "c = 5")
p1 += zh(260, 400, 11, "勾 a = 3") + zh(260, 382, 11, "股 b = 4") + zh(260, 364, 11, "弦 c = 5")
p1 += sq(260, 340, 11, [("3", 0), ("2", 5), (" + 4", 0), ("2", 5), (" = 9 + 16 = 25 = 5", 0), ("2", 5)])
p1 += zh(30, 245, 12, "我国古代把直角三角形中较短的直角边叫做“勾”，较长的")
p1 += zh(30, 228, 12, "直角边叫做“股”，斜边叫做“弦”。《周髀算经》中记载了")
p1 += zh(30, 211, 12, "“勾三股四弦五”，所以勾股定理在我国又叫“商高定理”。")
p1 += zh(30, 175, 12, "例 1  一个直角三角形的两条直角边分别是 6 cm 和 8 cm，")
p1 += zh(30, 158, 12, "求斜边的长。")
p1 += sq(48, 136, 12, [("c", 0), ("2", 5), (" = 6", 0), ("2", 5), (" + 8", 0), ("2", 5),
                       (" = 36 + 64 = 100,   c = 10 cm", 0)])
p1 += en(30, 40, 8, "Cistern sample content - CC0-1.0 (public domain dedication)   1/2")
p2 = ""
p2 += en(30, 555, 14, "Summary", True)
p2 += en(30, 535, 10, "1. Only right triangles satisfy a^2 + b^2 = c^2; c is the side opposite the right angle.")
p2 += en(30, 519, 10, "2. Converse: if a^2 + b^2 = c^2, the triangle is a right triangle.")
p2 += en(30, 503, 10, "3. Pythagorean triples: (3, 4, 5), (5, 12, 13), (6, 8, 10), (7, 24, 25), (8, 15, 17).")
p2 += zh(30, 465, 14, "练习  Exercises")
p2 += zh(30, 440, 12, "1. 直角边为 5 和 12，斜边是多少？")
p2 += en(42, 424, 10, "Legs 5 and 12: how long is the hypotenuse?")
p2 += zh(30, 400, 12, "2. 斜边为 10，一条直角边为 6，另一条直角边是多少？")
p2 += en(42, 384, 10, "Hypotenuse 10, one leg 6: find the other leg.")
p2 += zh(30, 360, 12, "3. 三边分别为 7、24、25 的三角形是直角三角形吗？")
p2 += en(42, 344, 10, "Is a triangle with sides 7, 24, 25 a right triangle?")
p2 += zh(30, 320, 12, "4. 一架 5 m 长的梯子斜靠在墙上，梯子底端离墙 3 m，")
p2 += zh(42, 303, 12, "梯子顶端离地面多高？")
p2 += en(42, 287, 10, "A 5 m ladder leans on a wall with its foot 3 m from the wall. How high does it reach?")
p2 += zh(30, 240, 12, "答案  Answers:  1. 13   2. 8   3. 是 (yes)   4. 4 m")
p2 += en(30, 40, 8, "Cistern sample content - CC0-1.0 (public domain dedication)   2/2")
pdf(os.path.join(S, "v1/math-g8-pythagorean-theorem/pythagorean-theorem.pdf"),
    "勾股定理 The Pythagorean Theorem", [p1, p2])

# Composition of water, 1 A5 page
q = ""
q += "0.9 0.97 1 rg 0 535 420 60 re f 0 0 0 rg\n"
q += zh(30, 565, 20, "第四单元  水的组成")
q += en(30, 545, 11, "Unit 4  The Composition of Water  (Grade 9 Chemistry)")
q += zh(30, 505, 13, "实验：电解水")
q += en(30, 488, 10, "Experiment: electrolysis of water (add a little sodium sulfate to conduct).")
# apparatus: two tubes over a trough
q += "0 0 0 RG 1.2 w 0.85 0.93 1 rg 60 330 200 50 re B\n"
q += "0.85 0.93 1 rg 90 360 30 100 re B 180 360 30 100 re B\n"
q += "1 1 1 rg 90 430 30 30 re f 180 400 30 60 re f 0 0 0 RG 90 360 30 100 re S 180 360 30 100 re S\n"
q += "0 0 0 rg\n"
q += zh(78, 470, 11, "正极 (+)") + zh(170, 470, 11, "负极 (-)")
q += sq(96, 440, 10, [("O", 0), ("2", -3)]) + sq(186, 425, 10, [("H", 0), ("2", -3)])
q += zh(285, 445, 11, "体积比") + en(285, 428, 10, "volume ratio")
q += sq(285, 408, 12, [("V(H", 0), ("2", -3), (") : V(O", 0), ("2", -3), (") = 2 : 1", 0)])
q += zh(30, 300, 12, "现象：两个电极上都产生气泡。正极产生的气体能使带火星的")
q += zh(30, 283, 12, "木条复燃，是氧气；负极产生的气体能燃烧，火焰呈淡蓝色，")
q += zh(30, 266, 12, "是氢气。口诀：“正氧负氢，氢二氧一”。")
q += sq(60, 236, 13, [("2H", 0), ("2", -3), ("O  =(electrolysis)=  2H", 0), ("2", -3),
                      ("  +  O", 0), ("2", -3)], True)
q += zh(30, 200, 12, "结论：水是由氢元素和氧元素组成的。")
q += en(30, 183, 10, "Conclusion: water is made of the elements hydrogen and oxygen.")
q += zh(30, 150, 12, "想一想：氢气在空气中燃烧只生成水，这能说明什么？")
q += en(30, 133, 10, "Think: burning hydrogen in air produces only water. What does that show?")
q += en(30, 40, 8, "Cistern sample content - CC0-1.0 (public domain dedication)")
pdf(os.path.join(S, "v1/chemistry-g9-composition-of-water/composition-of-water.pdf"),
    "水的组成 The Composition of Water", [q])

# do-re-mi: C major scale up, 8 notes x 0.35 s, 22.05 kHz mono, soft envelope
rate = 22050
notes = [261.63, 293.66, 329.63, 349.23, 392.00, 440.00, 493.88, 523.25]
frames = bytearray()
for f in notes:
    n = int(rate * 0.35)
    for i in range(n):
        t = i / rate
        env = min(1.0, i / 300.0) * min(1.0, (n - i) / 1500.0)
        v = 0.45 * env * (math.sin(2 * math.pi * f * t) + 0.25 * math.sin(4 * math.pi * f * t))
        frames += struct.pack("<h", int(max(-1, min(1, v)) * 32767))
with wave.open(os.path.join(TMP, "do-re-mi.wav"), "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate)
    w.writeframes(bytes(frames))
PY

# ---------------------------------------------------------------------------
# 4. Great Wall map labels (ffmpeg drawtext, DejaVu Sans; no CJK font needed)
# ---------------------------------------------------------------------------
LBL="fontfile=$FONT:fontcolor=0x282828:fontsize=11"
$FF -i "$TMP/great-wall-v1-base.png" -vf \
"drawtext=$LBL:text='Jiayuguan':x=8:y=126,\
drawtext=$LBL:text='Shanhaiguan':x=236:y=48,\
drawtext=$LBL:text='Beijing':x=200:y=88,\
drawtext=fontfile=$FONTB:fontcolor=0x962820:fontsize=13:text='Great Wall (Ming)':x=90:y=112,\
drawtext=$LBL:text='Bohai Sea':x=256:y=140" \
  $BITEXACT -frames:v 1 "$V1/geography-g8-great-wall-map/great-wall.png"

mkdir -p "$V2/geography-g8-great-wall-map"
$FF -i "$TMP/great-wall-v2-base.png" -vf \
"drawtext=$LBL:text='Jiayuguan':x=8:y=126,\
drawtext=$LBL:text='Shanhaiguan':x=236:y=48,\
drawtext=$LBL:text='Beijing':x=200:y=88,\
drawtext=$LBL:fontcolor=0x1e6e28:text='Badaling':x=170:y=44,\
drawtext=fontfile=$FONTB:fontcolor=0x962820:fontsize=13:text='Great Wall (Ming)':x=90:y=112,\
drawtext=$LBL:fontcolor=0x967814:text='Yellow River':x=104:y=150,\
drawtext=$LBL:text='Bohai Sea':x=256:y=140,\
drawtext=$LBL:fontsize=9:text='0     500 km':x=20:y=170" \
  $BITEXACT -frames:v 1 "$V2/geography-g8-great-wall-map/great-wall.png"

# ---------------------------------------------------------------------------
# 5. Audio: espeak-ng Mandarin recitation -> MP3; scale WAV -> Ogg Vorbis
# ---------------------------------------------------------------------------
espeak-ng -v cmn -s 150 -w "$TMP/jingyesi.wav" \
  "静夜思。李白。床前明月光，疑是地上霜。举头望明月，低头思故乡。"
$FF -i "$TMP/jingyesi.wav" -ac 1 -ar 16000 -c:a libmp3lame -b:a 24k $BITEXACT \
  "$V1/chinese-g1-jingyesi-audio/jingyesi.mp3"
$FF -i "$TMP/do-re-mi.wav" -ac 1 -c:a libvorbis -q:a 2 $BITEXACT \
  "$V1/music-g2-do-re-mi/do-re-mi.ogg"

# ---------------------------------------------------------------------------
# 6. Video: 3 s, 160x120, 15 fps, H.264 baseline + AAC, faststart, keyframe/s
# ---------------------------------------------------------------------------
T="fontfile=$FONTB:fontcolor=white:fontsize=13:borderw=1:bordercolor=0x204060"
$FF -f lavfi -i "color=c=0x87c8f0:s=160x120:r=15:d=3" \
    -f lavfi -i "sine=f=392:sample_rate=22050:d=3" -vf \
"drawbox=x=0:y=88:w=160:h=32:color=0x2f6fb0:t=fill,\
drawbox=x=120:y=8:w=24:h=24:color=0xf5c040:t=fill,\
drawtext=fontfile=$FONTB:fontcolor=white:fontsize=14:text='↑  ↑  ↑':x=24:y='74-t*40':enable='lt(t,1)',\
drawbox=x=30:y=14:w=60:h=18:color=white:t=fill:enable='gte(t,1)',\
drawtext=fontfile=$FONTB:fontcolor=0x2f6fb0:fontsize=12:text='/  /  /  /':x=32:y='34+(t-2)*50':enable='gte(t,2)',\
drawtext=$T:text='1 Evaporation':x=6:y=96:enable='lt(t,1)',\
drawtext=$T:text='2 Condensation':x=6:y=96:enable='between(t,1,2)',\
drawtext=$T:text='3 Precipitation':x=6:y=96:enable='gt(t,2)'" \
  -af "volume=0.15,afade=t=in:d=0.2,afade=t=out:st=2.6:d=0.4" \
  -c:v libx264 -profile:v baseline -level 3.0 -pix_fmt yuv420p -preset veryslow -crf 30 \
  -g 15 -keyint_min 15 -x264-params bframes=0 \
  -c:a aac -b:a 24k -ac 1 -t 3 -movflags +faststart $BITEXACT \
  "$V1/science-g5-water-cycle-video/water-cycle.mp4"

# ---------------------------------------------------------------------------
# 7. v2 is a full tree: unchanged binaries are byte-identical copies of v1.
#    (music-g2-do-re-mi is deleted in v2; great-wall.png is replaced above.)
# ---------------------------------------------------------------------------
for f in math-g3-fractions-intro/img/fraction-pie.png \
         math-g8-pythagorean-theorem/pythagorean-theorem.pdf \
         chemistry-g9-composition-of-water/composition-of-water.pdf \
         chinese-g1-jingyesi-audio/jingyesi.mp3 \
         science-g5-water-cycle-video/water-cycle.mp4; do
  mkdir -p "$V2/$(dirname "$f")"
  cp "$V1/$f" "$V2/$f"
done

echo "media written under $V1 and $V2"
