// Browser test of the Cistern node web UI: playwright-core driving Debian's
// chromium against a running node (`cistern node serve`) that holds the
// samples/v1 content.  The node's base URL comes from CISTERN_URL.
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
  const rec = { errors: [], urls: [], responses: [], page, ctx };
  page.on('console', (m) => { if (m.type() === 'error') rec.errors.push('console: ' + m.text()); });
  page.on('pageerror', (e) => rec.errors.push('pageerror: ' + e.message));
  page.on('request', (r) => rec.urls.push(r.url()));
  page.on('response', (r) => rec.responses.push(r));
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

test('first page: loads without errors, only from the node, under 100 KB', T, async () => {
  const rec = await open();
  const { page } = rec;
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await waitResults(page);
  let total = 0;
  const sizes = [];
  for (const r of rec.responses) {
    let n = 0;
    try { n = (await r.body()).length; } catch (e) { n = 0; }
    total += n;
    sizes.push(`${n}\t${r.status()}\t${r.url()}`);
  }
  console.log(`first load: ${total} bytes in ${rec.responses.length} responses\n  ` + sizes.join('\n  '));
  assert.ok(total > 0, 'nothing was loaded');
  assert.ok(total < 100 * 1024, `first load is ${total} bytes, must be < 100 KB`);
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

test('a subject filter narrows the results', T, async () => {
  const rec = await open();
  const { page } = rec;
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await waitResults(page);
  const all = (await api('/api/v1/catalog?limit=100')).total;
  const opts = await page.$$eval('#f-subject option', (o) => o.map((x) => x.value));
  assert.ok(opts.includes('math'), `subject options: ${opts}`);
  await page.selectOption('#f-subject', 'math');
  await page.waitForFunction(() => location.hash.indexOf('subject=math') >= 0);
  await waitResults(page);
  const ids = await resultIds(page);
  const want = (await api('/api/v1/catalog?subject=math&limit=100')).results.map((r) => r.id);
  assert.ok(want.length > 0 && want.length < all, 'samples should have some, not all, math resources');
  assert.deepEqual(ids.slice().sort(), want.slice().sort());
  // Clearing the filter brings everything back.
  await page.click('#clear');
  await page.waitForFunction((n) => document.querySelectorAll('#results > li').length === Math.min(n, 20), all);
  assert.deepEqual(rec.errors, []);
  await rec.ctx.close();
});

test('the video resource plays from the node and can seek', T, async () => {
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
  assert.ok(r.rs >= 1, `readyState ${r.rs}`);
  assert.ok(Math.abs(r.t - 2) < 0.5, `currentTime ${r.t} after seeking to 2 (duration ${r.d})`);
  const media = rec.responses.filter((x) => /\.mp4(\?|$)/.test(x.url()));
  assert.ok(media.some((x) => x.status() === 206), 'the video was not fetched with a Range request (206)');
  assert.deepEqual(rec.errors, []);
  assert.deepEqual(foreign(rec.urls), []);
  await rec.ctx.close();
});

test('the language follows the browser and the switch changes UI strings', T, async () => {
  const en = await open({ locale: 'en-US' });
  await en.page.goto(BASE + '/', { waitUntil: 'networkidle' });
  assert.equal((await en.page.textContent('#go')).trim(), 'Search');
  assert.equal(await en.page.getAttribute('html', 'lang'), 'en');
  await en.ctx.close();

  const rec = await open({ locale: 'zh-CN' });
  const { page } = rec;
  await page.goto(BASE + '/', { waitUntil: 'networkidle' });
  await waitResults(page);
  assert.equal((await page.textContent('#go')).trim(), '搜索');
  assert.equal(await page.getAttribute('button[data-lang="zh"]', 'aria-pressed'), 'true');
  await page.click('button[data-lang="en"]');
  assert.equal((await page.textContent('#go')).trim(), 'Search');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  // Titles follow the language.
  assert.match(await page.textContent('#results a[data-id="science-g5-water-cycle"]'), /Water Cycle/);
  // The choice is remembered.
  await page.reload({ waitUntil: 'networkidle' });
  assert.equal((await page.textContent('#go')).trim(), 'Search');
  await page.click('button[data-lang="zh"]');
  assert.equal((await page.textContent('#go')).trim(), '搜索');
  assert.deepEqual(rec.errors, []);
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
