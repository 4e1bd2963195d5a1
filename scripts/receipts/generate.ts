/**
 * Writes the receipt photos the tests read with real OCR (tests/fixtures/receipts/*.png), so the
 * fixtures are reproducible: `node scripts/receipts/generate.ts`. Each receipt is an SVG of
 * monospaced text (DejaVu Sans Mono, as on a till's printout) rasterised by sharp (librsvg),
 * slightly grey on off-white like a scan. The committed PNGs are what the tests use; this script
 * only needs running again when a receipt's text changes.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";

const OUT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../tests/fixtures/receipts",
);

/** Each fixture: its file name and its lines, as printed. */
export const RECEIPTS: Record<string, string[]> = {
  // Two products of the test shop by SKU, one by title only, and a total that adds up.
  "corner-shop.png": [
    "SOUK CORNER SHOP",
    "12 Market Street",
    "2026-11-30 14:05",
    "------------------------------",
    "2 x TEA-100 Green tea     9.00",
    "1 x MUG-200 Clay mug     12.50",
    "3 x Honey jar @ 4.00     12.00",
    "------------------------------",
    "SUBTOTAL                 33.50",
    "TOTAL                    33.50",
    "CARD                     33.50",
    "THANK YOU",
  ],
  // A phone photo's format, a line with the quantity after the description, a line naming no
  // product of the test shop, and a total that disagrees with the lines (a misread to spot).
  "market-stall.jpg": [
    "MARKET STALL 7",
    "Date: 2026-11-28",
    "Green tea 2 x 4.50       9.00",
    "Paper bag                0.20",
    "TOTAL                   10.20",
  ],
};

const FONT_SIZE = 30;
const LINE_HEIGHT = 44;
const MARGIN = 40;

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function svgOf(lines: string[]): string {
  const width = MARGIN * 2 + Math.max(...lines.map((l) => l.length)) * FONT_SIZE * 0.61;
  const height = MARGIN * 2 + lines.length * LINE_HEIGHT;
  const rows = lines
    .map(
      (l, i) =>
        `<text x="${MARGIN}" y="${MARGIN + (i + 1) * LINE_HEIGHT - 12}" xml:space="preserve">${escapeXml(l)}</text>`,
    )
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${height}">` +
    `<rect width="100%" height="100%" fill="#f7f5ef"/>` +
    `<g font-family="DejaVu Sans Mono" font-size="${FONT_SIZE}" fill="#222">${rows}</g></svg>`
  );
}

for (const [name, lines] of Object.entries(RECEIPTS)) {
  const image = sharp(Buffer.from(svgOf(lines))).greyscale();
  const bytes = name.endsWith(".jpg")
    ? await image.jpeg({ quality: 80 }).toBuffer()
    : await image.png({ compressionLevel: 9 }).toBuffer();
  await writeFile(path.join(OUT, name), bytes);
  console.log(`${name}: ${bytes.length} B`);
}
