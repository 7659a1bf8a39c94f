#!/usr/bin/env node
// Open a self-contained HTML drift report in headless Chromium, screenshot it, and print what
// was drawn as JSON on stdout.
//
// Usage: FW_CHROMIUM=/usr/bin/chromium FW_NODE_PATH=<dir>/node_modules \
//          node scripts/browser/screenshot.mjs <report.html> <out.png>
// (scripts/chromium.sh installs both and prints those two variables.)
//
// Every network request other than the page's own file:// URL is aborted and counted: a
// self-contained page makes none.  The JSON holds the plots' sizes and drawn shapes, the
// timeline, blocked requests, console errors, dialogs, and pixel counts read back from the PNG
// (decoded here with node:zlib, independently of the browser).
import { createRequire } from 'node:module';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';

const TIMEOUT_MS = 180_000;

function fail(message) {
  process.stderr.write(`screenshot.mjs: ${message}\n`);
  process.exit(1);
}

// --- PNG decoding (8-bit greyscale/RGB/RGBA, non-interlaced: what Chromium writes) ---------

function decodePng(buf) {
  const sig = '89504e470d0a1a0a';
  if (buf.subarray(0, 8).toString('hex') !== sig) throw new Error('not a PNG');
  let width = 0, height = 0, depth = 0, type = 0, interlace = 0;
  const idat = [];
  for (let off = 8; off < buf.length;) {
    const len = buf.readUInt32BE(off);
    const kind = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (kind === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4);
      depth = data[8]; type = data[9]; interlace = data[12];
    } else if (kind === 'IDAT') idat.push(data);
    else if (kind === 'IEND') break;
    off += 12 + len;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[type];
  if (depth !== 8 || !channels || interlace) {
    throw new Error(`unsupported PNG (depth ${depth}, colour type ${type}, interlace ${interlace})`);
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = px.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? px.subarray((y - 1) * stride, y * stride) : null;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels] : 0;
      const b = prev ? prev[i] : 0;
      const c = prev && i >= channels ? prev[i - channels] : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`bad PNG filter ${filter}`);
      out[i] = (line[i] + pred) & 0xff;
    }
  }
  const rgb = (i) => {
    const o = i * channels;
    return channels < 3 ? [px[o], px[o], px[o]] : [px[o], px[o + 1], px[o + 2]];
  };
  return { width, height, pixels: width * height, rgb };
}

function hexToRgb(hex) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex ?? '');
  return m ? m.slice(1).map((h) => parseInt(h, 16)) : null;
}

// Distinct colours, the most common colour's share, and how many pixels match each wanted colour.
function pixelStats(png, wanted) {
  const counts = new Map();
  const matches = Object.fromEntries(Object.keys(wanted).map((k) => [k, 0]));
  for (let i = 0; i < png.pixels; i++) {
    const [r, g, b] = png.rgb(i);
    const key = (r << 16) | (g << 8) | b;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const [name, want] of Object.entries(wanted)) {
      if (want && Math.abs(r - want[0]) <= 6 && Math.abs(g - want[1]) <= 6 && Math.abs(b - want[2]) <= 6) {
        matches[name]++;
      }
    }
  }
  const dominant = Math.max(0, ...counts.values());
  return {
    width: png.width,
    height: png.height,
    distinct_colours: counts.size,
    dominant_colour_share: png.pixels ? dominant / png.pixels : 1,
    matching_pixels: matches,
  };
}

// --- the page ----------------------------------------------------------------------------

const [htmlArg, pngArg] = process.argv.slice(2);
if (!htmlArg || !pngArg) fail('usage: screenshot.mjs <report.html> <out.png>');
const htmlPath = resolve(htmlArg);
const pngPath = resolve(pngArg);
statSync(htmlPath);
const pageUrl = pathToFileURL(htmlPath).href;
const executablePath = process.env.FW_CHROMIUM || '/usr/bin/chromium';
const nodePath = process.env.FW_NODE_PATH;
const requireFrom = createRequire(nodePath ? join(resolve(nodePath), 'noop.js') : import.meta.url);
let chromium;
try {
  ({ chromium } = requireFrom('playwright-core'));
} catch (e) {
  fail(`cannot load playwright-core (run scripts/chromium.sh and set FW_NODE_PATH): ${e.message}`);
}

const browser = await chromium.launch({
  executablePath,
  timeout: TIMEOUT_MS,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  context.setDefaultTimeout(TIMEOUT_MS);
  const blocked = [];
  const otherRequests = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === pageUrl) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  const consoleErrors = [];
  const dialogs = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => { dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  // A second net: requests the route does not see (other schemes) are still counted.
  page.on('request', (r) => { if (r.url() !== pageUrl) otherRequests.push(r.url()); });

  await page.goto(pageUrl, { waitUntil: 'load' });

  const dom = await page.evaluate(() => {
    const box = (el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      const visible = r.width > 0 && r.height > 0 && s.display !== 'none' &&
        s.visibility !== 'hidden' && Number(s.opacity) > 0;
      return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height, visible };
    };
    const count = (el, sel) => el.querySelectorAll(sel).length;
    const plots = [...document.querySelectorAll('svg.dist-plot')].map((svg) => ({
      column: svg.getAttribute('data-column'),
      ...box(svg),
      rects: count(svg, 'rect'),
      paths: count(svg, 'path'),
      bars_reference: count(svg, 'rect.bar-ref'),
      bars_current: count(svg, 'rect.bar-cur'),
      reference_fill: svg.querySelector('rect.bar-ref')?.getAttribute('fill') ?? null,
      current_fill: svg.querySelector('rect.bar-cur')?.getAttribute('fill') ?? null,
      messages: [...svg.querySelectorAll('text.message')].map((t) => t.textContent),
    }));
    const tl = document.querySelector('svg.timeline-plot');
    const header = document.querySelector('header');
    return {
      title: document.title,
      plots,
      timeline: tl ? { ...box(tl), paths: count(tl, 'path'), points: count(tl, 'circle') } : null,
      header_text: header?.innerText ?? null,
      header_class: header?.className ?? null,
      header_background: header ? getComputedStyle(header).backgroundColor : null,
      table_rows: count(document, '#statistics tbody tr:not(.group)'),
      drifted_rows: [...document.querySelectorAll('#statistics tr.drifted td.name')].map((td) => td.textContent),
      scripts: document.scripts.length,
      page_size: { width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight },
    };
  });

  await page.screenshot({ path: pngPath, fullPage: true });
  const full = decodePng(readFileSync(pngPath));

  // Pixel check on the first plot that draws both series: both colours must show up.
  const index = dom.plots.findIndex((p) => p.bars_reference > 0 && p.bars_current > 0);
  let plotPixels = null;
  const wanted = {
    reference: hexToRgb(index >= 0 ? dom.plots[index].reference_fill : null),
    current: hexToRgb(index >= 0 ? dom.plots[index].current_fill : null),
  };
  if (index >= 0) {
    const shot = await page.locator('svg.dist-plot').nth(index).screenshot();
    plotPixels = { column: dom.plots[index].column, ...pixelStats(decodePng(shot), wanted) };
  }

  const summary = {
    title: dom.title,
    dist_plot_count: dom.plots.length,
    dist_plot_columns: dom.plots.map((p) => p.column),
    dist_plots: dom.plots,
    timeline_present: dom.timeline !== null,
    timeline: dom.timeline,
    header_text: dom.header_text,
    header_class: dom.header_class,
    header_background: dom.header_background,
    table_rows: dom.table_rows,
    drifted_rows: dom.drifted_rows,
    scripts: dom.scripts,
    page_size: dom.page_size,
    blocked_requests: blocked.length,
    blocked_urls: blocked,
    other_requests: otherRequests.length,
    other_request_urls: otherRequests,
    console_errors: consoleErrors,
    dialogs,
    screenshot: {
      path: pngPath,
      bytes: statSync(pngPath).size,
      ...pixelStats(full, wanted),
    },
    plot_pixels: plotPixels,
    chromium: browser.version(),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} finally {
  await browser.close();
}
