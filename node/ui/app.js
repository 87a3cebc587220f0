/* Cistern node web UI.  Plain ES2017, no dependencies, no build step.
 * Catalogue data is only ever put into the page with textContent and DOM
 * building, never innerHTML. */
(function () {
  'use strict';

  /* ---------- UI strings ---------- */
  var STR = {
    zh: {
      skip: '跳到主要内容', tagline: '本校学习资源库', homeTitle: '找学习资源',
      searchLabel: '搜索资源', searchPh: '输入课题或关键词',
      search: '搜索', suggestions: '搜索建议', filters: '筛选',
      subject: '学科', grade: '年级', language: '语言', type: '类型',
      any: '全部', clear: '清除筛选', more: '显示更多',
      loading: '正在加载…',
      browseAll: '全部资源，共 {n} 个', found: '找到 {n} 个与“{q}”相关的资源',
      foundFiltered: '符合筛选条件的资源共 {n} 个', shown: '已显示 {a} / {n}',
      none: '没有找到相关资源。', noneHint: '试试更短的词、换个说法，或清除筛选。',
      notCachedBadge: '未缓存',
      notCachedShort: '已列入目录，尚未缓存到本设备',
      notCached: '此资源已列入目录，但尚未缓存到本设备。',
      notCachedHint: '学校设备下次同步后即可使用。现在可以先查看资源介绍。',
      back: '返回', home: '首页',
      edition: '教材版本', volume: '册', unit: '单元', publisher: '出版者', license: '许可协议',
      keywords: '关键词', resId: '资源编号', prereqs: '建议先学', files: '文件', total: '合计',
      about: '资源信息', preview: '预览',
      open: '打开', openFull: '全屏打开', download: '下载', openFile: '打开文件',
      unitN: '第 {n} 单元',
      pdfNoInline: '此设备无法在页面中显示 PDF，请点击“打开文件”或“下载”。',
      mediaError: '无法播放此文件。可以尝试下载后用其他播放器打开。',
      errLoad: '无法连接本校资源服务器。', errNotFound: '找不到这个资源，可能已从目录中移除。',
      retry: '重试', status: '目录版本 {v} · {n} 个资源', lastSync: '上次更新 {t}',
      statusErr: '无法获取服务器状态', never: '尚未同步',
      gradeN: '{n}年级', grades: '{a}至{b}年级', inLang: '{l}'
    },
    en: {
      skip: 'Skip to main content', tagline: 'School learning library', homeTitle: 'Find learning resources',
      searchLabel: 'Search resources', searchPh: 'Topic or keyword',
      search: 'Search', suggestions: 'Suggestions', filters: 'Filters',
      subject: 'Subject', grade: 'Grade', language: 'Language', type: 'Type',
      any: 'All', clear: 'Clear filters', more: 'More results',
      loading: 'Loading…',
      browseAll: 'All resources ({n})', found: '{n} results for “{q}”',
      foundFiltered: '{n} resources match the filters', shown: 'Showing {a} of {n}',
      none: 'Nothing found.', noneHint: 'Try a shorter or different word, or clear the filters.',
      notCachedBadge: 'Not cached',
      notCachedShort: 'Listed, not cached on this device yet',
      notCached: 'Listed in the catalogue but not cached on this device yet.',
      notCachedHint: 'It will be available after the school’s next update. You can read about it now.',
      back: 'Back', home: 'Home',
      edition: 'Edition', volume: 'Volume', unit: 'Unit', publisher: 'Publisher', license: 'Licence',
      keywords: 'Keywords', resId: 'Resource ID', prereqs: 'Learn these first', files: 'Files', total: 'Total',
      about: 'About this resource', preview: 'Preview',
      open: 'Open', openFull: 'Open full screen', download: 'Download', openFile: 'Open file',
      unitN: 'Unit {n}',
      pdfNoInline: 'This device cannot show PDFs inside the page. Use “Open file” or “Download”.',
      mediaError: 'This file cannot be played here. Try downloading it and opening it in another player.',
      errLoad: 'Cannot reach the school’s resource server.', errNotFound: 'This resource was not found. It may have been removed from the catalogue.',
      retry: 'Try again', status: 'Catalogue version {v} · {n} resources', lastSync: 'last updated {t}',
      statusErr: 'Server status unavailable', never: 'never updated',
      gradeN: 'Grade {n}', grades: 'Grades {a}–{b}', inLang: 'In {l}'
    }
  };
  var NAMES = {
    zh: {
      subject: { math: '数学', chinese: '语文', english: '英语', science: '科学', biology: '生物', chemistry: '化学',
        physics: '物理', geography: '地理', history: '历史', music: '音乐', art: '美术', pe: '体育',
        morality: '道德与法治', politics: '道德与法治', it: '信息技术', technology: '信息科技' },
      type: { video: '视频', audio: '音频', document: '文档', html: '网页课件', exercise: '练习', image: '图片' },
      language: { zh: '中文', en: '英文', bo: '藏文', ug: '维吾尔文', mn: '蒙古文', ko: '朝鲜文', kk: '哈萨克文', ii: '彝文', za: '壮文' },
      edition: { renjiao: '人教版', tongbian: '统编版', jiaoke: '教科版', pep: '人教版（PEP）', renyin: '人音版',
        beishida: '北师大版', sujiao: '苏教版', waiyan: '外研版' }
    },
    en: {
      subject: { math: 'Maths', chinese: 'Chinese', english: 'English', science: 'Science', biology: 'Biology', chemistry: 'Chemistry',
        physics: 'Physics', geography: 'Geography', history: 'History', music: 'Music', art: 'Art', pe: 'PE',
        morality: 'Morality and Law', politics: 'Morality and Law', it: 'IT', technology: 'IT' },
      type: { video: 'Video', audio: 'Audio', document: 'Document', html: 'Web lesson', exercise: 'Exercise', image: 'Image' },
      language: { zh: 'Chinese', en: 'English', bo: 'Tibetan', ug: 'Uyghur', mn: 'Mongolian', ko: 'Korean', kk: 'Kazakh', ii: 'Yi', za: 'Zhuang' },
      edition: { renjiao: 'PEP', tongbian: 'Unified edition', jiaoke: 'ESPH', pep: 'PEP', renyin: 'People’s Music',
        beishida: 'BNUP', sujiao: 'Jiangsu Education', waiyan: 'FLTRP' },
      volume: { '上册': 'Book 1 (autumn term)', '下册': 'Book 2 (spring term)', '全一册': 'Single volume' }
    }
  };
  var ZH_NUM = ['', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
  var PAGE = 20;

  /* ---------- small helpers ---------- */
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'text') e.textContent = v;
        else if (k === 'class') e.className = v;
        else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? '' : v);
      });
    }
    (kids || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function fmt(s, vars) {
    return s.replace(/\{(\w+)\}/g, function (m, k) { return vars && vars[k] !== undefined ? String(vars[k]) : m; });
  }

  var lang = pickLang();
  function t(key, vars) { return fmt((STR[lang] && STR[lang][key]) || STR.en[key] || key, vars); }
  function name(kind, v) {
    var d = NAMES[lang][kind];
    return (d && Object.prototype.hasOwnProperty.call(d, v)) ? d[v] : String(v);
  }
  function pickLang() {
    var saved = null;
    try { saved = localStorage.getItem('cistern.lang'); } catch (e) { /* storage may be off */ }
    if (saved === 'zh' || saved === 'en') return saved;
    var list = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
    return /^zh/i.test(list[0] || '') ? 'zh' : 'en';
  }
  /* A localised text object {"zh": …, "en": …}: the UI language if present,
   * else the resource's own language, else any.  Returns [text, lang]. */
  function loc(obj, resLang) {
    if (!obj) return ['', ''];
    if (typeof obj === 'string') return [obj, resLang || ''];
    var keys = Object.keys(obj).filter(function (k) { return typeof obj[k] === 'string' && obj[k]; });
    var pref = [lang, resLang].concat(lang === 'zh' ? ['en'] : ['zh']);
    for (var i = 0; i < pref.length; i++) {
      if (!pref[i]) continue;
      for (var j = 0; j < keys.length; j++) {
        if (keys[j] === pref[i] || keys[j].toLowerCase().indexOf(pref[i] + '-') === 0) return [obj[keys[j]], keys[j]];
      }
    }
    return keys.length ? [obj[keys[0]], keys[0]] : ['', ''];
  }
  function titleEl(tag, attrs, r) {
    var tl = loc(r.title, r.language);
    var e = el(tag, attrs, [tl[0] || r.id]);
    if (tl[1]) e.setAttribute('lang', tl[1]);
    return e;
  }
  function gradeText(gs) {
    if (!Array.isArray(gs) || !gs.length) return '';
    var g = gs.slice().filter(function (x) { return typeof x === 'number'; }).sort(function (a, b) { return a - b; });
    if (!g.length) return '';
    var contiguous = g[g.length - 1] - g[0] === g.length - 1;
    if (g.length === 1) return t('gradeN', { n: gradeNum(g[0]) });
    if (contiguous) return t('grades', { a: gradeNum(g[0]), b: gradeNum(g[g.length - 1]) });
    return g.map(function (x) { return t('gradeN', { n: gradeNum(x) }); }).join(lang === 'zh' ? '、' : ', ');
  }
  function gradeNum(n) { return (lang === 'zh' && n > 0 && n < 10) ? ZH_NUM[n] : String(n); }
  function gradeOne(n) {
    if (lang === 'zh' && n >= 10 && n <= 12) return ['高一', '高二', '高三'][n - 10];
    return t('gradeN', { n: gradeNum(n) });
  }
  function editionText(e) {
    if (!e) return '';
    var m = /^([a-z]+)-(\d{4})$/.exec(String(e));
    if (m && NAMES[lang].edition[m[1]]) return NAMES[lang].edition[m[1]] + ' ' + m[2];
    return String(e);
  }
  function size(n) {
    if (typeof n !== 'number') return '';
    if (n < 1024) return n + ' B';
    var u = ['KB', 'MB', 'GB', 'TB'], i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
    return (n < 10 ? n.toFixed(1) : Math.round(n)) + ' ' + u[i];
  }
  function encPath(p) { return String(p).split('/').map(encodeURIComponent).join('/'); }

  /* ---------- API ---------- */
  function ApiError(status, token, message) { this.status = status; this.token = token; this.message = message; }
  function api(path, signal) {
    return fetch(path, { headers: { Accept: 'application/json' }, signal: signal, credentials: 'same-origin' })
      .then(function (res) {
        return res.text().then(function (body) {
          var data = null;
          try { data = body ? JSON.parse(body) : null; } catch (e) { data = null; }
          if (!res.ok) throw new ApiError(res.status, data && data.error, data && data.message);
          if (!data) throw new ApiError(res.status, 'bad_response', 'not JSON');
          return data;
        });
      }, function (e) {
        if (e && e.name === 'AbortError') throw e;
        throw new ApiError(0, 'network', String(e && e.message || e));
      });
  }
  function errorBox(err, retry) {
    var msg = err && err.status === 404 ? t('errNotFound') : t('errLoad');
    var detail = err && (err.message || err.token) ? ' (' + (err.status ? err.status + ' ' : '') + (err.message || err.token) + ')' : '';
    return el('div', { class: 'notice error', role: 'alert' }, [
      el('p', null, [el('strong', { text: msg }), el('span', { class: 'muted', text: detail })]),
      retry ? el('button', { type: 'button', class: 'btn', text: t('retry'), onclick: retry }) : null
    ]);
  }

  /* ---------- state ---------- */
  var S = {
    params: { q: '', subject: '', grade: '', language: '', type: '' },
    key: null,            // params key of what the result list currently shows
    results: [], total: 0, loading: false, error: null,
    facets: null, status: null, statusErr: false,
    detail: null, detailErr: null, detailId: null,
    homeScroll: 0, lastOpened: null, view: 'start', fromHome: false, seq: 0
  };

  /* ---------- static strings ---------- */
  function applyLang() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    var nodes = document.querySelectorAll('[data-i18n]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
    nodes = document.querySelectorAll('[data-i18n-ph]');
    for (i = 0; i < nodes.length; i++) nodes[i].setAttribute('placeholder', t(nodes[i].getAttribute('data-i18n-ph')));
    nodes = document.querySelectorAll('[data-i18n-label]');
    for (i = 0; i < nodes.length; i++) nodes[i].setAttribute('aria-label', t(nodes[i].getAttribute('data-i18n-label')));
    var bs = $('lang').querySelectorAll('button');
    for (i = 0; i < bs.length; i++) bs[i].setAttribute('aria-pressed', String(bs[i].getAttribute('data-lang') === lang));
  }
  function setLang(l) {
    if (l === lang) return;
    lang = l;
    try { localStorage.setItem('cistern.lang', l); } catch (e) { /* ignore */ }
    applyLang();
    renderFilters(); renderResults(); renderStatus();
    if (S.view === 'detail') renderDetail();
    else document.title = docTitle();
  }
  function docTitle(sub) { return (sub ? sub + ' · ' : '') + 'Cistern · ' + t('tagline'); }

  /* ---------- routing: #/  #/?q=…&subject=…  #/r/<id> ---------- */
  function parseHash() {
    var h = location.hash.replace(/^#/, '');
    var m = /^\/r\/([^?#]+)/.exec(h);
    if (m) { var id; try { id = decodeURIComponent(m[1]); } catch (e) { id = m[1]; } return { view: 'detail', id: id }; }
    var qi = h.indexOf('?');
    var sp = new URLSearchParams(qi >= 0 ? h.slice(qi + 1) : '');
    var p = {};
    Object.keys(S.params).forEach(function (k) { p[k] = (sp.get(k) || '').trim(); });
    return { view: 'home', params: p };
  }
  function homeHash(p) {
    var sp = new URLSearchParams();
    Object.keys(p).forEach(function (k) { if (p[k]) sp.set(k, p[k]); });
    var s = sp.toString();
    return '#/' + (s ? '?' + s : '');
  }
  function go(hash) {
    if (location.hash === hash || (hash === '#/' && !location.hash)) route();
    else location.hash = hash;
  }
  function route() {
    var r = parseHash();
    closeSuggest();
    if (r.view === 'detail') {
      if (S.view === 'home') { S.homeScroll = window.pageYOffset || 0; S.fromHome = S.key !== null; }
      else if (S.view !== 'detail') S.fromHome = false;
      S.view = 'detail';
      $('home').hidden = true; $('detail').hidden = false;
      loadDetail(r.id);
    } else {
      var wasDetail = S.view === 'detail';
      S.view = 'home';
      $('detail').hidden = true; $('home').hidden = false;
      clear($('detail'));
      S.params = r.params;
      $('q').value = r.params.q;
      syncFilterValues();
      document.title = docTitle(r.params.q);
      var key = JSON.stringify(r.params);
      if (key !== S.key || S.error) load(false);
      if (wasDetail) {
        window.scrollTo(0, S.homeScroll);
        var link = S.lastOpened && document.querySelector('#results a[data-id="' + cssEsc(S.lastOpened) + '"]');
        if (link) link.focus({ preventScroll: true });
      }
    }
  }
  function cssEsc(s) { return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, '\\$&'); }

  /* ---------- home: search and results ---------- */
  var listCtl = null;
  function load(append) {
    var p = S.params;
    var sp = new URLSearchParams();
    Object.keys(p).forEach(function (k) { if (p[k]) sp.set(k, p[k]); });
    sp.set('limit', String(PAGE));
    sp.set('offset', String(append ? S.results.length : 0));
    if (listCtl) listCtl.abort();
    listCtl = window.AbortController ? new AbortController() : null;
    var seq = ++S.seq;
    S.loading = true; S.error = null;
    if (!append) { S.key = JSON.stringify(p); S.results = []; S.total = 0; }
    renderResults();
    return api('/api/v1/catalog?' + sp.toString(), listCtl && listCtl.signal).then(function (d) {
      if (seq !== S.seq) return;
      var rs = Array.isArray(d.results) ? d.results : [];
      S.results = append ? S.results.concat(rs) : rs;
      S.total = typeof d.total === 'number' ? d.total : S.results.length;
      S.loading = false;
      renderResults(append ? S.results.length - rs.length : -1);
    }, function (e) {
      if (e && e.name === 'AbortError') return;
      if (seq !== S.seq) return;
      S.loading = false; S.error = e;
      renderResults();
    });
  }

  function badges(r, wrapClass) {
    var b = el('span', { class: wrapClass || 'badges' });
    if (r.subject) b.appendChild(el('span', { class: 'badge subj', text: name('subject', r.subject) }));
    var g = gradeText(r.grades);
    if (g) b.appendChild(el('span', { class: 'badge', text: g }));
    if (r.type) b.appendChild(el('span', { class: 'badge type t-' + String(r.type).replace(/[^a-z]/g, ''), text: name('type', r.type) }));
    if (r.language && r.language.split('-')[0] !== lang) b.appendChild(el('span', { class: 'badge', text: t('inLang', { l: name('language', r.language) }) }));
    return b;
  }

  function renderResults(focusFrom) {
    var list = $('results'), sum = $('summary'), more = $('more');
    var p = S.params;
    clear(list); clear(sum);
    list.setAttribute('aria-busy', String(S.loading));
    if (S.error) {
      sum.appendChild(errorBox(S.error, function () { load(false); }));
      more.hidden = true;
      return;
    }
    if (S.loading && !S.results.length) {
      sum.appendChild(el('p', { class: 'muted', text: t('loading') }));
    } else if (!S.results.length) {
      sum.appendChild(el('div', { class: 'empty' }, [el('p', null, [el('strong', { text: t('none') })]), el('p', { class: 'muted', text: t('noneHint') })]));
    } else {
      var filtered = p.subject || p.grade || p.language || p.type;
      var line = p.q ? t('found', { n: S.total, q: p.q }) : filtered ? t('foundFiltered', { n: S.total }) : t('browseAll', { n: S.total });
      sum.appendChild(el('p', { text: line }));
    }
    var firstNew = null;
    S.results.forEach(function (r, i) {
      var href = '#/r/' + encodeURIComponent(r.id);
      var a = titleEl('a', { href: href, class: 'r-title', 'data-id': r.id }, r);
      a.addEventListener('click', function () { S.lastOpened = r.id; });
      var desc = loc(r.description, r.language);
      var li = el('li', { class: 'card' + (r.cached === false ? ' uncached' : ''), 'data-id': r.id }, [
        el('h2', { class: 'r-h' }, [a]),
        desc[0] ? el('p', { class: 'r-desc', lang: desc[1] || null, text: desc[0] }) : null,
        badges(r),
        r.cached === false ? el('p', { class: 'nc' }, [el('span', { class: 'badge warn', text: t('notCachedBadge') }), ' ', t('notCachedShort')]) : null
      ]);
      list.appendChild(li);
      if (i === focusFrom) firstNew = a;
    });
    more.hidden = S.loading || S.results.length >= S.total || !S.results.length;
    if (S.results.length && S.results.length < S.total) sum.appendChild(el('p', { class: 'muted small', text: t('shown', { a: S.results.length, n: S.total }) }));
    if (firstNew) firstNew.focus();
  }

  /* ---------- filters (from /api/v1/facets) ---------- */
  var FACETS = [['subject', 'subjects'], ['grade', 'grades'], ['language', 'languages'], ['type', 'types']];
  function renderFilters() {
    FACETS.forEach(function (f) {
      var key = f[0], sel = $('f-' + key);
      var cur = S.params[key];
      clear(sel);
      sel.appendChild(el('option', { value: '', text: t('any') }));
      var items = (S.facets && Array.isArray(S.facets[f[1]])) ? S.facets[f[1]].slice() : [];
      if (key === 'grade') items.sort(function (a, b) { return a.value - b.value; });
      var seen = false;
      items.forEach(function (it) {
        var v = String(it.value);
        if (v === cur) seen = true;
        var label = key === 'grade' ? gradeOne(Number(it.value)) : name(key, it.value);
        if (typeof it.count === 'number') label += ' (' + it.count + ')';
        sel.appendChild(el('option', { value: v, text: label }));
      });
      if (cur && !seen) sel.appendChild(el('option', { value: cur, text: key === 'grade' ? gradeOne(Number(cur)) : name(key, cur) }));
      sel.value = cur;
    });
    syncFilterValues();
  }
  function syncFilterValues() {
    var any = false;
    FACETS.forEach(function (f) {
      var sel = $('f-' + f[0]), v = S.params[f[0]];
      if (v && !sel.querySelector('option[value="' + cssEsc(v) + '"]')) sel.appendChild(el('option', { value: v, text: v }));
      sel.value = v;
      sel.parentNode.classList.toggle('on', !!v);
      if (v) any = true;
    });
    $('clear').hidden = !any;
  }
  function loadFacets() {
    return api('/api/v1/facets').then(function (d) { S.facets = d; renderFilters(); }, function () { S.facets = null; renderFilters(); });
  }

  /* ---------- typeahead ---------- */
  var sug = { items: [], active: -1, timer: 0, ctl: null, seq: 0, lastQ: '' };
  function closeSuggest() {
    var box = $('suggest');
    box.hidden = true; clear(box);
    sug.items = []; sug.active = -1;
    $('q').setAttribute('aria-expanded', 'false');
    $('q').removeAttribute('aria-activedescendant');
  }
  function requestSuggest() {
    clearTimeout(sug.timer);
    var q = $('q').value.trim();
    if (!q) { sug.lastQ = ''; closeSuggest(); return; }
    sug.timer = setTimeout(function () {
      if (sug.ctl) sug.ctl.abort();
      sug.ctl = window.AbortController ? new AbortController() : null;
      var seq = ++sug.seq;
      api('/api/v1/suggest?q=' + encodeURIComponent(q), sug.ctl && sug.ctl.signal).then(function (d) {
        if (seq !== sug.seq || $('q').value.trim() !== q || document.activeElement !== $('q')) return;
        showSuggest(q, Array.isArray(d.suggestions) ? d.suggestions.slice(0, 8) : []);
      }, function () { if (seq === sug.seq) closeSuggest(); });
    }, 150);
  }
  function showSuggest(q, items) {
    var box = $('suggest');
    clear(box);
    sug.items = items; sug.active = -1; sug.lastQ = q;
    if (!items.length) { closeSuggest(); return; }
    items.forEach(function (s, i) {
      var tl = loc(s.title, '');
      var text = tl[0] || s.id;
      var li = el('li', { id: 'sg-' + i, role: 'option', 'aria-selected': 'false', class: 'sg', lang: tl[1] || null });
      var at = text.toLowerCase().indexOf(q.toLowerCase());
      if (at >= 0) {
        li.appendChild(document.createTextNode(text.slice(0, at)));
        li.appendChild(el('b', { text: text.slice(at, at + q.length) }));
        li.appendChild(document.createTextNode(text.slice(at + q.length)));
      } else li.textContent = text;
      li.addEventListener('mousedown', function (e) { e.preventDefault(); });
      li.addEventListener('click', function () { pickSuggest(i); });
      box.appendChild(li);
    });
    box.hidden = false;
    $('q').setAttribute('aria-expanded', 'true');
  }
  function moveActive(d) {
    if (!sug.items.length) return;
    var n = sug.items.length;
    sug.active = sug.active < 0 ? (d > 0 ? 0 : n - 1) : (sug.active + d + n + 1) % (n + 1) - 1;
    var lis = $('suggest').children;
    for (var i = 0; i < lis.length; i++) {
      var on = i === sug.active;
      lis[i].setAttribute('aria-selected', String(on));
      lis[i].classList.toggle('active', on);
      if (on && lis[i].scrollIntoView) lis[i].scrollIntoView({ block: 'nearest' });
    }
    if (sug.active >= 0) $('q').setAttribute('aria-activedescendant', 'sg-' + sug.active);
    else $('q').removeAttribute('aria-activedescendant');
  }
  function pickSuggest(i) {
    var s = sug.items[i];
    if (!s) return;
    clearTimeout(sug.timer); sug.seq++;
    closeSuggest();
    S.lastOpened = s.id;
    go('#/r/' + encodeURIComponent(s.id));
  }

  /* ---------- resource page ---------- */
  var detailCtl = null;
  function loadDetail(id) {
    S.detailId = id; S.detail = null; S.detailErr = null;
    var box = $('detail');
    clear(box);
    box.appendChild(backLink());
    box.appendChild(el('p', { class: 'muted', role: 'status', text: t('loading') }));
    window.scrollTo(0, 0);
    if (detailCtl) detailCtl.abort();
    detailCtl = window.AbortController ? new AbortController() : null;
    api('/api/v1/resources/' + encodeURIComponent(id), detailCtl && detailCtl.signal).then(function (d) {
      if (S.detailId !== id) return;
      S.detail = d; renderDetail(true);
    }, function (e) {
      if ((e && e.name === 'AbortError') || S.detailId !== id) return;
      S.detailErr = e; renderDetail(true);
    });
  }
  function backLink() {
    var a = el('a', { href: '#/', class: 'back' }, [el('span', { 'aria-hidden': 'true', class: 'arrow', text: '←' }), t('back')]);
    a.addEventListener('click', function (e) {
      // Return to the exact search the user came from when there is one.
      if (S.fromHome) { e.preventDefault(); history.back(); }
    });
    return a;
  }
  function renderDetail(focus) {
    var box = $('detail');
    clear(box);
    box.appendChild(backLink());
    if (S.detailErr) {
      box.appendChild(errorBox(S.detailErr, S.detailErr.status === 404 ? null : function () { loadDetail(S.detailId); }));
      document.title = docTitle();
      return;
    }
    var d = S.detail;
    if (!d) { box.appendChild(el('p', { class: 'muted', text: t('loading') })); return; }
    var r = d.resource || {};
    r.id = r.id || S.detailId;
    var cached = d.cached !== false;
    var base = d.url || ('/r/' + encodeURIComponent(r.id) + '/');
    var files = Array.isArray(d.files) ? d.files : [];
    var entry = null;
    files.forEach(function (f) { if (f.path === r.entry) entry = f; });
    var entryUrl = entry && entry.url ? entry.url : (r.entry ? base + encPath(r.entry) : base);
    var entryMime = entry && entry.mime ? entry.mime : '';

    var h1 = titleEl('h1', { class: 'd-title', tabindex: '-1', id: 'd-title' }, r);
    document.title = docTitle(h1.textContent);
    box.appendChild(h1);
    // The title in the other language too, when there is one: helpful in bilingual classes.
    var main = loc(r.title, r.language)[1];
    if (r.title && typeof r.title === 'object') {
      Object.keys(r.title).forEach(function (k) {
        if (k !== main && typeof r.title[k] === 'string' && r.title[k]) box.appendChild(el('p', { class: 'd-alt', lang: k, text: r.title[k] }));
      });
    }
    box.appendChild(badges(r, 'badges d-badges'));
    var desc = loc(r.description, r.language);
    if (desc[0]) box.appendChild(el('p', { class: 'd-desc', lang: desc[1] || null, text: desc[0] }));

    if (!cached) {
      box.appendChild(el('div', { class: 'notice warn', role: 'note' }, [
        el('p', null, [el('strong', { text: t('notCached') })]),
        el('p', { class: 'muted', text: t('notCachedHint') })
      ]));
    } else {
      box.appendChild(preview(r, entryUrl, entryMime, base));
    }

    // metadata
    var dl = el('dl', { class: 'meta' });
    function row(label, value) {
      if (value === undefined || value === null || value === '' || (value.nodeType === 1 && !value.childNodes.length)) return;
      dl.appendChild(el('div', { class: 'm' }, [el('dt', { text: label }), el('dd', null, [value])]));
    }
    row(t('subject'), r.subject ? name('subject', r.subject) : '');
    row(t('grade'), gradeText(r.grades));
    row(t('edition'), editionText(r.edition));
    row(t('volume'), r.volume !== undefined && r.volume !== null ? name('volume', String(r.volume)) : '');
    row(t('unit'), (r.unit !== undefined && r.unit !== null && r.unit !== '') ? (/^\d+$/.test(String(r.unit)) ? t('unitN', { n: r.unit }) : String(r.unit)) : '');
    row(t('type'), r.type ? name('type', r.type) : '');
    row(t('language'), r.language ? name('language', r.language) : '');
    row(t('publisher'), r.publisher ? String(r.publisher) : '');
    row(t('license'), r.license ? String(r.license) : '');
    if (Array.isArray(r.keywords) && r.keywords.length) {
      var kw = el('span', { class: 'kw' });
      r.keywords.forEach(function (k) {
        if (typeof k !== 'string' || !k) return;
        kw.appendChild(el('a', { href: homeHash({ q: k }), class: 'chip', text: k }));
        kw.appendChild(document.createTextNode(' '));
      });
      row(t('keywords'), kw);
    }
    row(t('resId'), el('code', { text: r.id }));
    box.appendChild(el('section', { class: 'block', 'aria-labelledby': 'h-about' }, [el('h2', { id: 'h-about', text: t('about') }), dl]));

    // prerequisites
    var pre = Array.isArray(d.prerequisites) ? d.prerequisites : [];
    if (pre.length) {
      var ul = el('ul', { class: 'plist' });
      pre.forEach(function (p) {
        ul.appendChild(el('li', null, [
          titleEl('a', { href: '#/r/' + encodeURIComponent(p.id) }, p),
          p.cached === false ? el('span', { class: 'badge warn', text: t('notCachedBadge') }) : null
        ]));
      });
      box.appendChild(el('section', { class: 'block', 'aria-labelledby': 'h-pre' }, [el('h2', { id: 'h-pre', text: t('prereqs') }), ul]));
    }

    // files
    if (files.length) {
      var fl = el('ul', { class: 'flist' }), tot = 0;
      files.forEach(function (f) {
        tot += typeof f.size === 'number' ? f.size : 0;
        var url = f.url || (base + encPath(f.path));
        fl.appendChild(el('li', null, [
          cached ? el('a', { href: url, download: String(f.path).split('/').pop(), class: 'fpath', text: f.path }) : el('span', { class: 'fpath', text: f.path }),
          el('span', { class: 'fsize', text: size(f.size) })
        ]));
      });
      if (files.length > 1) fl.appendChild(el('li', { class: 'ftotal' }, [el('span', { text: t('total') }), el('span', { class: 'fsize', text: size(tot) })]));
      box.appendChild(el('section', { class: 'block', 'aria-labelledby': 'h-files' }, [el('h2', { id: 'h-files', text: t('files') }), fl]));
    }
    if (focus) h1.focus({ preventScroll: true });
  }

  function preview(r, url, mime, base) {
    var wrap = el('section', { class: 'preview', 'aria-label': t('preview') });
    var type = r.type, tl = loc(r.title, r.language)[0] || r.id;
    var fname = r.entry ? String(r.entry).split('/').pop() : '';
    var actions = el('p', { class: 'actions' });
    function mediaFail() {
      if (wrap.querySelector('.media-err')) return;
      wrap.insertBefore(el('p', { class: 'notice warn media-err', text: t('mediaError') }), actions);
    }
    if (type === 'video') {
      var v = el('video', { controls: true, preload: 'metadata', playsinline: true, src: url, 'aria-label': tl });
      v.addEventListener('error', mediaFail);
      wrap.appendChild(el('div', { class: 'media' }, [v]));
      actions.appendChild(el('a', { class: 'btn', href: url, download: fname, text: t('download') }));
    } else if (type === 'audio') {
      var au = el('audio', { controls: true, preload: 'metadata', src: url, 'aria-label': tl });
      au.addEventListener('error', mediaFail);
      wrap.appendChild(au);
      actions.appendChild(el('a', { class: 'btn', href: url, download: fname, text: t('download') }));
    } else if (type === 'image') {
      wrap.appendChild(el('a', { href: url, class: 'img-link' }, [el('img', { src: url, alt: tl, class: 'img' })]));
      actions.appendChild(el('a', { class: 'btn', href: url, download: fname, text: t('download') }));
    } else if (type === 'html' || type === 'exercise') {
      wrap.appendChild(el('div', { class: 'frame-wrap' }, [
        el('iframe', { src: base, sandbox: 'allow-scripts allow-forms', title: tl, class: 'lesson', referrerpolicy: 'no-referrer' })
      ]));
      actions.appendChild(el('a', { class: 'btn primary', href: base, target: '_blank', rel: 'noopener', text: t('openFull') }));
    } else {
      // documents (PDF and others)
      var isPdf = /pdf/i.test(mime) || /\.pdf$/i.test(r.entry || '');
      if (isPdf && navigator.pdfViewerEnabled !== false && !isMobile()) {
        wrap.appendChild(el('div', { class: 'frame-wrap doc' }, [
          el('iframe', { src: url, title: tl, class: 'lesson' })
        ]));
      } else if (isPdf) {
        wrap.appendChild(el('p', { class: 'muted', text: t('pdfNoInline') }));
      }
      actions.appendChild(el('a', { class: 'btn primary', href: url, target: '_blank', rel: 'noopener', text: t('openFile') }));
      actions.appendChild(el('a', { class: 'btn', href: url, download: fname, text: t('download') }));
    }
    wrap.appendChild(actions);
    return wrap;
  }
  function isMobile() {
    if (navigator.userAgentData && typeof navigator.userAgentData.mobile === 'boolean') return navigator.userAgentData.mobile;
    return /Android|iPhone|iPad|Mobile/i.test(navigator.userAgent);
  }

  /* ---------- status footer ---------- */
  function loadStatus() {
    api('/api/v1/status').then(function (d) { S.status = d; S.statusErr = false; renderStatus(); },
      function () { S.status = null; S.statusErr = true; renderStatus(); });
  }
  function renderStatus() {
    var box = $('status');
    clear(box);
    if (S.statusErr) { box.appendChild(el('span', { text: t('statusErr') })); return; }
    var d = S.status;
    if (!d) return;
    var n = d.catalog && typeof d.catalog.resources === 'number' ? d.catalog.resources : '?';
    box.appendChild(el('span', { text: t('status', { v: d.version === undefined || d.version === null ? '?' : d.version, n: n }) }));
    if (d.sync) {
      var last = d.sync.last ? new Date(d.sync.last) : null;
      var when = last && !isNaN(last) ? last.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : null;
      box.appendChild(el('span', { text: ' · ' + (when ? t('lastSync', { t: when }) : t('never')) }));
    }
  }

  /* ---------- wiring ---------- */
  function init() {
    applyLang();
    renderFilters();
    $('lang').addEventListener('click', function (e) {
      var b = e.target.closest ? e.target.closest('button[data-lang]') : null;
      if (b) setLang(b.getAttribute('data-lang'));
    });
    var q = $('q');
    $('search').addEventListener('submit', function (e) {
      e.preventDefault();
      clearTimeout(sug.timer); sug.seq++;
      closeSuggest();
      // On touch screens, put the keyboard away so the results can be seen.
      if (window.matchMedia && matchMedia('(pointer: coarse)').matches) q.blur();
      var p = Object.assign({}, S.params, { q: q.value.trim() });
      go(homeHash(p));
    });
    q.addEventListener('input', requestSuggest);
    q.addEventListener('keydown', function (e) {
      var open = !$('suggest').hidden;
      if (e.key === 'ArrowDown' || e.key === 'Down') { if (open) { e.preventDefault(); moveActive(1); } else requestSuggest(); }
      else if (e.key === 'ArrowUp' || e.key === 'Up') { if (open) { e.preventDefault(); moveActive(-1); } }
      else if (e.key === 'Enter') { if (open && sug.active >= 0) { e.preventDefault(); pickSuggest(sug.active); } }
      else if (e.key === 'Escape' || e.key === 'Esc') {
        if (open) { e.preventDefault(); clearTimeout(sug.timer); sug.seq++; closeSuggest(); }
      }
    });
    q.addEventListener('blur', function () { setTimeout(function () { if (document.activeElement !== q) closeSuggest(); }, 100); });
    $('filters').addEventListener('change', function (e) {
      var k = e.target.getAttribute('data-key');
      if (!k) return;
      var p = Object.assign({}, S.params);
      p[k] = e.target.value;
      p.q = q.value.trim();
      go(homeHash(p));
    });
    $('clear').addEventListener('click', function () {
      go(homeHash({ q: q.value.trim() }));
      q.focus();
    });
    $('more').addEventListener('click', function () { load(true); });
    $('brand').addEventListener('click', function (e) {
      e.preventDefault();
      q.value = '';
      go('#/');
    });
    window.addEventListener('hashchange', route);
    loadFacets();
    loadStatus();
    route();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
