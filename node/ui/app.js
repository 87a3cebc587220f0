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
      pageIn: '页面，来自：',
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
      gradeN: '{n}年级', grades: '{a}至{b}年级', inLang: '{l}',
      err401: '请先登录。', err403: '你的账号没有权限做这件事。', err413: '内容太大，服务器不接收。',
      err429: '尝试次数太多，请等 5 分钟再试。', errServer: '服务器出错了，请稍后再试。',
      signIn: '登录', signOut: '退出', role_student: '学生', role_teacher: '教师', role_admin: '管理员',
      sessionEnded: '登录已过期，请重新登录。', signedOut: '已退出登录。',
      staffNav: '教师菜单', navClasses: '我的班级', navUpload: '上传资源', navAdmin: '设备管理',
      needStaff: '此页面仅供教师使用', needAdmin: '此页面仅供管理员使用', needRoleHint: '请用有权限的账号登录。',
      myLessons: '我的班级课程', classIs: '班级：{c}', noLessons: '老师还没有布置课程。',
      recsTitle: '为你推荐', whatNext: '接下来学什么', markDone: '标记为已完成', doneMarked: '已完成'
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
      pageIn: 'A page in: ',
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
      gradeN: 'Grade {n}', grades: 'Grades {a}–{b}', inLang: 'In {l}',
      err401: 'Please sign in first.', err403: 'Your account may not do this.', err413: 'That is too large for the server.',
      err429: 'Too many tries. Please wait 5 minutes and try again.', errServer: 'The server had a problem. Please try again later.',
      signIn: 'Sign in', signOut: 'Sign out', role_student: 'Student', role_teacher: 'Teacher', role_admin: 'Admin',
      sessionEnded: 'Your sign-in has ended. Please sign in again.', signedOut: 'You are signed out.',
      staffNav: 'Teacher menu', navClasses: 'My classes', navUpload: 'Upload', navAdmin: 'Device admin',
      needStaff: 'This page is for teachers', needAdmin: 'This page is for admins', needRoleHint: 'Please sign in with an account that may use it.',
      myLessons: 'My class’s lessons', classIs: 'Class: {c}', noLessons: 'Your teacher has not set any lessons yet.',
      recsTitle: 'Recommended for you', whatNext: 'What next', markDone: 'Mark as done', doneMarked: 'Done'
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

  /* ---------- API ----------
   * api(method, path, body, signal): JSON in and out, the session cookie
   * (credentials: same-origin) and, on every state-changing request, the
   * X-CSRF-Token the node handed out with the session.  A 403 "csrf" is
   * retried once after fetching a fresh token; a 401 while signed in means
   * the session ended, and the page says so. */
  function ApiError(status, token, message) { this.status = status; this.token = token; this.message = message; }
  function api(method, path, body, signal, retried) {
    var opts = { method: method, headers: { Accept: 'application/json' }, signal: signal, credentials: 'same-origin' };
    if (method !== 'GET' && method !== 'HEAD') {
      if (S.session.csrf) opts.headers['X-CSRF-Token'] = S.session.csrf;
      if (body !== undefined && body !== null) {
        opts.headers['Content-Type'] = 'application/json';
        opts.body = JSON.stringify(body);
      }
    }
    return fetch(path, opts).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) throw new ApiError(res.status, data && data.error, data && data.message);
        if (!data && (res.status === 204 || method !== 'GET')) return { httpStatus: res.status };
        if (!data) throw new ApiError(res.status, 'bad_response', 'not JSON');
        data.httpStatus = res.status;
        return data;
      });
    }, function (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', String(e && e.message || e));
    }).catch(function (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.status === 403 && e.token === 'csrf' && !retried && S.session.role !== 'guest') {
        return loadSession().then(function () { return api(method, path, body, signal, true); });
      }
      if (e.status === 401 && S.session.role !== 'guest' && !/\/api\/v1\/(login|join)$/.test(path)) sessionLost();
      throw e;
    });
  }
  function get(path, signal) { return api('GET', path, null, signal); }
  /* Fire and forget: usage events must never disturb the page. */
  function quiet(method, path, body) { try { api(method, path, body).catch(function () {}); } catch (e) { /* ignore */ } }
  function errText(err) {
    var s = err && err.status;
    if (!err || s === 0) return t('errLoad');
    if (s === 401) return t('err401');
    if (s === 403) return t('err403');
    if (s === 404) return t('errNotFound');
    if (s === 413) return t('err413');
    if (s === 429) return t('err429');
    return t('errServer');
  }
  function errorBox(err, retry, msg) {
    msg = msg || (err && err.status === 404 ? t('errNotFound') : err && err.status ? errText(err) : t('errLoad'));
    var detail = err && (err.message || err.token) ? ' (' + (err.status ? err.status + ' ' : '') + (err.message || err.token) + ')' : '';
    return el('div', { class: 'notice error', role: 'alert' }, [
      el('p', null, [el('strong', { text: msg }), el('span', { class: 'muted', text: detail })]),
      err && err.status === 401 ? el('p', null, [el('a', { href: signinHash(), text: t('signIn') })]) : null,
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
    homeScroll: 0, lastOpened: null, view: 'start', fromHome: false, seq: 0,
    session: { role: 'guest', user: null, csrf: null }, sessionReady: null,
    page: null, pageSeq: 0,
    mine: null,           // a student's class and its lessons: {klass, lessons} or {error}
    recs: null,           // home recommendations: array, or null when there are none
    next: null,           // "what next" for the resource page: {id, items}
    done: {}              // resources marked complete during this page's life
  };
  function isStaff() { return S.session.role === 'teacher' || S.session.role === 'admin'; }
  function signedIn() { return S.session.role !== 'guest'; }

  /* ---------- session ---------- */
  function loadSession() {
    return get('/api/v1/session').then(setSession, function (e) {
      if (e && e.status === 401) setSession(null);
    });
  }
  function setSession(d) {
    var prev = S.session;
    var role = d && typeof d.role === 'string' ? d.role : 'guest';
    S.session = { role: role, user: role !== 'guest' && d.user ? d.user : null, csrf: role !== 'guest' ? d.csrf || null : null };
    var uid = function (x) { return x.role + ':' + (x.user ? x.user.id : ''); };
    renderAcct();
    if (uid(prev) === uid(S.session)) return;
    S.mine = null; S.recs = null; S.next = null;
    if (S.view === 'home') homeExtras();
    else if (S.view === 'detail' && S.detail) renderDetail();
    else if (S.view === 'page' && S.page) showPage(S.page);
  }
  function sessionLost() {
    setSession(null);
    flash(t('sessionEnded'), 'warn');
  }
  function signOut() {
    api('POST', '/api/v1/logout').catch(function () {}).then(function () {
      setSession(null);
      go('#/');
      flash(t('signedOut'));
    });
  }
  function signinHash() {
    var h = location.hash || '#/';
    return '#/signin' + (/^#\/(signin|join)?(\?|$)/.test(h) || h === '#/' ? '' : '?next=' + encodeURIComponent(h));
  }
  /* A short message under the header that lasts until the next page change. */
  var flashKeep = false;
  function flash(msg, kind) {
    var box = $('flash');
    clear(box);
    if (msg) box.appendChild(el('p', { class: 'notice ' + (kind || 'ok'), text: msg }));
    flashKeep = !!msg;
  }
  function renderAcct() {
    var box = $('acct'), nav = $('nav-in'), s = S.session;
    clear(box); clear(nav);
    if (s.role === 'guest') {
      box.appendChild(el('a', { class: 'top-btn', href: signinHash(), id: 'signin-link', text: t('signIn') }));
    } else {
      var u = s.user || {};
      box.appendChild(el('span', { class: 'who', id: 'who' }, [
        el('span', { class: 'who-name', text: String(u.name || '') }),
        el('span', { class: 'who-role', text: t('role_' + s.role) })
      ]));
      box.appendChild(el('button', { type: 'button', class: 'top-btn', id: 'signout', text: t('signOut'), onclick: signOut }));
    }
    var links = [];
    if (isStaff()) links = [['#/classes', 'navClasses'], ['#/upload', 'navUpload']];
    if (s.role === 'admin') links.push(['#/admin', 'navAdmin']);
    links.forEach(function (l) { nav.appendChild(el('a', { href: l[0], class: 'nav-a', 'data-nav': l[0], text: t(l[1]) })); });
    $('nav').hidden = !links.length;
    markNav();
  }
  function markNav() {
    var as = $('nav-in').querySelectorAll('a'), h = location.hash;
    if ($('signin-link')) $('signin-link').setAttribute('href', signinHash());
    for (var i = 0; i < as.length; i++) {
      var on = h === as[i].getAttribute('data-nav') || h.indexOf(as[i].getAttribute('data-nav') + '/') === 0;
      if (on) as[i].setAttribute('aria-current', 'page'); else as[i].removeAttribute('aria-current');
    }
  }

  /* ---------- modules loaded on demand: auth.js (sign-in, join) and
   * staff.js (teachers' and admins' pages).  index.html names them in
   * data- attributes of the app.js tag, so the server versions their URLs. */
  var MODS = {}, modReady = {}, pagesCss = null;
  function loadCss() {
    if (pagesCss) return pagesCss;
    pagesCss = new Promise(function (resolve) {
      var tag = document.querySelector('script[data-css]');
      var l = document.createElement('link');
      l.rel = 'stylesheet';
      l.href = tag ? tag.getAttribute('data-css') : '/ui/pages.css';
      // Unstyled is better than nothing: go on even when it fails.
      l.onload = l.onerror = function () { resolve(); };
      document.head.appendChild(l);
    });
    return pagesCss;
  }
  function loadModule(name) {
    if (MODS[name]) return MODS[name];
    var css = loadCss();
    MODS[name] = new Promise(function (resolve, reject) {
      var tag = document.querySelector('script[data-' + name + ']');
      var sc = document.createElement('script');
      modReady[name] = resolve;
      sc.src = tag ? tag.getAttribute('data-' + name) : '/ui/' + name + '.js';
      sc.async = true;
      sc.onerror = function () { delete MODS[name]; sc.parentNode.removeChild(sc); reject(new ApiError(0, 'network', name + '.js')); };
      document.head.appendChild(sc);
    }).then(function (m) { return css.then(function () { return m; }); });
    return MODS[name];
  }

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
    renderFilters(); renderResults(); renderStatus(); renderAcct(); renderMine(); renderRecs();
    if (S.view === 'detail') renderDetail();
    else if (S.view === 'page' && S.page) showPage(S.page, true);
    else document.title = docTitle(S.params.q);
  }
  function docTitle(sub) { return (sub ? sub + ' · ' : '') + 'Cistern · ' + t('tagline'); }

  /* ---------- routing: #/  #/?q=…&subject=…  #/r/<id>  and the pages
   * #/signin  #/join  #/classes  #/classes/<id>  #/upload  #/admin ---------- */
  var PAGES = {
    signin: { mod: 'auth' }, join: { mod: 'auth' },
    classes: { mod: 'staff', roles: ['teacher', 'admin'] }, 'class': { mod: 'staff', roles: ['teacher', 'admin'] },
    upload: { mod: 'staff', roles: ['teacher', 'admin'] }, admin: { mod: 'staff', roles: ['admin'] }
  };
  function parseHash() {
    var h = location.hash.replace(/^#/, '');
    var m = /^\/r\/([^?#]+)/.exec(h);
    if (m) { var id; try { id = decodeURIComponent(m[1]); } catch (e) { id = m[1]; } return { view: 'detail', id: id }; }
    var qi = h.indexOf('?');
    var sp = new URLSearchParams(qi >= 0 ? h.slice(qi + 1) : '');
    var path = qi >= 0 ? h.slice(0, qi) : h;
    m = /^\/(signin|join|classes|upload|admin)(?:\/([^\/]+))?\/?$/.exec(path);
    if (m) {
      var pg = m[1] === 'classes' && m[2] ? 'class' : m[1];
      if (!m[2] || pg === 'class') return { view: 'page', page: pg, id: m[2] ? decodeURIComponent(m[2]) : null, sp: sp, hash: location.hash };
    }
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
  function browsing() { var p = S.params; return !(p.q || p.subject || p.grade || p.language || p.type); }
  function route() {
    var r = parseHash();
    closeSuggest();
    if (flashKeep) flashKeep = false; else flash(null);
    markNav();
    if (S.view === 'home') S.homeScroll = window.pageYOffset || 0;
    if (r.view === 'detail') {
      if (S.view === 'home') S.fromHome = S.key !== null;
      else if (S.view !== 'detail') S.fromHome = false;
      S.view = 'detail';
      $('home').hidden = true; $('page').hidden = true; $('detail').hidden = false;
      clear($('page'));
      loadDetail(r.id);
    } else if (r.view === 'page') {
      S.view = 'page'; S.page = r;
      $('home').hidden = true; $('detail').hidden = true; $('page').hidden = false;
      clear($('detail')); S.detailId = null;
      showPage(r);
    } else {
      var back = S.view === 'detail' || S.view === 'page';
      var wasDetail = S.view === 'detail';
      S.view = 'home';
      $('detail').hidden = true; $('page').hidden = true; $('home').hidden = false;
      clear($('detail')); clear($('page')); S.detailId = null;
      S.params = r.params;
      $('q').value = r.params.q;
      syncFilterValues();
      document.title = docTitle(r.params.q);
      var key = JSON.stringify(r.params);
      if (key !== S.key || S.error) load(false);
      if (back || S.recs === null) homeExtras(); else renderRecs();
      if (wasDetail) {
        window.scrollTo(0, S.homeScroll);
        var link = S.lastOpened && document.querySelector('#results a[data-id="' + cssEsc(S.lastOpened) + '"]');
        if (link) link.focus({ preventScroll: true });
      }
    }
  }

  /* ---------- pages from modules ---------- */
  function showPage(r, relang) {
    var def = PAGES[r.page], box = $('page'), seq = ++S.pageSeq;
    if (!relang) {
      clear(box);
      box.appendChild(el('p', { class: 'muted', role: 'status', text: t('loading') }));
      window.scrollTo(0, 0);
    }
    Promise.all([S.sessionReady, loadModule(def.mod)]).then(function (res) {
      if (seq !== S.pageSeq) return;
      var mod = res[1];
      var snap = relang ? snapshot(box) : null;
      clear(box);
      if (def.roles && def.roles.indexOf(S.session.role) < 0) {
        var h = el('h1', { class: 'p-title', tabindex: '-1', text: t(def.roles.length === 1 ? 'needAdmin' : 'needStaff') });
        box.appendChild(h);
        box.appendChild(el('p', null, [signedIn() ? t('needRoleHint') : el('a', { class: 'btn primary', href: signinHash(), text: t('signIn') })]));
        document.title = docTitle(h.textContent);
        if (!relang) h.focus({ preventScroll: true });
        return;
      }
      mod.page(r, box, { relang: !!relang, live: function () { return seq === S.pageSeq; } });
      if (snap) restore(box, snap);
      var h1 = box.querySelector('h1');
      if (h1) document.title = docTitle(h1.textContent);
      if (h1 && !relang) h1.focus({ preventScroll: true });
    }, function (e) {
      if (seq !== S.pageSeq) return;
      clear(box);
      box.appendChild(errorBox(e, function () { showPage(r); }));
    });
  }
  /* Keep what was typed into a page's fields across a re-render (language switch). */
  function snapshot(box) {
    var v = {}, f = box.querySelectorAll('input[id], select[id], textarea[id]');
    for (var i = 0; i < f.length; i++) {
      if (f[i].type === 'file') continue;
      v[f[i].id] = (f[i].type === 'checkbox' || f[i].type === 'radio') ? f[i].checked : f[i].value;
    }
    return v;
  }
  function restore(box, v) {
    Object.keys(v).forEach(function (id) {
      var f = document.getElementById(id);
      if (!f || !box.contains(f)) return;
      if (f.type === 'checkbox' || f.type === 'radio') f.checked = v[id]; else f.value = v[id];
    });
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
    return get('/api/v1/catalog?' + sp.toString(), listCtl && listCtl.signal).then(function (d) {
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
      // A page inside a resource (an article of a Kiwix archive): opens the page itself.
      var page = r.entry && typeof r.entry.url === 'string' ? r.entry : null;
      var a = page ? el('a', { href: page.url, class: 'r-title', 'data-id': r.id, lang: r.language || null }, [page.title || page.path])
                   : titleEl('a', { href: href, class: 'r-title', 'data-id': r.id }, r);
      a.addEventListener('click', function () { S.lastOpened = r.id; });
      var desc = page ? [null] : loc(r.description, r.language);
      var li = el('li', { class: 'card' + (r.cached === false ? ' uncached' : ''), 'data-id': r.id }, [
        el('h2', { class: 'r-h' }, [a]),
        page ? el('p', { class: 'r-desc' }, [t('pageIn'), titleEl('a', { href: href }, r)]) : null,
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

  /* ---------- home: a student's lessons, and recommendations ---------- */
  var extrasSeq = 0;
  function homeExtras() {
    var seq = ++extrasSeq;
    S.sessionReady.then(function () {
      if (seq !== extrasSeq) return;
      loadMine(seq);
      loadRecs(seq);
    });
  }
  function loadMine(seq) {
    if (S.session.role !== 'student') { S.mine = null; renderMine(); return; }
    get('/api/v1/classes').then(function (d) {
      var k = d && Array.isArray(d.classes) ? d.classes[0] : null;
      if (!k) return { klass: null, lessons: [] };
      return get('/api/v1/classes/' + encodeURIComponent(k.id) + '/lessons').then(function (l) {
        return { klass: k, lessons: Array.isArray(l.lessons) ? l.lessons : [] };
      });
    }).then(function (m) { if (seq === extrasSeq) { S.mine = m; renderMine(); } },
      function (e) { if (seq === extrasSeq) { S.mine = { error: e }; renderMine(); } });
  }
  function renderMine() {
    var box = $('mine'), m = S.mine;
    clear(box);
    box.hidden = !m || S.session.role !== 'student';
    if (box.hidden) return;
    box.appendChild(el('h2', { id: 'mine-h', class: 'sec-h', text: t('myLessons') }));
    if (m.error) { box.appendChild(errorBox(m.error, homeExtras)); return; }
    if (m.klass && m.klass.name) box.appendChild(el('p', { class: 'muted small', text: t('classIs', { c: String(m.klass.name) }) }));
    if (!m.lessons.length) { box.appendChild(el('p', { class: 'empty', text: t('noLessons') })); return; }
    var ul = el('ul', { class: 'lessons' });
    m.lessons.forEach(function (l) {
      var ol = el('ol', { class: 'plist' });
      (Array.isArray(l.resources) ? l.resources : []).forEach(function (r) {
        ol.appendChild(el('li', null, [
          titleEl('a', { href: '#/r/' + encodeURIComponent(r.id), 'data-id': r.id }, r),
          r.cached === false ? el('span', { class: 'badge warn', text: t('notCachedBadge') }) : null
        ]));
      });
      ul.appendChild(el('li', { class: 'lesson-card', 'data-lesson': l.id }, [el('h3', { class: 'l-h', text: String(l.title || '') }), ol]));
    });
    box.appendChild(ul);
  }
  function loadRecs(seq) {
    get('/api/v1/recommendations?limit=8').then(function (d) {
      if (seq !== extrasSeq) return;
      S.recs = d && Array.isArray(d.items) ? d.items : [];
      renderRecs();
    }, function () { if (seq === extrasSeq) { S.recs = []; renderRecs(); } });
  }
  function recList(items, cls) {
    var ul = el('ul', { class: cls });
    items.forEach(function (r) {
      if (!r || !r.id) return;
      var why = loc(r.reason, '');
      ul.appendChild(el('li', { class: 'rec' + (r.cached === false ? ' uncached' : ''), 'data-id': r.id }, [
        titleEl('a', { href: '#/r/' + encodeURIComponent(r.id), class: 'rec-a' }, r),
        why[0] ? el('span', { class: 'rec-why', lang: why[1] || null, text: why[0] }) : null,
        r.cached === false ? el('span', { class: 'badge warn', text: t('notCachedBadge') }) : null
      ]));
    });
    return ul;
  }
  function renderRecs() {
    var box = $('recs');
    clear(box);
    box.hidden = !S.recs || !S.recs.length || !browsing();
    if (box.hidden) return;
    box.appendChild(el('h2', { id: 'recs-h', class: 'sec-h', text: t('recsTitle') }));
    box.appendChild(recList(S.recs, 'recl'));
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
    return get('/api/v1/facets').then(function (d) { S.facets = d; renderFilters(); }, function () { S.facets = null; renderFilters(); });
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
      get('/api/v1/suggest?q=' + encodeURIComponent(q), sug.ctl && sug.ctl.signal).then(function (d) {
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
    S.detailId = id; S.detail = null; S.detailErr = null; S.next = null; S.done = {};
    var box = $('detail');
    clear(box);
    box.appendChild(backLink());
    box.appendChild(el('p', { class: 'muted', role: 'status', text: t('loading') }));
    window.scrollTo(0, 0);
    if (detailCtl) detailCtl.abort();
    detailCtl = window.AbortController ? new AbortController() : null;
    get('/api/v1/resources/' + encodeURIComponent(id), detailCtl && detailCtl.signal).then(function (d) {
      if (S.detailId !== id) return;
      S.detail = d; renderDetail(true);
      if (d.cached !== false) event(id, 'open');
      loadNext(id);
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
    var snap = focus ? null : snapshot(box);
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

    // teachers' tools: request a download, rate or report (staff.js)
    if (isStaff()) {
      var tools = el('div', { id: 'd-staff' });
      box.appendChild(tools);
      loadModule('staff').then(function (m) {
        if (S.detail === d && tools.parentNode === box) { m.resourceTools(tools, d, r); if (snap) restore(tools, snap); }
      }, function () { /* the rest of the page works without it */ });
    }
    box.appendChild(el('section', { id: 'd-next', class: 'block next', hidden: true, 'aria-labelledby': 'h-next' }));
    renderNext();
    if (snap) restore(box, snap);
    if (focus) h1.focus({ preventScroll: true });
  }

  /* ---------- usage events and "what next" ---------- */
  function event(id, kind) {
    if (kind === 'complete') {
      if (S.done[id]) return;
      S.done[id] = true;
    }
    quiet('POST', '/api/v1/events', { resource: id, kind: kind });
  }
  function doneButton(id) {
    var b = el('button', { type: 'button', class: 'btn done-btn', id: 'mark-done' });
    function show() {
      b.textContent = S.done[id] ? '✓ ' + t('doneMarked') : t('markDone');
      b.disabled = !!S.done[id];
    }
    b.addEventListener('click', function () { event(id, 'complete'); show(); });
    show();
    return b;
  }
  function loadNext(id) {
    get('/api/v1/recommendations?limit=4&after=' + encodeURIComponent(id)).then(function (d) {
      if (S.detailId !== id) return;
      S.next = { id: id, items: d && Array.isArray(d.items) ? d.items.filter(function (x) { return x && x.id !== id; }) : [] };
      renderNext();
    }, function () { /* no recommendations: show nothing */ });
  }
  function renderNext() {
    var box = $('d-next');
    if (!box) return;
    clear(box);
    var n = S.next;
    box.hidden = !n || n.id !== S.detailId || !n.items.length;
    if (box.hidden) return;
    box.appendChild(el('h2', { id: 'h-next', text: t('whatNext') }));
    box.appendChild(recList(n.items, 'recl'));
  }

  function preview(r, url, mime, base) {
    var wrap = el('section', { class: 'preview', 'aria-label': t('preview') });
    function ended() { event(r.id, 'complete'); var b = $('mark-done'); if (b) { b.textContent = '✓ ' + t('doneMarked'); b.disabled = true; } }
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
      v.addEventListener('ended', ended);
      wrap.appendChild(el('div', { class: 'media' }, [v]));
      actions.appendChild(el('a', { class: 'btn', href: url, download: fname, text: t('download') }));
    } else if (type === 'audio') {
      var au = el('audio', { controls: true, preload: 'metadata', src: url, 'aria-label': tl });
      au.addEventListener('error', mediaFail);
      au.addEventListener('ended', ended);
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
    if (signedIn()) actions.appendChild(doneButton(r.id));
    wrap.appendChild(actions);
    return wrap;
  }
  function isMobile() {
    if (navigator.userAgentData && typeof navigator.userAgentData.mobile === 'boolean') return navigator.userAgentData.mobile;
    return /Android|iPhone|iPad|Mobile/i.test(navigator.userAgent);
  }

  /* ---------- status footer ---------- */
  function loadStatus() {
    get('/api/v1/status').then(function (d) { S.status = d; S.statusErr = false; renderStatus(); },
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
    S.sessionReady = loadSession();
    renderAcct();
    loadFacets();
    loadStatus();
    route();
  }
  /* What the on-demand modules (auth.js, staff.js) may use. */
  window.Cistern = {
    define: function (name, factory) {
      var m = factory(C);
      if (modReady[name]) modReady[name](m);
    }
  };
  var C = {
    $: $, el: el, clear: clear, t: t, name: name, loc: loc, titleEl: titleEl, badges: badges,
    gradeOne: gradeOne, size: size, api: api, get: get, errorBox: errorBox, errText: errText,
    go: go, flash: flash, setSession: setSession, signinHash: signinHash, docTitle: docTitle,
    session: function () { return S.session; }, facets: function () { return S.facets; },
    lang: function () { return lang; },
    names: function (kind) { return Object.keys(NAMES[lang][kind] || {}); },
    strings: function (add) {
      // A module adds strings; it never replaces one.
      Object.keys(add).forEach(function (l) { if (STR[l]) Object.keys(add[l]).forEach(function (k) { if (!(k in STR[l])) STR[l][k] = add[l][k]; }); });
    }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
