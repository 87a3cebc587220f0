/* Cistern web UI: signing in and joining a class.  Loaded on demand by
 * app.js.  Plain ES2017; user text only ever through textContent. */
Cistern.define('auth', function (C) {
  'use strict';
  var el = C.el, t = C.t;

  C.strings({
    zh: {
      signInTitle: '登录', tabStaff: '教师 / 管理员', tabStudent: '学生',
      staffName: '用户名', password: '密码', classCode: '班级代码', yourName: '你的名字',
      secretKind: '你用什么登录？', usePictures: '图片密码', usePin: '数字密码',
      pin: '数字密码（4 到 6 位数字）', pinAgain: '再输一次数字密码',
      pickPictures: '按顺序点 2 到 3 张图片', picked: '已选：{p}', pickedNone: '还没有选图片',
      undo: '退一步', clearPics: '重新选', pic: '图片：{p}',
      doSignIn: '登录', doJoin: '加入班级', joinTitle: '加入班级', joinLink: '第一次来？加入班级',
      signInLink: '已经加入过？登录', joinHint: '向老师要班级代码。',
      busy: '请稍候…', alreadyIn: '你已经以 {n}（{r}）的身份登录。',
      errStaff401: '用户名或密码不对。', errStudent401: '班级代码、名字或密码不对。',
      errJoin404: '没有这个班级代码，请问问老师。', errJoin409: '班里已经有人用这个名字了。可以加上姓氏或请老师帮忙。',
      needName: '请填写名字。', needPassword: '请填写密码。', needCode: '请填写班级代码。',
      needPin: '数字密码要 4 到 6 位数字。', pinMismatch: '两次输入的数字密码不一样。',
      needPics: '请按顺序选 2 到 3 张图片。',
      welcome: '欢迎你，{n}！', rememberPics: '请记住你的图片密码：{p}',
      p_cat: '猫', p_dog: '狗', p_fish: '鱼', p_bird: '鸟', p_sun: '太阳', p_moon: '月亮',
      p_star: '星星', p_tree: '树', p_flower: '花', p_apple: '苹果', p_car: '汽车', p_boat: '船'
    },
    en: {
      signInTitle: 'Sign in', tabStaff: 'Staff', tabStudent: 'Student',
      staffName: 'Name', password: 'Password', classCode: 'Class code', yourName: 'Your name',
      secretKind: 'How do you sign in?', usePictures: 'Picture password', usePin: 'PIN',
      pin: 'PIN (4 to 6 digits)', pinAgain: 'PIN again',
      pickPictures: 'Tap 2 or 3 pictures, in order', picked: 'Chosen: {p}', pickedNone: 'No pictures chosen yet',
      undo: 'Undo', clearPics: 'Start again', pic: 'Picture: {p}',
      doSignIn: 'Sign in', doJoin: 'Join the class', joinTitle: 'Join a class', joinLink: 'New here? Join a class',
      signInLink: 'Joined before? Sign in', joinHint: 'Ask your teacher for the class code.',
      busy: 'Please wait…', alreadyIn: 'You are signed in as {n} ({r}).',
      errStaff401: 'The name or password is wrong.', errStudent401: 'The class code, name or secret is wrong.',
      errJoin404: 'There is no class with this code. Please ask your teacher.', errJoin409: 'Someone in the class already has this name. Add your family name, or ask your teacher.',
      needName: 'Please fill in the name.', needPassword: 'Please fill in the password.', needCode: 'Please fill in the class code.',
      needPin: 'The PIN must be 4 to 6 digits.', pinMismatch: 'The two PINs are not the same.',
      needPics: 'Please choose 2 or 3 pictures, in order.',
      welcome: 'Welcome, {n}!', rememberPics: 'Remember your picture password: {p}',
      p_cat: 'cat', p_dog: 'dog', p_fish: 'fish', p_bird: 'bird', p_sun: 'sun', p_moon: 'moon',
      p_star: 'star', p_tree: 'tree', p_flower: 'flower', p_apple: 'apple', p_car: 'car', p_boat: 'boat'
    }
  });

  /* The twelve pictures, drawn as small inline SVG so that they look the
   * same on every device (old PCs often have no colour emoji font).  The
   * secret is their names joined by '-'. */
  var K = '#26343a';
  var PICS = [
    ['cat', [['path', { d: 'M8 17 9 4l9 8h4l9-8 1 13z', fill: '#f0a04b' }], ['circle', { cx: 20, cy: 23, r: 12, fill: '#f0a04b' }],
      ['circle', { cx: 15, cy: 21, r: 1.8, fill: K }], ['circle', { cx: 25, cy: 21, r: 1.8, fill: K }], ['path', { d: 'M18.5 26h3L20 28z', fill: '#c0392b' }],
      ['path', { d: 'M5 25h9M5 29h9M26 25h9M26 29h9', stroke: K, 'stroke-width': 0.9 }]]],
    ['dog', [['ellipse', { cx: 20, cy: 22, rx: 11, ry: 12, fill: '#c48a55' }], ['ellipse', { cx: 9, cy: 18, rx: 4, ry: 9, fill: '#6b4226' }],
      ['ellipse', { cx: 31, cy: 18, rx: 4, ry: 9, fill: '#6b4226' }], ['circle', { cx: 16, cy: 20, r: 1.8, fill: K }], ['circle', { cx: 24, cy: 20, r: 1.8, fill: K }],
      ['ellipse', { cx: 20, cy: 27, rx: 3, ry: 2.2, fill: K }], ['path', { d: 'M17 31q3 2 6 0', stroke: K, fill: 'none', 'stroke-width': 1.2 }]]],
    ['fish', [['path', { d: 'M27 20 37 12v16z', fill: '#2b86c5' }], ['ellipse', { cx: 17, cy: 20, rx: 13, ry: 8.5, fill: '#3aa0d8' }],
      ['circle', { cx: 10, cy: 18, r: 1.8, fill: K }], ['path', { d: 'M16 14q4 6 0 12', stroke: '#1f6d9e', fill: 'none', 'stroke-width': 1.2 }]]],
    ['bird', [['path', { d: 'M8 21 1 15l2 11z', fill: '#2f6fb0' }], ['ellipse', { cx: 18, cy: 23, rx: 12, ry: 8, fill: '#4a90d9' }],
      ['circle', { cx: 29, cy: 15, r: 6, fill: '#4a90d9' }], ['path', { d: 'M34 13l5 2.5-5 2.5z', fill: '#f5a623' }], ['circle', { cx: 30, cy: 14, r: 1.3, fill: K }],
      ['path', { d: 'M10 22q8-9 15 0z', fill: '#2f6fb0' }], ['path', { d: 'M16 31v5M21 31v5', stroke: '#f5a623', 'stroke-width': 1.5 }]]],
    ['sun', [['path', { d: 'M20 2v7M20 31v7M2 20h7M31 20h7M7 7l5 5M28 28l5 5M7 33l5-5M28 12l5-5', stroke: '#f5a300', 'stroke-width': 3, 'stroke-linecap': 'round' }],
      ['circle', { cx: 20, cy: 20, r: 8.5, fill: '#f7c21a' }]]],
    ['moon', [['path', { d: 'M25 5a15 15 0 1 0 10 25A12.5 12.5 0 0 1 25 5z', fill: '#f0c419' }]]],
    ['star', [['path', { d: 'M20 3l5 10.6 11.5 1.4-8.5 7.9 2.3 11.5L20 28.7l-10.3 5.7L12 22.9 3.5 15 15 13.6z', fill: '#f5a623' }]]],
    ['tree', [['rect', { x: 17, y: 25, width: 6, height: 12, fill: '#8b5a2b' }], ['circle', { cx: 20, cy: 15, r: 12, fill: '#2e9e44' }],
      ['circle', { cx: 15, cy: 12, r: 3, fill: '#45b85b' }]]],
    ['flower', [['path', { d: 'M20 22v15M20 31q-6-5-9-2', stroke: '#2e9e44', 'stroke-width': 2.5, fill: 'none' }],
      ['circle', { cx: 20, cy: 7, r: 5, fill: '#e9559b' }], ['circle', { cx: 27.5, cy: 12.5, r: 5, fill: '#e9559b' }], ['circle', { cx: 24.5, cy: 21, r: 5, fill: '#e9559b' }],
      ['circle', { cx: 15.5, cy: 21, r: 5, fill: '#e9559b' }], ['circle', { cx: 12.5, cy: 12.5, r: 5, fill: '#e9559b' }], ['circle', { cx: 20, cy: 15, r: 4, fill: '#f7c21a' }]]],
    ['apple', [['path', { d: 'M20 12c-4-3-13-2-13 9 0 8 7 17 13 13 6 4 13-5 13-13 0-11-9-12-13-9z', fill: '#d93b30' }],
      ['path', { d: 'M20 12q0-5 3-8', stroke: '#6b4226', 'stroke-width': 2, fill: 'none' }], ['path', { d: 'M22 9q5-5 9-2-4 5-9 2z', fill: '#2e9e44' }]]],
    ['car', [['path', { d: 'M11 21l4-8h11l5 8z', fill: '#9cc9f0' }], ['path', { d: 'M3 21h34v9H3z', fill: '#2f7de1' }],
      ['circle', { cx: 11, cy: 31, r: 4.5, fill: K }], ['circle', { cx: 29, cy: 31, r: 4.5, fill: K }], ['circle', { cx: 11, cy: 31, r: 1.5, fill: '#ccc' }],
      ['circle', { cx: 29, cy: 31, r: 1.5, fill: '#ccc' }]]],
    ['boat', [['path', { d: 'M20 4v24', stroke: '#6b4226', 'stroke-width': 2 }], ['path', { d: 'M22 6v19h12z', fill: '#f26b3a' }], ['path', { d: 'M18 10v15H9z', fill: '#f7c21a' }],
      ['path', { d: 'M3 27h34l-6 8H9z', fill: '#8b5a2b' }], ['path', { d: 'M2 37q4-2 8 0t8 0 8 0 8 0 4 0', stroke: '#3aa0d8', 'stroke-width': 1.5, fill: 'none' }]]]
  ];
  var NS = 'http://www.w3.org/2000/svg';
  var SHAPES = {};
  PICS.forEach(function (p) { SHAPES[p[0]] = p[1]; });
  function picture(name, cls) {
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 40 40');
    svg.setAttribute('class', cls || 'pic-i');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    (SHAPES[name] || []).forEach(function (s) {
      var e = document.createElementNS(NS, s[0]);
      Object.keys(s[1]).forEach(function (k) { e.setAttribute(k, String(s[1][k])); });
      svg.appendChild(e);
    });
    return svg;
  }

  // Survives re-rendering on a language switch.
  var st = { tab: null, kind: { signin: 'pictures', join: 'pictures' }, seq: { signin: [], join: [] }, msg: {} };
  try { st.tab = localStorage.getItem('cistern.signinTab'); } catch (e) { /* ignore */ }
  function savedCode() { try { return localStorage.getItem('cistern.class') || ''; } catch (e) { return ''; } }

  function field(id, label, attrs, hint) {
    var input = el('input', Object.assign({ id: id, name: id }, attrs || {}));
    return el('div', { class: 'fld' }, [
      el('label', { for: id, text: label }),
      hint ? el('p', { class: 'hint', id: id + '-hint', text: hint }) : null,
      input
    ]);
  }
  function msgBox(id) { return el('div', { id: id, class: 'form-msg', role: 'alert' }); }
  function showMsg(box, text, kind) {
    C.clear(box);
    if (text) box.appendChild(el('p', { class: 'notice ' + (kind || 'error'), text: text }));
  }
  function picsText(seq) { return seq.map(function (n) { return t('p_' + n); }).join(' → '); }

  /* The picture-password picker.  `which` keys its sequence in st.seq. */
  function picker(which) {
    var seq = st.seq[which];
    var wrap = el('fieldset', { class: 'pics', id: which + '-pics' });
    wrap.appendChild(el('legend', { text: t('pickPictures') }));
    var slots = el('ol', { class: 'pic-slots', 'aria-hidden': 'true' });
    var live = el('p', { class: 'pic-live', 'aria-live': 'polite', id: which + '-picked' });
    var grid = el('div', { class: 'pic-grid' });
    function show() {
      C.clear(slots);
      for (var i = 0; i < 3; i++) {
        var n = seq[i];
        slots.appendChild(el('li', { class: 'pic-slot' + (n ? ' on' : '') }, [n ? picture(n) : String(i + 1)]));
      }
      live.textContent = seq.length ? t('picked', { p: seq.map(function (n) { return t('p_' + n); }).join(', ') }) : t('pickedNone');
      var bs = grid.querySelectorAll('button');
      for (i = 0; i < bs.length; i++) bs[i].setAttribute('aria-disabled', String(seq.length >= 3));
      undo.disabled = again.disabled = !seq.length;
    }
    PICS.forEach(function (p) {
      grid.appendChild(el('button', {
        type: 'button', class: 'pic', 'data-pic': p[0], 'aria-label': t('pic', { p: t('p_' + p[0]) }),
        onclick: function () { if (seq.length < 3) { seq.push(p[0]); show(); } }
      }, [picture(p[0]), el('span', { class: 'pic-n', text: t('p_' + p[0]) })]));
    });
    var undo = el('button', { type: 'button', class: 'btn small-btn', text: t('undo'), onclick: function () { seq.pop(); show(); } });
    var again = el('button', { type: 'button', class: 'btn small-btn', text: t('clearPics'), onclick: function () { seq.length = 0; show(); grid.querySelector('button').focus(); } });
    wrap.appendChild(el('div', { class: 'pic-top' }, [slots, el('span', { class: 'pic-tools' }, [undo, again])]));
    wrap.appendChild(live);
    wrap.appendChild(grid);
    show();
    return wrap;
  }

  /* PIN or pictures, for sign-in and join. */
  function secretPart(which, confirm) {
    var box = el('div', { class: 'secret' });
    var kinds = el('fieldset', { class: 'kinds' }, [el('legend', { text: t('secretKind') })]);
    [['pictures', 'usePictures'], ['pin', 'usePin']].forEach(function (k) {
      var id = which + '-kind-' + k[0];
      var r = el('input', { type: 'radio', name: which + '-kind', id: id, value: k[0], checked: st.kind[which] === k[0] });
      r.addEventListener('change', function () { if (r.checked) { st.kind[which] = k[0]; draw(); } });
      kinds.appendChild(el('span', { class: 'radio' }, [r, el('label', { for: id, text: t(k[1]) })]));
    });
    var body = el('div');
    function draw() {
      C.clear(body);
      if (st.kind[which] === 'pin') {
        var pa = { type: 'password', inputmode: 'numeric', pattern: '[0-9]*', maxlength: '6', autocomplete: 'off', required: true };
        body.appendChild(field(which + '-pin', t('pin'), pa));
        if (confirm) body.appendChild(field(which + '-pin2', t('pinAgain'), pa));
      } else body.appendChild(picker(which));
    }
    box.appendChild(kinds);
    box.appendChild(body);
    draw();
    return box;
  }
  function secretValue(which, confirm) {
    if (st.kind[which] === 'pin') {
      var pin = C.$(which + '-pin').value.trim();
      if (!/^[0-9]{4,6}$/.test(pin)) return { err: t('needPin'), focus: which + '-pin' };
      if (confirm && C.$(which + '-pin2').value.trim() !== pin) return { err: t('pinMismatch'), focus: which + '-pin2' };
      return { value: pin };
    }
    var seq = st.seq[which];
    if (seq.length < 2 || seq.length > 3) return { err: t('needPics'), focus: null, pics: which };
    return { value: seq.join('-') };
  }

  function busy(form, on) {
    var b = form.querySelector('button[type="submit"]');
    if (!b) return;
    if (on) { b.setAttribute('data-label', b.textContent); b.textContent = t('busy'); b.disabled = true; }
    else { b.textContent = b.getAttribute('data-label') || b.textContent; b.disabled = false; }
  }
  function fail(box, text, focusId) {
    showMsg(box, text);
    var f = focusId && C.$(focusId);
    if (f) f.focus();
  }
  function afterSignIn(d, next, note) {
    C.setSession(d);
    var role = d && d.role;
    var dest = next && /^#\//.test(next) && !/^#\/(signin|join)/.test(next) ? next : (role === 'teacher' || role === 'admin') ? '#/classes' : '#/';
    C.go(dest);
    C.flash(note || t('welcome', { n: d && d.user && d.user.name ? String(d.user.name) : '' }));
  }
  function rememberCode(code) { try { localStorage.setItem('cistern.class', code); } catch (e) { /* ignore */ } }

  /* ---------- #/signin ---------- */
  function signinPage(r, box) {
    var s = C.session();
    var next = r.sp.get('next') || '';
    box.appendChild(el('h1', { class: 'p-title', tabindex: '-1', text: t('signInTitle') }));
    if (s.role !== 'guest') {
      box.appendChild(el('p', { class: 'notice ok', text: t('alreadyIn', { n: String(s.user && s.user.name || ''), r: t('role_' + s.role) }) }));
    }
    var tab = st.tab === 'staff' ? 'staff' : 'student';
    var tl = el('div', { class: 'tabs', role: 'tablist', 'aria-label': t('signInTitle') });
    var panels = {};
    var tabs = {};
    [['student', 'tabStudent'], ['staff', 'tabStaff']].forEach(function (x) {
      var b = el('button', {
        type: 'button', role: 'tab', id: 'tab-' + x[0], class: 'tab', 'aria-controls': 'panel-' + x[0],
        'aria-selected': String(tab === x[0]), tabindex: tab === x[0] ? '0' : '-1', text: t(x[1])
      });
      b.addEventListener('click', function () { pick(x[0], true); });
      b.addEventListener('keydown', function (e) {
        if (['ArrowLeft', 'ArrowRight', 'Left', 'Right', 'Home', 'End'].indexOf(e.key) < 0) return;
        e.preventDefault();
        pick(tab === 'student' ? 'staff' : 'student', true);
      });
      tabs[x[0]] = b;
      tl.appendChild(b);
    });
    function pick(which, focus) {
      tab = st.tab = which;
      try { localStorage.setItem('cistern.signinTab', which); } catch (e) { /* ignore */ }
      Object.keys(tabs).forEach(function (k) {
        tabs[k].setAttribute('aria-selected', String(k === which));
        tabs[k].tabIndex = k === which ? 0 : -1;
        panels[k].hidden = k !== which;
      });
      if (focus) tabs[which].focus();
    }
    box.appendChild(tl);

    // Student panel
    var sm = msgBox('student-msg');
    var sf = el('form', { class: 'form', id: 'student-form', novalidate: true }, [
      field('s-code', t('classCode'), { autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', value: savedCode(), required: true }),
      field('s-name', t('yourName'), { autocomplete: 'off', required: true }),
      secretPart('signin', false),
      sm,
      el('p', { class: 'form-actions' }, [el('button', { type: 'submit', class: 'btn primary', text: t('doSignIn') })])
    ]);
    sf.addEventListener('submit', function (e) {
      e.preventDefault();
      var code = C.$('s-code').value.trim(), nm = C.$('s-name').value.trim();
      if (!code) return fail(sm, t('needCode'), 's-code');
      if (!nm) return fail(sm, t('needName'), 's-name');
      var sec = secretValue('signin', false);
      if (sec.err) return fail(sm, sec.err, sec.focus);
      showMsg(sm, null);
      busy(sf, true);
      C.api('POST', '/api/v1/login', { 'class': code, name: nm, password: sec.value }).then(function (d) {
        rememberCode(code);
        st.seq.signin.length = 0;
        afterSignIn(d, next);
      }, function (err) {
        busy(sf, false);
        fail(sm, err.status === 401 ? t('errStudent401') : C.errText(err), null);
      });
    });
    panels.student = el('div', { role: 'tabpanel', id: 'panel-student', 'aria-labelledby': 'tab-student', class: 'panel' }, [
      sf, el('p', { class: 'alt-link' }, [el('a', { href: '#/join', id: 'join-link', text: t('joinLink') })])
    ]);

    // Staff panel
    var tm = msgBox('staff-msg');
    var tf = el('form', { class: 'form', id: 'staff-form', novalidate: true }, [
      field('t-name', t('staffName'), { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true }),
      field('t-pass', t('password'), { type: 'password', autocomplete: 'current-password', required: true }),
      tm,
      el('p', { class: 'form-actions' }, [el('button', { type: 'submit', class: 'btn primary', text: t('doSignIn') })])
    ]);
    tf.addEventListener('submit', function (e) {
      e.preventDefault();
      var nm = C.$('t-name').value.trim(), pw = C.$('t-pass').value;
      if (!nm) return fail(tm, t('needName'), 't-name');
      if (!pw) return fail(tm, t('needPassword'), 't-pass');
      showMsg(tm, null);
      busy(tf, true);
      C.api('POST', '/api/v1/login', { name: nm, password: pw }).then(function (d) {
        afterSignIn(d, next);
      }, function (err) {
        busy(tf, false);
        C.$('t-pass').value = '';
        fail(tm, err.status === 401 ? t('errStaff401') : C.errText(err), err.status === 401 ? 't-pass' : null);
      });
    });
    panels.staff = el('div', { role: 'tabpanel', id: 'panel-staff', 'aria-labelledby': 'tab-staff', class: 'panel' }, [tf]);
    box.appendChild(panels.student);
    box.appendChild(panels.staff);
    pick(tab, false);
  }

  /* ---------- #/join ---------- */
  function joinPage(r, box) {
    box.appendChild(el('h1', { class: 'p-title', tabindex: '-1', text: t('joinTitle') }));
    box.appendChild(el('p', { class: 'muted', text: t('joinHint') }));
    var m = msgBox('join-msg');
    var f = el('form', { class: 'form', id: 'join-form', novalidate: true }, [
      field('j-code', t('classCode'), { autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', value: r.sp.get('code') || savedCode(), required: true }),
      field('j-name', t('yourName'), { autocomplete: 'off', required: true }),
      secretPart('join', true),
      m,
      el('p', { class: 'form-actions' }, [el('button', { type: 'submit', class: 'btn primary', text: t('doJoin') })])
    ]);
    f.addEventListener('submit', function (e) {
      e.preventDefault();
      var code = C.$('j-code').value.trim(), nm = C.$('j-name').value.trim();
      if (!code) return fail(m, t('needCode'), 'j-code');
      if (!nm) return fail(m, t('needName'), 'j-name');
      var sec = secretValue('join', true);
      if (sec.err) return fail(m, sec.err, sec.focus);
      showMsg(m, null);
      busy(f, true);
      var pics = st.kind.join === 'pictures' ? st.seq.join.slice() : null;
      C.api('POST', '/api/v1/join', { 'class': code, name: nm, password: sec.value }).then(function (d) {
        rememberCode(code);
        st.seq.join.length = 0;
        var note = t('welcome', { n: nm }) + (pics ? ' ' + t('rememberPics', { p: picsText(pics) }) : '');
        afterSignIn(d, '#/', note);
      }, function (err) {
        busy(f, false);
        var text = err.status === 404 ? t('errJoin404') : err.status === 409 ? t('errJoin409') : C.errText(err);
        fail(m, text, err.status === 404 ? 'j-code' : err.status === 409 ? 'j-name' : null);
      });
    });
    box.appendChild(f);
    box.appendChild(el('p', { class: 'alt-link' }, [el('a', { href: '#/signin', text: t('signInLink') })]));
  }

  return {
    page: function (r, box) {
      if (r.page === 'join') joinPage(r, box);
      else signinPage(r, box);
    }
  };
});
