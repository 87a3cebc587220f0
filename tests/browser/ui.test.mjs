// Browser test of the Cistern node web UI: playwright-core driving Debian's
// chromium against a running node (`cistern node serve`) that holds the
// samples/v1 content and the two long media fixtures that fixtures.mjs makes
// (fixture-long-video, fixture-long-audio).  The node's base URL comes from
// CISTERN_URL.
//
//   CISTERN_URL=http://127.0.0.1:8080 node --test ui.test.mjs
//
// tests/browser/run.sh builds such a node, starts the server and runs this.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const BASE = (process.env.CISTERN_URL || '').replace(/\/+$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WATER = ['science-g5-water-cycle', 'science-g5-water-cycle-video', 'chemistry-g9-composition-of-water'];
const T = { timeout: 60000 };

if (!BASE) throw new Error('set CISTERN_URL to the node under test, e.g. http://127.0.0.1:8080');
const baseHost = new URL(BASE).hostname;
const LOCAL = new Set(['127.0.0.1', 'localhost', '[::1]', '::1', baseHost]);

let browser;
before(async () => {
  // Playwright gives every launch a fresh, temporary --user-data-dir of its
  // own (and refuses one in args), removed again on close.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => { if (browser) await browser.close(); });

// A fresh context and page that records console errors, page errors,
// every request's URL and every response.
async function open(opts = {}) {
  const ctx = await browser.newContext({
    viewport: opts.viewport || { width: 1280, height: 800 },
    locale: opts.locale || 'zh-CN',
    isMobile: !!opts.mobile, hasTouch: !!opts.mobile,
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  const rec = { errors: [], urls: [], responses: [], dialogs: [], page, ctx };
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Recommendations are optional: the UI asks, and shows nothing on a 404.
    if (/status of 404/.test(m.text()) && /\/api\/v1\/recommendations/.test(m.location().url || '')) return;
    rec.errors.push('console: ' + m.text() + ' [' + (m.location().url || '') + ']');
  });
  page.on('pageerror', (e) => rec.errors.push('pageerror: ' + e.message));
  page.on('request', (r) => rec.urls.push(r.url()));
  page.on('response', (r) => rec.responses.push(r));
  page.on('dialog', (d) => { rec.dialogs.push(d.type() + ': ' + d.message()); d.dismiss().catch(() => {}); });
  return rec;
}
function foreign(urls) {
  return urls.filter((u) => {
    if (/^(data|blob|about):/.test(u)) return false;
    try { return !LOCAL.has(new URL(u).hostname); } catch (e) { return true; }
  });
}
async function resultIds(page) {
  return page.$$eval('#results > li[data-id]', (lis) => lis.map((li) => li.getAttribute('data-id')));
}
async function waitResults(page) {
  await page.waitForFunction(() => document.querySelector('#results').getAttribute('aria-busy') === 'false'
    && (document.querySelectorAll('#results > li').length > 0 || document.querySelector('#summary .empty, #summary .error')));
}
async function api(path) {
  const r = await fetch(BASE + path);
  assert.equal(r.status, 200, path);
  return r.json();
}

// Every network request of a page as the DevTools protocol sees it: the
// bytes on the wire (Network.loadingFinished's encodedDataLength: headers
// plus body as transferred) and the raw response headers.
async function wire(rec) {
  const cdp = await rec.ctx.newCDPSession(rec.page);
  const reqs = new Map(), heads = new Map();
  cdp.on('Network.requestWillBeSent', (e) => { if (!reqs.has(e.requestId)) reqs.set(e.requestId, { url: e.request.url, done: false }); });
  // The extra info may come before the request itself.
  cdp.on('Network.responseReceivedExtraInfo', (e) => heads.set(e.requestId, e.headersText || ''));
  cdp.on('Network.loadingFinished', (e) => { const r = reqs.get(e.requestId); if (r) Object.assign(r, { done: true, bytes: e.encodedDataLength }); });
  cdp.on('Network.loadingFailed', (e) => { const r = reqs.get(e.requestId); if (r) Object.assign(r, { done: true, failed: e.errorText }); });
  await cdp.send('Network.enable');
  return { reqs, heads };
}
// Poll a condition in the test process (generous limit, no timing assertion).
async function until(what, cond, ms = 30000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('gave up waiting for ' + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('first page: loads without errors, only from the node, under 100 KB on the wire', T, async () => {
  const rec = await open();
  const { page } = rec;
  const net = await wire(rec);
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await waitResults(page);
  const all = () => [...net.reqs.entries()].filter(([, r]) => !/^data:/.test(r.url));
  await until('every request of the first page to finish', () => all().every(([, r]) => r.done));
  const list = all();
  assert.ok(list.length >= 3, `only ${list.length} requests seen`);
  assert.deepEqual(list.filter(([, r]) => r.failed).map(([, r]) => `${r.url}: ${r.failed}`), []);
  let total = 0, withHeads = 0;
  for (const [id, r] of list) {
    total += r.bytes;
    const h = net.heads.get(id);
    if (h) {
      // The count includes the response headers.
      assert.ok(r.bytes >= Buffer.byteLength(h), `${r.url}: ${r.bytes} bytes counted, its headers alone are ${Buffer.byteLength(h)}`);
      withHeads++;
    }
  }
  assert.ok(withHeads > 0, 'no raw response headers seen (Network.responseReceivedExtraInfo)');
  // The same loads as playwright saw them: the wire count is more than the bodies.
  let bodies = 0;
  for (const r of rec.responses) { try { bodies += (await r.body()).length; } catch (e) { /* none */ } }
  const encoded = rec.responses.some((r) => r.headers()['content-encoding']);
  if (!encoded) assert.ok(total > bodies, `on the wire ${total} bytes, bodies alone ${bodies}`);
  console.log(`first load: ${total} bytes on the wire (bodies ${bodies}) in ${list.length} requests\n  `
    + list.map(([, r]) => `${r.bytes}\t${r.url}`).join('\n  '));
  assert.ok(total < 100 * 1024, `first load is ${total} bytes on the wire, must be < 100 KB`);
  assert.deepEqual(foreign(rec.urls), [], 'requests to hosts other than the node');
  assert.deepEqual(rec.errors, []);
  // Browse mode: without a query the catalogue is listed.
  const ids = await resultIds(page);
  assert.ok(ids.length >= 10, `browse shows ${ids.length} resources`);
  // The status footer shows the catalogue version and size.
  const status = await api('/api/v1/status');
  const foot = await page.textContent('#status');
  assert.ok(foot.includes(String(status.version)) && foot.includes(String(status.catalog.resources)), foot);
  await rec.ctx.close();
});

test('searching 水 shows the three water resources', T, async () => {
  const rec = await open();
  const { page } = rec;
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await page.fill('#q', '水');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => location.hash.indexOf('q=') >= 0);
  await waitResults(page);
  const ids = await resultIds(page);
  for (const id of WATER) assert.ok(ids.includes(id), `${id} missing from ${ids}`);
  // Titles are shown in Chinese in the Chinese UI.
  const title = await page.textContent('#results a[data-id="science-g5-water-cycle"]');
  assert.match(title, /水循环/);
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(foreign(rec.urls), []);
  await rec.ctx.close();
});

test('typeahead suggests for 勾股 and is keyboard navigable', T, async () => {
  const rec = await open();
  const { page } = rec;
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await page.focus('#q');
  await page.keyboard.type('勾股');
  await page.waitForSelector('#suggest [role="option"]', { state: 'visible' });
  const opts = await page.$$eval('#suggest [role="option"]', (o) => o.map((x) => x.textContent));
  assert.ok(opts.length >= 1 && opts.some((s) => s.includes('勾股')), `suggestions: ${opts}`);
  assert.equal(await page.getAttribute('#q', 'aria-expanded'), 'true');
  // Escape closes, typing reopens, ArrowDown + Enter opens the resource.
  await page.keyboard.press('Escape');
  await page.waitForSelector('#suggest', { state: 'hidden' });
  await page.keyboard.type('定');
  await page.waitForSelector('#suggest [role="option"]', { state: 'visible' });
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.getAttribute('#q', 'aria-activedescendant'), 'sg-0');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash.indexOf('#/r/') === 0);
  await page.waitForSelector('#d-title');
  assert.match(await page.textContent('#d-title'), /勾股/);
  // A click on a suggestion opens it too.
  await page.goto(BASE + '/#/');
  await page.focus('#q');
  await page.keyboard.type('勾股');
  await page.click('#suggest [role="option"] >> nth=0');
  await page.waitForSelector('#d-title');
  assert.match(await page.textContent('#d-title'), /勾股/);
  assert.deepEqual(rec.errors, []);
  await rec.ctx.close();
});

// What each filter must leave, from samples/v1 and the two fixtures that
// run.sh adds (fixtures.mjs: language en, physics, grade 10).
const FILTERS = [
  [{ subject: 'math' }, ['math-g3-fractions-intro', 'math-g3-fractions-quiz', 'math-g8-pythagorean-theorem']],
  [{ grade: '3' }, ['math-g3-fractions-intro', 'math-g3-fractions-quiz']],
  // a resource for grades 5 and 6 is in both
  [{ grade: '6' }, ['science-g5-water-cycle-video']],
  [{ language: 'en' }, ['english-g4-weather-words', 'fixture-long-video', 'fixture-long-audio']],
  [{ type: 'audio' }, ['chinese-g1-jingyesi-audio', 'music-g2-do-re-mi', 'fixture-long-audio']],
  [{ type: 'document' }, ['math-g8-pythagorean-theorem', 'chemistry-g9-composition-of-water']],
  // filters combine
  [{ subject: 'science', grade: '5', type: 'video' }, ['science-g5-water-cycle-video']],
  [{ language: 'en', type: 'video' }, ['fixture-long-video']],
];

test('each filter (subject, grade, language, type) narrows the results to the right resources', T, async () => {
  const rec = await open();
  const { page } = rec;
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await waitResults(page);
  const all = (await api('/api/v1/catalog?limit=100')).total;
  assert.ok(all > 3 && all <= 20, `the samples fit one page: ${all}`);
  for (const [filter, expect] of FILTERS) {
    const what = JSON.stringify(filter);
    if (await page.isVisible('#clear')) await page.click('#clear');
    await page.waitForFunction((n) => document.querySelector('#results').getAttribute('aria-busy') === 'false'
      && document.querySelectorAll('#results > li[data-id]').length === n, all);
    for (const [key, value] of Object.entries(filter)) {
      const opts = await page.$$eval(`#f-${key} option`, (o) => o.map((x) => x.value));
      assert.ok(opts.includes(value), `${key} options: ${opts}`);
      await page.selectOption(`#f-${key}`, value);
      await page.waitForFunction(([k, v]) => new RegExp('[?&]' + k + '=' + v + '(&|$)').test(location.hash), [key, value]);
    }
    await page.waitForFunction((n) => document.querySelector('#results').getAttribute('aria-busy') === 'false'
      && document.querySelectorAll('#results > li[data-id]').length === n, expect.length)
      .catch(async () => assert.fail(`${what}: the list shows [${await resultIds(page)}], expected [${expect}]`));
    const ids = (await resultIds(page)).sort();
    assert.deepEqual(ids, expect.slice().sort(), what);
    // The node's API gives the same answer for the same filter.
    const q = new URLSearchParams({ ...filter, limit: '100' }).toString();
    const want = (await api('/api/v1/catalog?' + q)).results.map((r) => r.id).sort();
    assert.deepEqual(ids, want, `${what}: UI and /api/v1/catalog?${q} differ`);
    // The selects show the filter.
    for (const [key, value] of Object.entries(filter)) assert.equal(await page.inputValue(`#f-${key}`), value);
  }
  // Clearing the filters brings everything back.
  await page.click('#clear');
  await page.waitForFunction((n) => document.querySelectorAll('#results > li[data-id]').length === n, all);
  for (const key of ['subject', 'grade', 'language', 'type']) assert.equal(await page.inputValue(`#f-${key}`), '');
  assert.deepEqual(rec.errors, []);
  await rec.ctx.close();
});

test('the sample video plays from the node and can seek', T, async () => {
  const rec = await open();
  const { page } = rec;
  await page.goto(BASE + '/#/r/science-g5-water-cycle-video', { waitUntil: 'networkidle' });
  await page.waitForSelector('video');
  assert.equal(await page.getAttribute('video', 'preload'), 'metadata');
  const r = await page.evaluate(() => new Promise((resolve, reject) => {
    const v = document.querySelector('video');
    const fail = setTimeout(() => reject(new Error('no seek: readyState ' + v.readyState + ' error ' + (v.error && v.error.code))), 10000);
    const seek = () => {
      v.addEventListener('seeked', () => { clearTimeout(fail); resolve({ t: v.currentTime, rs: v.readyState, d: v.duration }); }, { once: true });
      v.currentTime = 2;
    };
    if (v.readyState >= 1) seek(); else v.addEventListener('loadedmetadata', seek, { once: true });
  }));
  assert.ok(Math.abs(r.t - 2) < 0.5, `currentTime ${r.t} after seeking to 2 (duration ${r.d})`);
  await page.waitForFunction(() => document.querySelector('video').readyState >= 2);
  const media = rec.responses.filter((x) => /\.mp4(\?|$)/.test(x.url()));
  assert.ok(media.some((x) => x.status() === 206), 'the video was not fetched with a Range request (206)');
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(foreign(rec.urls), []);
  await rec.ctx.close();
});

// The long media that run.sh publishes next to the samples (fixtures.mjs).
// They are much larger than what Chromium reads for preload=metadata, so a
// seek near the end can only be served by a new Range request that starts
// far past byte 0.
async function seekFar(id, sel) {
  const rec = await open({ locale: 'en-US' });
  const { page } = rec;
  const info = await api('/api/v1/resources/' + id);
  const file = info.files.find((f) => f.path === info.resource.entry);
  assert.ok(file && file.size > 3 * 1024 * 1024, `${id}: the fixture should be a few MB: ${JSON.stringify(file)}`);
  const path = new URL(file.url, BASE).pathname;
  // Each request for the file, and whether the seek had been asked for.
  const reqs = [];
  let seekAsked = false;
  page.on('request', (r) => { if (new URL(r.url()).pathname === path) reqs.push({ r, afterSeek: seekAsked }); });
  const describe = async () => Promise.all(reqs.map(async (e) => {
    const res = await e.r.response();
    return { range: await e.r.headerValue('range'), afterSeek: e.afterSeek, status: res && res.status(), contentRange: res && await res.headerValue('content-range') };
  }));
  await page.goto(BASE + '/#/r/' + id);
  await page.waitForSelector(sel);
  assert.equal(await page.getAttribute(sel, 'preload'), 'metadata');
  await page.waitForFunction((s) => document.querySelector(s).readyState >= 1, sel);
  const duration = await page.$eval(sel, (v) => v.duration);
  assert.ok(duration > 120, `${id}: duration ${duration} s`);
  const target = Math.floor(duration * 0.93);
  assert.ok(reqs.length >= 1, 'no request for the file before seeking');
  seekAsked = true;
  const seeked = page.$eval(sel, (v, t) => new Promise((resolve) => {
    v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
    v.currentTime = t;
  }), target);
  const t = await seeked;
  assert.ok(Math.abs(t - target) < 1, `currentTime ${t} after seeking to ${target}`);
  await page.waitForFunction((s) => document.querySelector(s).readyState >= 2, sel, { timeout: 30000 });
  const st = await page.$eval(sel, (v) => ({
    t: v.currentTime, error: v.error && v.error.code,
    buffered: Array.from({ length: v.buffered.length }, (_, i) => [v.buffered.start(i), v.buffered.end(i)]),
  }));
  assert.equal(st.error, null);
  assert.ok(Math.abs(st.t - target) < 1, `currentTime ${st.t}, sought ${target}`);
  assert.ok(st.buffered.some(([a, b]) => a <= target + 0.5 && b > target), `${target} s not buffered: ${JSON.stringify(st.buffered)}`);
  // After the seek, the page asked for a range that starts in the second
  // half of the file, and the node answered 206 with that range.
  const startOf = (range) => { const m = /^bytes=(\d+)-/.exec(range || ''); return m ? Number(m[1]) : -1; };
  let far;
  await until(`a Range request past the middle of ${path}`, async () => {
    far = (await describe()).find((e) => e.afterSeek && startOf(e.range) > file.size / 2);
    return far;
  }).catch(async () => assert.fail(`no Range request past byte ${file.size / 2} after the seek: ${JSON.stringify(await describe())}`));
  assert.equal(far.status, 206, JSON.stringify(far));
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(far.contentRange || '');
  assert.ok(m, `Content-Range: ${far.contentRange}`);
  assert.equal(Number(m[1]), startOf(far.range));
  assert.equal(Number(m[3]), file.size);
  console.log(`${id}: seek to ${target} s of ${duration}: ${JSON.stringify(await describe())}`);
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(foreign(rec.urls), []);
  await rec.ctx.close();
}

test('a long video seeks near its end with a Range request past byte 0', T, async () => {
  await seekFar('fixture-long-video', 'video');
});

test('a long audio file seeks near its end with a Range request past byte 0', T, async () => {
  await seekFar('fixture-long-audio', 'audio');
});

// The UI's language as a page shows it: <html lang>, the pressed switch,
// a button, a filter label and a resource title.
async function uiLang(page) {
  await waitResults(page);
  return {
    html: await page.getAttribute('html', 'lang'),
    pressed: await page.getAttribute('#lang button[aria-pressed="true"]', 'data-lang'),
    go: (await page.textContent('#go')).trim(),
    label: (await page.textContent('label[for="f-subject"]')).trim(),
    title: (await page.textContent('#results a[data-id="science-g5-water-cycle"]')).trim(),
  };
}
const ZH_UI = { html: 'zh-CN', pressed: 'zh', go: '搜索', label: '学科', title: /水循环/ };
const EN_UI = { html: 'en', pressed: 'en', go: 'Search', label: 'Subject', title: /Water Cycle/ };
function isLang(got, want, what) {
  for (const k of Object.keys(want)) {
    if (want[k] instanceof RegExp) assert.match(got[k], want[k], `${what}: ${k}`);
    else assert.equal(got[k], want[k], `${what}: ${k} (${JSON.stringify(got)})`);
  }
}

test('the language follows Accept-Language on first load; the switch changes it and is remembered', T, async () => {
  for (const [locale, first, other, otherLang] of [['zh-CN', ZH_UI, EN_UI, 'en'], ['en-US', EN_UI, ZH_UI, 'zh']]) {
    const rec = await open({ locale });
    const { page } = rec;
    const doc = page.waitForRequest((r) => r.url() === BASE + '/');
    await page.goto(BASE + '/', { waitUntil: 'networkidle' });
    // The browser really asked in that language.
    const al = await (await doc).headerValue('accept-language');
    assert.match(al || '', new RegExp('^' + locale.split('-')[0]), `Accept-Language: ${al}`);
    isLang(await uiLang(page), first, `${locale} first load`);
    // Switch.
    await page.click(`#lang button[data-lang="${otherLang}"]`);
    isLang(await uiLang(page), other, `${locale} after switching to ${otherLang}`);
    // Remembered across a reload, although the browser still asks for `locale` ...
    const again = page.waitForRequest((r) => r.url() === BASE + '/');
    await page.reload({ waitUntil: 'networkidle' });
    assert.match((await (await again).headerValue('accept-language')) || '', new RegExp('^' + locale.split('-')[0]));
    isLang(await uiLang(page), other, `${locale} after switching to ${otherLang} and reloading`);
    // ... and in another tab of the same browser.
    const p2 = await rec.ctx.newPage();
    await p2.goto(BASE + '/', { waitUntil: 'networkidle' });
    isLang(await uiLang(p2), other, `${locale}: a new tab after switching to ${otherLang}`);
    await p2.close();
    // Switching back is remembered too.
    await page.click(`#lang button[data-lang="${first.pressed}"]`);
    isLang(await uiLang(page), first, `${locale} after switching back`);
    await page.reload({ waitUntil: 'networkidle' });
    isLang(await uiLang(page), first, `${locale} after switching back and reloading`);
    assert.deepEqual(rec.errors, []);
    await rec.ctx.close();
  }
});

test('a PDF is shown inline: the frame points at the file and the node serves it', T, async () => {
  const rec = await open({ locale: 'en-US' });
  const { page } = rec;
  for (const id of ['math-g8-pythagorean-theorem', 'chemistry-g9-composition-of-water']) {
    const info = await api('/api/v1/resources/' + id);
    const file = info.files.find((f) => f.path === info.resource.entry);
    assert.equal(file.mime, 'application/pdf');
    const path = new URL(file.url, BASE).pathname;
    const fetched = page.waitForResponse((r) => new URL(r.url()).pathname === path);
    await page.goto(BASE + '/#/r/' + id);
    await page.waitForSelector('#d-title');
    assert.equal(await page.evaluate(() => navigator.pdfViewerEnabled), true, 'this chromium has no PDF viewer');
    const frame = await page.waitForSelector('.preview iframe');
    const src = await frame.getAttribute('src');
    assert.equal(new URL(src, BASE).pathname, path, `the viewer shows ${src}`);
    const res = await fetched;
    assert.ok([200, 206].includes(res.status()), `${path} -> ${res.status()}`);
    assert.match(res.headers()['content-type'], /^application\/pdf/);
    // What the frame holds is that file, from the node.
    const f = await frame.contentFrame();
    await until(`the frame to navigate to ${path}`, () => f.url() !== 'about:blank');
    assert.equal(new URL(f.url()).pathname, path);
    // The download and "open file" links point at the same file.
    assert.equal(new URL(await page.getAttribute('.preview a[download]', 'href'), BASE).pathname, path);
    assert.equal(new URL(await page.getAttribute('.preview a[target="_blank"]', 'href'), BASE).pathname, path);
    // All of it (the body playwright sees is the PDF viewer's wrapper, not
    // the file, so the headers tell).
    const h = await res.allHeaders();
    if (res.status() === 200) assert.equal(Number(h['content-length']), file.size, JSON.stringify(h));
    else assert.match(h['content-range'] || '', new RegExp('/' + file.size + '$'));
  }
  assert.deepEqual(rec.errors, []);
  // The viewer's own pages are chrome:// and chrome-extension:// (inside the
  // browser); nothing went to another host.
  assert.deepEqual(foreign(rec.urls.filter((u) => !/^chrome(-extension)?:/.test(u))), []);
  await rec.ctx.close();
});

test('an HTML lesson opens in a sandboxed iframe without allow-same-origin', T, async () => {
  const rec = await open();
  const { page } = rec;
  await page.goto(BASE + '/#/r/science-g5-water-cycle', { waitUntil: 'networkidle' });
  const frame = await page.waitForSelector('iframe');
  const sandbox = await frame.getAttribute('sandbox');
  assert.notEqual(sandbox, null, 'iframe has no sandbox attribute');
  assert.ok(sandbox.split(/\s+/).includes('allow-scripts'), sandbox);
  assert.ok(!/allow-same-origin/.test(sandbox), `sandbox must not allow same origin: ${sandbox}`);
  assert.match(await frame.getAttribute('src'), /^\/r\/science-g5-water-cycle\//);
  // The lesson really loads, in an opaque origin.
  const f = await frame.contentFrame();
  await f.waitForLoadState();
  await f.waitForFunction(() => document.body && /水/.test(document.body.textContent));
  assert.equal(await f.evaluate(() => window.origin), 'null');
  const full = await page.getAttribute('.preview a[target="_blank"]', 'href');
  assert.match(full, /^\/r\/science-g5-water-cycle\//);
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(foreign(rec.urls), []);
  await rec.ctx.close();
});

test('at 360 px there is no horizontal scrolling', T, async () => {
  const rec = await open({ viewport: { width: 360, height: 740 }, mobile: true });
  const { page } = rec;
  const width = () => page.evaluate(() => document.documentElement.scrollWidth);
  for (const hash of ['#/', '#/?q=' + encodeURIComponent('水'), '#/r/science-g5-water-cycle-video',
    '#/r/science-g5-water-cycle', '#/r/math-g8-pythagorean-theorem', '#/r/english-g4-weather-words']) {
    await page.goto(BASE + '/' + hash, { waitUntil: 'networkidle' });
    await page.waitForSelector(hash.startsWith('#/r/') ? '#d-title' : '#results > li');
    assert.ok(await width() <= 360, `${hash}: scrollWidth ${await width()}`);
  }
  assert.deepEqual(rec.errors, []);
  await rec.ctx.close();
});

test('resource pages show metadata, prerequisites and files', T, async () => {
  const rec = await open({ locale: 'en-US' });
  const { page } = rec;
  await page.goto(BASE + '/#/r/math-g3-fractions-quiz', { waitUntil: 'networkidle' });
  await page.waitForSelector('#d-title');
  assert.match(await page.textContent('#d-title'), /Fractions Quiz/);
  const meta = await page.textContent('.meta');
  for (const s of ['Maths', 'Grade 3', 'CC0-1.0', 'Unit 8', 'math-g3-fractions-quiz']) assert.ok(meta.includes(s), `${s} not in ${meta}`);
  assert.equal(await page.getAttribute('.plist a', 'href'), '#/r/math-g3-fractions-intro');
  assert.match(await page.textContent('.flist'), /index\.html/);
  await page.click('.plist a');
  await page.waitForFunction(() => /Introduction to Fractions/.test(document.querySelector('#d-title') && document.querySelector('#d-title').textContent));
  // Audio, image and PDF get their own previews.
  await page.goto(BASE + '/#/r/chinese-g1-jingyesi-audio', { waitUntil: 'networkidle' });
  await page.waitForSelector('audio[controls]');
  await page.goto(BASE + '/#/r/geography-g8-great-wall-map', { waitUntil: 'networkidle' });
  await page.waitForFunction(() => { const i = document.querySelector('.preview img'); return i && i.complete && i.naturalWidth > 0; });
  await page.goto(BASE + '/#/r/math-g8-pythagorean-theorem', { waitUntil: 'networkidle' });
  await page.waitForSelector('.preview a[download]');
  assert.deepEqual(rec.errors, []);
  await rec.ctx.close();
});

test('a resource that is listed but not cached says so and shows no preview', T, async () => {
  const rec = await open();
  const { page } = rec;
  // Make the node's answer say "not cached" (the samples are all cached).
  await page.route('**/api/v1/resources/science-g5-water-cycle-video', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    body.cached = false;
    await route.fulfill({ response: res, json: body });
  });
  await page.goto(BASE + '/#/r/science-g5-water-cycle-video', { waitUntil: 'networkidle' });
  await page.waitForSelector('#d-title');
  assert.match(await page.textContent('.notice'), /尚未缓存/);
  assert.equal(await page.$('video'), null);
  assert.equal(await page.$('iframe'), null);
  assert.deepEqual(rec.errors, []);
  await rec.ctx.close();
});

test('API errors show a message; catalogue text is never parsed as HTML', T, async () => {
  const rec = await open();
  const { page } = rec;
  await page.route('**/api/v1/catalog**', (route) => route.fulfill({
    status: 503, contentType: 'application/json', body: '{"error":"unavailable","message":"try later"}' }));
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await page.waitForSelector('#summary .error[role="alert"]');
  await page.unroute('**/api/v1/catalog**');
  // Hostile catalogue text must come out as text.
  await page.route('**/api/v1/catalog**', (route) => route.fulfill({
    status: 200, contentType: 'application/json',
    body: JSON.stringify({ total: 1, offset: 0, limit: 20, results: [{ id: 'x-evil', title: { zh: '<img src=x onerror="window.__pwned=1">坏' },
      description: { zh: '<b>粗</b>' }, type: 'html', subject: 'math', grades: [3], language: 'zh', cached: false, url: '/r/x-evil/' }] }),
  }));
  await page.click('#summary .error button');
  await page.waitForSelector('#results > li[data-id="x-evil"]');
  assert.equal(await page.$('#results img'), null);
  assert.equal(await page.$('#results .r-desc b'), null);
  assert.match(await page.textContent('#results a[data-id="x-evil"]'), /<img src=x/);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  // Listed-but-not-cached is said plainly in the list, and the item is still a link.
  assert.match(await page.textContent('#results li[data-id="x-evil"]'), /未缓存/);
  const errs = rec.errors.filter((e) => !/status of 503/.test(e));
  assert.deepEqual(errs, []);
  await rec.ctx.close();
});

// ---------------------------------------------------------------------------
// Accounts: staff sign-in, classes, lessons, a student joining with a picture
// password, consent and the class report.  run.sh makes the staff accounts
// with `cistern node user add` and passes their names and passwords here.
const STAFF = {
  admin: { name: process.env.CISTERN_ADMIN_NAME, password: process.env.CISTERN_ADMIN_PASSWORD },
  teacher: { name: process.env.CISTERN_TEACHER_NAME, password: process.env.CISTERN_TEACHER_PASSWORD },
};
const NO_ACCOUNTS = !STAFF.teacher.name || !STAFF.admin.name
  ? 'no staff accounts (set CISTERN_TEACHER_NAME/PASSWORD and CISTERN_ADMIN_NAME/PASSWORD; run.sh does)' : false;
const TA = { timeout: 180000, skip: NO_ACCOUNTS };
const EVIL = '<img src=x onerror=alert(1)>';
const LESSON_RES = 'science-g5-water-cycle';

// Fail on any request the node answered with an error, apart from those a
// step expects.
function apiErrors(rec, allow = () => false) {
  return rec.responses.filter((r) => r.status() >= 400 && !allow(r)
    && !(r.status() === 404 && /\/api\/v1\/recommendations/.test(r.url())))
    .map((r) => `${r.request().method()} ${r.url()} -> ${r.status()}`);
}
async function signInStaff(page, who) {
  await page.click('#signin-link');
  await page.waitForSelector('#tab-staff');
  await page.click('#tab-staff');
  await page.fill('#t-name', who.name);
  await page.fill('#t-pass', who.password);
  await page.click('#staff-form button[type="submit"]');
  await page.waitForSelector('#signout');
}
// Nothing the users typed may have become markup, and no dialog opened.
async function noInjection(rec) {
  const { page } = rec;
  assert.equal(await page.$$eval('main img, header img', (xs) => xs.filter((x) => x.getAttribute('src') === 'x').length), 0, 'an <img> was created from user text');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(rec.dialogs, [], 'a dialog was opened');
}
function waitApi(page, method, re, status) {
  return page.waitForResponse((r) => r.request().method() === method && re.test(new URL(r.url()).pathname)
    && (status === undefined || r.status() === status));
}

let classCode = null, className = null;
const studentName = EVIL + ' 小明';
const PICS = ['cat', 'sun', 'boat'];

test('accounts: a teacher signs in, makes a class and a lesson; a student joins and sees it; consent and the report', TA, async () => {
  const teacher = await open({ locale: 'en-US' });
  const tp = teacher.page;
  await tp.goto(BASE + '/', { waitUntil: 'networkidle' });
  assert.equal((await tp.textContent('#signin-link')).trim(), 'Sign in');

  // A wrong password says so plainly (one failure only: the node limits them per address).
  await tp.click('#signin-link');
  await tp.click('#tab-staff');
  await tp.fill('#t-name', STAFF.teacher.name);
  await tp.fill('#t-pass', 'not the password');
  await tp.click('#staff-form button[type="submit"]');
  await tp.waitForSelector('#staff-msg .notice');
  assert.match(await tp.textContent('#staff-msg'), /name or password is wrong/);
  teacher.errors = teacher.errors.filter((e) => !/status of 401/.test(e));
  await tp.fill('#t-pass', STAFF.teacher.password);
  await tp.click('#staff-form button[type="submit"]');
  await tp.waitForFunction(() => location.hash === '#/classes');
  await tp.waitForSelector('#signout');
  assert.equal(await tp.textContent('#who .who-name'), STAFF.teacher.name);
  assert.match(await tp.textContent('#who .who-role'), /Teacher/);
  assert.ok(await tp.isVisible('#nav a[href="#/classes"]'));
  assert.equal(await tp.$('#nav a[href="#/admin"]'), null, 'a teacher is not offered the admin page');

  // A class whose name is markup.
  className = EVIL + ' 5A';
  await tp.fill('#new-class-name', className);
  const made = waitApi(tp, 'POST', /^\/api\/v1\/classes$/, 201);
  await tp.click('#class-form button[type="submit"]');
  const created = await (await made).json();
  await tp.waitForSelector(`tr[data-class-id="${created.id}"]`);
  const row = `tr[data-class-id="${created.id}"]`;
  assert.equal(await tp.textContent(`${row} a.class-link`), className);
  classCode = (await tp.textContent(`${row} code.class-code`)).trim();
  assert.equal(classCode, created.code);
  assert.ok(classCode.length >= 4, `class code ${classCode}`);
  await noInjection(teacher);

  // Its page; a lesson with one resource, built by searching, ordering and removing.
  await tp.click(`${row} a.class-link`);
  await tp.waitForSelector('#class-code');
  assert.equal((await tp.textContent('#class-code')).trim(), classCode);
  assert.equal(await tp.textContent('#page h1'), className);
  await tp.waitForSelector('#sec-students .empty');
  await tp.click('#new-lesson');
  await tp.fill('#l-title', 'Water week');
  await tp.fill('#l-q', '水');
  await tp.press('#l-q', 'Enter');
  await tp.click(`#l-results button[data-add="${LESSON_RES}"]`);
  await tp.click('#l-results button[data-add="science-g5-water-cycle-video"]');
  const order = () => tp.$$eval('#l-chosen li[data-id]', (xs) => xs.map((x) => x.getAttribute('data-id')));
  assert.deepEqual(await order(), [LESSON_RES, 'science-g5-water-cycle-video']);
  await tp.click('#l-chosen li[data-id="science-g5-water-cycle-video"] button[data-act="up"]');
  assert.deepEqual(await order(), ['science-g5-water-cycle-video', LESSON_RES]);
  await tp.click('#l-chosen li[data-id="science-g5-water-cycle-video"] button[data-act="remove"]');
  assert.deepEqual(await order(), [LESSON_RES]);
  const saved = waitApi(tp, 'POST', /^\/api\/v1\/classes\/[^/]+\/lessons$/, 201);
  await tp.click('#l-save');
  await saved;
  await tp.waitForSelector('#lesson-list li[data-lesson]');
  assert.match(await tp.textContent('#lesson-list'), /Water week/);
  assert.ok(await tp.$(`#lesson-list a[href="#/r/${LESSON_RES}"]`));

  // A student joins with the code and a picture password, in another browser.
  const student = await open({ locale: 'zh-CN', viewport: { width: 360, height: 740 }, mobile: true });
  const sp = student.page;
  await sp.goto(BASE + '/', { waitUntil: 'networkidle' });
  await sp.click('#signin-link');
  await sp.click('#join-link');
  await sp.waitForSelector('#join-form');
  await sp.fill('#j-code', classCode);
  await sp.fill('#j-name', studentName);
  for (const p of PICS) await sp.click(`#join-pics button[data-pic="${p}"]`);
  assert.match(await sp.textContent('#join-picked'), /猫.*太阳.*船/);
  const joined = waitApi(sp, 'POST', /^\/api\/v1\/join$/);
  await sp.click('#join-form button[type="submit"]');
  const jr = await joined;
  assert.equal(jr.status(), 201);
  assert.equal(JSON.parse(jr.request().postData()).password, PICS.join('-'));
  await sp.waitForSelector('#mine .lesson-card');
  assert.equal(await sp.textContent('#who .who-name'), studentName);
  assert.match(await sp.textContent('#mine'), /Water week/);
  assert.ok(await sp.evaluate(() => document.documentElement.scrollWidth <= 360), 'horizontal scrolling at 360 px');
  await noInjection(student);

  // It opens the lesson's resource (no consent yet: the node records nothing).
  let ev = waitApi(sp, 'POST', /^\/api\/v1\/events$/);
  await sp.click(`#mine a[href="#/r/${LESSON_RES}"]`);
  await sp.waitForSelector('#d-title');
  let evr = await ev;
  assert.equal(evr.status(), 202);
  assert.deepEqual(JSON.parse(evr.request().postData()), { resource: LESSON_RES, kind: 'open' });
  assert.equal((await evr.json()).recorded, false);

  // The teacher sees the student, by name as plain text, and gives consent.
  await tp.reload({ waitUntil: 'networkidle' });
  await tp.waitForSelector('#students tr[data-student-id]');
  assert.equal(await tp.textContent('#students .s-name'), studentName);
  await noInjection(teacher);
  const consentBox = '#students input.consent';
  assert.equal(await tp.isChecked(consentBox), false);
  const put = waitApi(tp, 'PUT', /^\/api\/v1\/students\/[^/]+\/consent$/, 200);
  await tp.click(consentBox);
  assert.deepEqual(JSON.parse((await put).request().postData()), { consent: true });
  assert.equal(await tp.isChecked(consentBox), true);

  // The student signs out and in again with the pictures, opens the resource and marks it done.
  await sp.goto(BASE + '/#/');
  await sp.click('#signout');
  await sp.waitForSelector('#signin-link');
  await sp.click('#signin-link');
  await sp.waitForSelector('#student-form');
  assert.equal(await sp.inputValue('#s-code'), classCode, 'the class code is remembered on this device');
  await sp.fill('#s-name', studentName);
  await sp.click('#signin-kind-pictures');
  for (const p of PICS) await sp.click(`#signin-pics button[data-pic="${p}"]`);
  await sp.click('#student-form button[type="submit"]');
  await sp.waitForSelector('#mine .lesson-card');
  ev = waitApi(sp, 'POST', /^\/api\/v1\/events$/);
  await sp.click(`#mine a[href="#/r/${LESSON_RES}"]`);
  evr = await ev;
  assert.equal((await evr.json()).recorded, true, 'with consent, opening is recorded');
  ev = waitApi(sp, 'POST', /^\/api\/v1\/events$/);
  await sp.click('#mark-done');
  evr = await ev;
  assert.deepEqual(JSON.parse(evr.request().postData()), { resource: LESSON_RES, kind: 'complete' });
  assert.equal(await sp.isDisabled('#mark-done'), true);

  // The teacher's report: counts, not names.
  await tp.click('#report-refresh');
  await tp.waitForSelector(`#report tr[data-id="${LESSON_RES}"]`);
  const cells = await tp.$$eval(`#report tr[data-id="${LESSON_RES}"] td`, (xs) => xs.map((x) => x.textContent.trim()));
  assert.deepEqual(cells, ['1', '1']);
  assert.match(await tp.textContent('#report-note'), /counts only.*\(1 of 1\)/);
  assert.ok(!(await tp.textContent('#sec-report')).includes('小明'), 'the report names a student');
  // What next for each student: the class view of the recommender (the
  // student's name shown as text, each suggestion with a reason).
  await tp.reload();
  await tp.waitForSelector('#sec-next h2');
  const nextText = await tp.textContent('#sec-next');
  assert.match(nextText, /What next for each student|每位学生的下一步/);

  // Teacher tools on a resource page: a download request for what is not
  // cached (the node's answer is changed to say so; it is cached: 200) ...
  await tp.route('**/api/v1/resources/science-g5-water-cycle-video', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    body.cached = false;
    await route.fulfill({ response: res, json: body });
  });
  await tp.goto(BASE + '/#/r/science-g5-water-cycle-video');
  await tp.waitForSelector('#request-dl');
  const rq = waitApi(tp, 'POST', /^\/api\/v1\/requests$/);
  await tp.click('#request-dl');
  const rqr = await rq;
  assert.deepEqual(JSON.parse(rqr.request().postData()), { resource: 'science-g5-water-cycle-video' });
  assert.ok([200, 202].includes(rqr.status()), `POST /api/v1/requests -> ${rqr.status()}`);
  await tp.waitForSelector('#tools-msg .notice');
  assert.match(await tp.textContent('#tools-msg'), rqr.status() === 200 ? /already cached/ : /Requested/);
  // ... and a rating with a report.
  await tp.goto(BASE + '/#/r/' + LESSON_RES);
  await tp.waitForSelector('#rate-toggle');
  await tp.click('#rate-toggle');
  await tp.click('label[for="rate-4"]');
  await tp.selectOption('#rate-kind', 'wrong-grade');
  await tp.fill('#rate-comment', EVIL);
  const fb = waitApi(tp, 'POST', /^\/api\/v1\/feedback$/);
  await tp.click('#rate-form button[type="submit"]');
  const fbr = await fb;
  assert.equal(fbr.status(), 201);
  assert.deepEqual(JSON.parse(fbr.request().postData()), { resource: LESSON_RES, rating: 4, report: 'wrong-grade', comment: EVIL });
  await tp.waitForSelector('#tools-msg .notice');

  // Every state-changing request carried the CSRF token.
  for (const rec of [teacher, student]) {
    for (const r of rec.responses) {
      const q = r.request();
      if (q.method() === 'GET' || !/\/api\/v1\//.test(q.url()) || /\/(login|join)$/.test(q.url())) continue;
      if (/\/api\/v1\/events$/.test(q.url()) && !(await q.allHeaders())['cookie']) continue;
      assert.ok((await q.allHeaders())['x-csrf-token'], `${q.method()} ${q.url()} without X-CSRF-Token`);
    }
    await noInjection(rec);
    assert.deepEqual(rec.errors, []);
    assert.deepEqual(apiErrors(rec, (r) => r.status() === 401 && /\/login$/.test(r.url())), []);
    assert.deepEqual(foreign(rec.urls), []);
  }
  await student.ctx.close();
  await teacher.ctx.close();
});

test('accounts: the admin manages users and settings; signed out, the page asks to sign in', TA, async () => {
  const rec = await open({ locale: 'en-US' });
  const { page } = rec;
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await signInStaff(page, STAFF.admin);
  await page.click('#nav a[href="#/admin"]');
  await page.waitForSelector('#users tr[data-user-id]');
  const names = await page.$$eval('#users .u-name', (xs) => xs.map((x) => x.firstChild.textContent));
  assert.ok(names.includes(STAFF.teacher.name) && names.includes(STAFF.admin.name), `users: ${names}`);
  // Add a teacher whose name is markup, then remove it.
  const added = waitApi(page, 'POST', /^\/api\/v1\/users$/, 201);
  await page.fill('#nu-name', EVIL);
  await page.fill('#nu-pass', 'long enough 123');
  await page.selectOption('#nu-role', 'teacher');
  await page.click('#adduser-form button[type="submit"]');
  const id = (await (await added).json()).id;
  await page.waitForSelector(`#users tr[data-user-id="${id}"]`);
  assert.equal(await page.$eval(`#users tr[data-user-id="${id}"] .u-name`, (x) => x.firstChild.textContent), EVIL);
  await noInjection(rec);
  await page.click(`#users tr[data-user-id="${id}"] button.danger-out`);
  const del = waitApi(page, 'DELETE', /^\/api\/v1\/users\/[^/]+$/, 204);
  await page.click(`#users tr[data-user-id="${id}"] .confirm button.danger`);
  await del;
  await page.waitForSelector(`#users tr[data-user-id="${id}"]`, { state: 'detached' });
  // Settings: shown, and a change is saved.
  await page.waitForSelector('#settings-form input');
  const field = '#set-privacy-retention_days';
  if (await page.$(field)) {
    await page.fill(field, '300');
    const put = waitApi(page, 'PUT', /^\/api\/v1\/settings$/);
    await page.click('#settings-form button[type="submit"]');
    const pr = await put;
    assert.equal(pr.status(), 200, await pr.text());
    assert.deepEqual(JSON.parse(pr.request().postData()), { 'privacy.retention_days': '300' });
    await page.waitForFunction((f) => document.querySelector(f) && document.querySelector(f).value === '300', field);
  }
  // Sign out: the header offers sign-in again and the admin page asks for it.
  await page.click('#signout');
  await page.waitForSelector('#signin-link');
  await page.goto(BASE + '/#/admin');
  await page.waitForSelector('#page a[href^="#/signin"]');
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(apiErrors(rec), []);
  await rec.ctx.close();
});

test('accounts: a teacher uploads a local resource', TA, async () => {
  const rec = await open({ locale: 'en-US' });
  const { page } = rec;
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await signInStaff(page, STAFF.teacher);
  await page.click('#nav a[href="#/upload"]');
  await page.waitForSelector('#upload-form');
  await page.fill('#u-title', 'Our school garden');
  await page.fill('#u-desc', EVIL);
  await page.selectOption('#u-subject', 'science');
  await page.check('#u-g4');
  await page.check('#u-g5');
  await page.setInputFiles('#u-files', [
    { name: 'index.html', mimeType: 'text/html', buffer: Buffer.from('<!doctype html><meta charset=utf-8><title>Garden</title><h1>花园</h1>') },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('plants') },
  ]);
  assert.equal(await page.inputValue('#u-entry'), 'index.html');
  assert.equal(await page.inputValue('#u-type'), 'html');
  await page.check('#u-forward');
  const up = waitApi(page, 'POST', /^\/api\/v1\/local$/);
  await page.click('#u-submit');
  const ur = await up;
  assert.equal(ur.status(), 201, await ur.text());
  const sent = JSON.parse(ur.request().postData());
  assert.equal(sent.title, 'Our school garden');
  assert.deepEqual(sent.grades, [4, 5]);
  assert.equal(sent.forward, true);
  assert.equal(sent.entry, 'index.html');
  assert.equal(Buffer.from(sent.files.find((f) => f.path === 'notes.txt').data, 'base64').toString(), 'plants');
  const id = (await ur.json()).id;
  assert.match(id, /^local-[0-9a-f]{16}$/);
  await page.click('#u-link');
  await page.waitForSelector('#d-title');
  assert.equal(await page.textContent('#d-title'), 'Our school garden');
  assert.ok((await page.textContent('.d-desc')).includes(EVIL));
  await noInjection(rec);
  // It is in the catalogue: a search finds it.
  await page.goto(BASE + '/#/?q=' + encodeURIComponent('school garden'));
  await waitResults(page);
  assert.ok((await resultIds(page)).includes(id), `search for "school garden" does not find ${id}: [${await resultIds(page)}] ${await page.textContent('#summary')}`);
  // Over 16 MiB in total is refused before anything is sent.
  await page.goto(BASE + '/#/upload');
  await page.waitForSelector('#upload-form');
  await page.fill('#u-title', 'Too big');
  await page.setInputFiles('#u-files', [{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(13 * 1024 * 1024) }]);
  await page.waitForSelector('#upload-msg .notice');
  assert.match(await page.textContent('#upload-msg'), /too large/);
  const before = rec.responses.length;
  await page.click('#u-submit');
  await page.waitForTimeout(300);
  assert.ok(!rec.responses.slice(before).some((r) => /\/api\/v1\/local$/.test(r.url())), 'an oversized upload was sent');
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(apiErrors(rec), []);
  await rec.ctx.close();
});

test('sign-in: 429 and unknown class codes give clear messages; the tabs work from the keyboard', T, async () => {
  const rec = await open({ locale: 'en-US' });
  const { page } = rec;
  await page.route('**/api/v1/login', (route) => route.fulfill({ status: 429, contentType: 'application/json',
    body: '{"error":"rate_limited","message":"too many failures"}' }));
  await page.route('**/api/v1/join', (route) => route.fulfill({ status: 404, contentType: 'application/json',
    body: '{"error":"not_found","message":"no such class"}' }));
  await page.goto(BASE + '/#/signin', { waitUntil: 'networkidle' });
  await page.waitForSelector('#tab-student[aria-selected="true"]');
  await page.focus('#tab-student');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#tab-staff', 'aria-selected'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-staff');
  assert.ok(await page.isHidden('#panel-student'));
  await page.fill('#t-name', 'someone');
  await page.fill('#t-pass', 'whatever');
  await page.press('#t-pass', 'Enter');
  await page.waitForSelector('#staff-msg .notice');
  assert.match(await page.textContent('#staff-msg'), /Too many tries/);
  // A PIN must be 4–6 digits; checked before anything is sent.
  await page.goto(BASE + '/#/join');
  await page.waitForSelector('#join-form');
  await page.fill('#j-code', 'NOPE');
  await page.fill('#j-name', 'Ann');
  await page.click('#join-kind-pin');
  await page.fill('#join-pin', '12');
  await page.click('#join-form button[type="submit"]');
  assert.match(await page.textContent('#join-msg'), /4 to 6 digits/);
  await page.fill('#join-pin', '2468');
  await page.fill('#join-pin2', '2468');
  await page.click('#join-form button[type="submit"]');
  await page.waitForFunction(() => /no class with this code/.test(document.querySelector('#join-msg').textContent));
  const errs = rec.errors.filter((e) => !/status of (429|404)/.test(e));
  assert.deepEqual(errs, []);
  await rec.ctx.close();
});

test('recommendations, when the node has them, show with their reasons as text', T, async () => {
  const rec = await open({ locale: 'en-US' });
  const { page } = rec;
  const items = [
    { id: 'math-g3-fractions-intro', title: { en: 'Introduction to Fractions', zh: '分数的初步认识' }, reason: 'Popular in Grade 3 <b>now</b>', url: '/r/math-g3-fractions-intro/', cached: true },
    { id: 'science-g5-water-cycle', title: { en: 'The Water Cycle' }, reason: 'Next in the unit', url: '/r/science-g5-water-cycle/', cached: false },
  ];
  await page.route('**/api/v1/recommendations**', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ items }) }));
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await page.waitForSelector('#recs li[data-id="math-g3-fractions-intro"]');
  assert.match(await page.textContent('#recs h2'), /Recommended for you/);
  assert.equal(await page.textContent('#recs li[data-id="math-g3-fractions-intro"] .rec-why'), 'Popular in Grade 3 <b>now</b>');
  assert.equal(await page.$('#recs b'), null);
  assert.match(await page.textContent('#recs li[data-id="science-g5-water-cycle"]'), /Not cached/);
  // Filtering hides them; "what next" ends a resource page.
  await page.selectOption('#f-subject', 'math');
  await page.waitForSelector('#recs', { state: 'hidden' });
  await page.goto(BASE + '/#/r/math-g8-pythagorean-theorem');
  await page.waitForSelector('#d-next li[data-id="math-g3-fractions-intro"]');
  assert.match(await page.textContent('#d-next h2'), /What next/);
  // Without recommendations (404) nothing is shown.
  await page.unroute('**/api/v1/recommendations**');
  await page.route('**/api/v1/recommendations**', (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"not_found"}' }));
  await page.goto(BASE + '/#/r/math-g3-fractions-quiz');
  await page.waitForSelector('#d-title');
  await page.waitForTimeout(200);
  assert.ok(await page.isHidden('#d-next'));
  assert.deepEqual(rec.errors, []);
  await rec.ctx.close();
});
