/* Cistern web UI: the teachers' and admins' pages (classes, students and
 * consent, lessons, class reports, uploads, users, device settings) and the
 * teachers' tools on a resource page.  Loaded on demand by app.js.
 * Plain ES2017; names, titles and comments only ever through textContent. */
Cistern.define('staff', function (C) {
  'use strict';
  var el = C.el, t = C.t, clear = C.clear;

  C.strings({
    zh: {
      needName: '请填写名字。', noClass: '找不到这个班级。',
      classesTitle: '我的班级', className: '班级名称', classCode: '班级代码', students: '学生人数',
      newClass: '新建班级', create: '创建', noClasses: '还没有班级。先新建一个吧。',
      created: '已创建班级“{n}”。班级代码：{c}', needClassName: '请填写班级名称。',
      allClasses: '← 我的班级', codeHint: '学生在“加入班级”页面输入这个代码加入。',
      studentsTitle: '学生', stName: '名字', consent: '监护人同意', consentFor: '{n} 的监护人已同意记录学习情况',
      yes: '已同意', no: '未同意', remove: '移除', noStudents: '还没有学生加入。',
      confirmRemove: '移除 {n} 以及其全部学习数据？此操作无法撤销。', confirmYes: '确认移除', cancel: '取消',
      removed: '已移除 {n}。', consentNote: '没有监护人同意，系统不会记录该学生的任何学习情况。',
      lessonsTitle: '课程', newLesson: '新建课程', lessonTitle: '课程名称', noLessonsT: '还没有课程。',
      findRes: '查找资源', add: '加入', added: '已加入', chosen: '课程中的资源（按顺序）', noneChosen: '还没有选资源。',
      up: '上移', down: '下移', moveUp: '上移：{t}', moveDown: '下移：{t}', removeRes: '移除：{t}',
      save: '保存', saved: '已保存。', deleteLesson: '删除课程', confirmDelLesson: '删除课程“{t}”？',
      confirmDel: '确认删除', lessonDeleted: '已删除课程。', needLessonTitle: '请填写课程名称。', needRes: '请至少选一个资源。',
      noResults: '没有找到。', searchFirst: '输入关键词后点“查找”。', find: '查找',
      nextTitle: '每位学生的下一步', nextNote: '根据学生的学习记录推荐（只有监护人已同意的学生才有记录）。', noNext: '还没有推荐。', 
      reportTitle: '班级使用情况', reportNote: '此表只显示人数，从不显示是谁。只统计监护人已同意的学生（{c} / {n} 人）。',
      resource: '资源', openedBy: '打开过的人数', completedBy: '完成的人数', noReport: '还没有记录。', refresh: '刷新',
      forTeachers: '教师工具', requestDl: '请求下载', requested: '已请求：下次同步时会优先下载。', alreadyCached: '此资源已经缓存在本设备上。',
      rateReport: '评分 / 报告问题', rating: '评分', stars: '{n} 星', noRating: '不评分',
      reportKind: '问题类型', rNone: '没有问题', r_broken: '无法打开或损坏', 'r_wrong-grade': '年级不对',
      'r_content-error': '内容有错误', r_other: '其他', comment: '说明（可不填）', send: '发送',
      thanks: '谢谢！已记录，会在下次同步时发给省平台。', needRateOrReport: '请评分或选择问题类型。',
      uploadTitle: '上传本校资源', title: '标题', description: '简介', gradesLabel: '年级',
      unset: '（不填）', chooseFiles: '选择文件', chooseFolder: '或选择整个文件夹（网页课件）',
      entry: '打开哪个文件', forward: '提交给省平台审核，供其他学校使用', upload: '上传', uploading: '正在上传…',
      tooBig: '文件太大：共 {s}。每次最多上传约 {m}（请求上限 16 MiB）。', needTitle: '请填写标题。', needFiles: '请选择至少一个文件。',
      uploaded: '已上传。', openNew: '打开新资源', filesTotal: '共 {n} 个文件，{s}', readFail: '无法读取文件：{f}',
      adminTitle: '设备管理', usersTitle: '账号', uName: '名字', uRole: '角色', uClass: '班级', you: '（你）',
      addUser: '添加教师或管理员', uPassword: '密码（至少 8 个字符）', addBtn: '添加', userAdded: '已添加 {n}。',
      needPw: '密码至少 8 个字符。', confirmRemoveUser: '删除账号 {n}？', userRemoved: '已删除账号 {n}。', nameTaken: '这个名字已被使用。',
      settingsTitle: '设备设置', saveSettings: '保存设置', settingsSaved: '设置已保存。', noChange: '没有修改。',
      'set_keep.subjects': '保留哪些学科（用逗号分隔，留空为全部）', 'set_keep.grades': '保留哪些年级（如 1-6，留空为全部）',
      'set_keep.languages': '保留哪些语言（如 zh,bo，留空为全部）', 'set_storage.quota': '存储上限（如 20G）',
      'set_sync.window': '允许联网同步的时段（如 22:00-06:00）', 'set_sync.interval': '同步间隔', 'set_sync.max_rate': '同步最大速率（如 256k）',
      'set_privacy.retention_days': '学习记录保留天数', 'set_outbox.epsilon': '上报使用情况的隐私噪声 ε',
      'set_hub.url': '省平台地址（URL）', unsetDefault: '未设置：使用默认值'
    },
    en: {
      needName: 'Please fill in the name.', noClass: 'This class was not found.',
      classesTitle: 'My classes', className: 'Class name', classCode: 'Class code', students: 'Students',
      newClass: 'New class', create: 'Create', noClasses: 'No classes yet. Create one first.',
      created: 'Class “{n}” created. Class code: {c}', needClassName: 'Please fill in the class name.',
      allClasses: '← My classes', codeHint: 'Students enter this code on the “Join a class” page.',
      studentsTitle: 'Students', stName: 'Name', consent: 'Guardian consent', consentFor: 'Guardian of {n} agrees to recording learning',
      yes: 'agreed', no: 'not yet', remove: 'Remove', noStudents: 'No students have joined yet.',
      confirmRemove: 'Remove {n} and all their learning data? This cannot be undone.', confirmYes: 'Yes, remove', cancel: 'Cancel',
      removed: '{n} was removed.', consentNote: 'Without a guardian’s consent, nothing about a student’s learning is recorded.',
      lessonsTitle: 'Lessons', newLesson: 'New lesson', lessonTitle: 'Lesson title', noLessonsT: 'No lessons yet.',
      findRes: 'Find resources', add: 'Add', added: 'Added', chosen: 'Resources in the lesson (in order)', noneChosen: 'No resources chosen yet.',
      up: 'Up', down: 'Down', moveUp: 'Move up: {t}', moveDown: 'Move down: {t}', removeRes: 'Remove: {t}',
      save: 'Save', saved: 'Saved.', deleteLesson: 'Delete lesson', confirmDelLesson: 'Delete the lesson “{t}”?',
      confirmDel: 'Yes, delete', lessonDeleted: 'The lesson was deleted.', needLessonTitle: 'Please fill in the lesson title.', needRes: 'Please choose at least one resource.',
      noResults: 'Nothing found.', searchFirst: 'Type a word and press “Find”.', find: 'Find',
      nextTitle: 'What next for each student', nextNote: 'Suggested from each student’s own learning record (kept only for students whose guardian agreed).', noNext: 'No suggestions yet.',
      reportTitle: 'Class report', reportNote: 'This table shows counts only, never who. Only students whose guardian agreed are counted ({c} of {n}).',
      resource: 'Resource', openedBy: 'Opened by', completedBy: 'Completed by', noReport: 'Nothing recorded yet.', refresh: 'Refresh',
      forTeachers: 'Teacher tools', requestDl: 'Request download', requested: 'Requested: it will be fetched first at the next sync.', alreadyCached: 'This resource is already cached on this device.',
      rateReport: 'Rate / report a problem', rating: 'Rating', stars: '{n} stars', noRating: 'No rating',
      reportKind: 'Problem', rNone: 'No problem', r_broken: 'Broken or will not open', 'r_wrong-grade': 'Wrong grade',
      'r_content-error': 'Error in the content', r_other: 'Other', comment: 'Comment (optional)', send: 'Send',
      thanks: 'Thank you. It is recorded and goes to the hub at the next sync.', needRateOrReport: 'Please give a rating or choose a problem.',
      uploadTitle: 'Upload a school resource', title: 'Title', description: 'Description', gradesLabel: 'Grades',
      unset: '(none)', chooseFiles: 'Choose files', chooseFolder: 'Or choose a whole folder (web lessons)',
      entry: 'File to open', forward: 'Put forward to the hub for review, for other schools', upload: 'Upload', uploading: 'Uploading…',
      tooBig: 'The files are too large: {s} in total. At most about {m} can be uploaded at once (16 MiB per request).', needTitle: 'Please fill in the title.', needFiles: 'Please choose at least one file.',
      uploaded: 'Uploaded.', openNew: 'Open the new resource', filesTotal: '{n} files, {s}', readFail: 'Could not read the file {f}',
      adminTitle: 'Device admin', usersTitle: 'Accounts', uName: 'Name', uRole: 'Role', uClass: 'Class', you: '(you)',
      addUser: 'Add a teacher or admin', uPassword: 'Password (at least 8 characters)', addBtn: 'Add', userAdded: '{n} was added.',
      needPw: 'The password needs at least 8 characters.', confirmRemoveUser: 'Delete the account {n}?', userRemoved: 'The account {n} was deleted.', nameTaken: 'This name is already used.',
      settingsTitle: 'Device settings', saveSettings: 'Save settings', settingsSaved: 'Settings saved.', noChange: 'Nothing was changed.',
      'set_keep.subjects': 'Subjects to keep (comma-separated; empty for all)', 'set_keep.grades': 'Grades to keep (e.g. 1-6; empty for all)',
      'set_keep.languages': 'Languages to keep (e.g. zh,bo; empty for all)', 'set_storage.quota': 'Storage quota (e.g. 20G)',
      'set_sync.window': 'Hours when the link may be used (e.g. 22:00-06:00)', 'set_sync.interval': 'Time between syncs', 'set_sync.max_rate': 'Most bandwidth a sync may use (e.g. 256k)',
      'set_privacy.retention_days': 'Days learning records are kept', 'set_outbox.epsilon': 'Privacy noise ε for usage reports',
      'set_hub.url': 'Hub address (URL)', unsetDefault: 'not set: the default applies'
    }
  });

  /* ---------- small helpers ---------- */
  function h1(text) { return el('h1', { class: 'p-title', tabindex: '-1', text: text }); }
  function field(id, label, input, hint) {
    input.id = id;
    if (!input.name) input.name = id;
    if (hint) input.setAttribute('aria-describedby', id + '-hint');
    return el('div', { class: 'fld' }, [el('label', { for: id, text: label }), hint ? el('p', { class: 'hint', id: id + '-hint', text: hint }) : null, input]);
  }
  function msg(box, text, kind) {
    clear(box);
    if (text) box.appendChild(el('p', { class: 'notice ' + (kind || 'error'), text: text }));
  }
  function errMsg(box, err, special) {
    var text = special && special[err && err.status] ? special[err.status] : C.errText(err);
    msg(box, text + (err && err.message ? ' (' + err.message + ')' : ''), 'error');
  }
  function busy(btn, on, label) {
    if (on) { btn.setAttribute('data-label', btn.textContent); btn.textContent = label || '…'; btn.disabled = true; }
    else { if (btn.getAttribute('data-label')) btn.textContent = btn.getAttribute('data-label'); btn.disabled = false; }
  }
  function title(r) { var x = C.loc(r && r.title, r && r.language); return x[0] || (r && r.id) || ''; }
  function enc(x) { return encodeURIComponent(String(x)); }
  function str(v) { return v === undefined || v === null ? '' : String(v); }
  /* An inline "are you sure?" in place of a button: no dialogs. */
  function confirmIn(holder, question, yesLabel, onYes, returnFocus) {
    clear(holder);
    var yes = el('button', { type: 'button', class: 'btn danger', text: yesLabel });
    var no = el('button', { type: 'button', class: 'btn', text: t('cancel') });
    var box = el('div', { class: 'confirm', role: 'group', 'aria-label': question }, [el('p', { text: question }), yes, no]);
    yes.addEventListener('click', function () { yes.disabled = no.disabled = true; onYes(box); });
    no.addEventListener('click', function () { clear(holder); if (returnFocus) returnFocus(); });
    box.addEventListener('keydown', function (e) { if (e.key === 'Escape' || e.key === 'Esc') no.click(); });
    holder.appendChild(box);
    yes.focus();
  }

  /* ---------- #/classes ---------- */
  var classesCache = null;
  function classesPage(r, box, ctx) {
    box.appendChild(h1(t('classesTitle')));
    var list = el('div', { id: 'classes-list' });
    var m = el('div', { class: 'form-msg', role: 'alert', id: 'class-msg' });
    var inp = el('input', { autocomplete: 'off', maxlength: '100', required: true });
    var btn = el('button', { type: 'submit', class: 'btn primary', text: t('create') });
    var form = el('form', { class: 'form inline-form', id: 'class-form', novalidate: true }, [
      el('h2', { class: 'sec-h', text: t('newClass') }),
      el('div', { class: 'row' }, [field('new-class-name', t('className'), inp), btn]), m
    ]);
    box.appendChild(list);
    box.appendChild(form);
    function draw() {
      clear(list);
      var d = classesCache;
      if (!d) { list.appendChild(el('p', { class: 'muted', text: t('loading') })); return; }
      if (d.error) { list.appendChild(C.errorBox(d.error, load)); return; }
      if (!d.classes.length) { list.appendChild(el('p', { class: 'empty', text: t('noClasses') })); return; }
      var tb = el('tbody');
      d.classes.forEach(function (k) {
        tb.appendChild(el('tr', { 'data-class-id': str(k.id) }, [
          el('td', null, [el('a', { href: '#/classes/' + enc(k.id), class: 'class-link', text: str(k.name) })]),
          el('td', null, [el('code', { class: 'class-code', text: str(k.code) })]),
          el('td', { class: 'num', text: str(k.students) })
        ]));
      });
      list.appendChild(el('div', { class: 'tbl-wrap' }, [el('table', { class: 'tbl' }, [
        el('thead', null, [el('tr', null, [el('th', { scope: 'col', text: t('className') }), el('th', { scope: 'col', text: t('classCode') }), el('th', { scope: 'col', class: 'num', text: t('students') })])]),
        tb
      ])]));
    }
    function load() {
      classesCache = null; draw();
      C.get('/api/v1/classes').then(function (d) {
        if (!ctx.live()) return;
        classesCache = { classes: Array.isArray(d.classes) ? d.classes : [] }; draw();
      }, function (e) { if (ctx.live()) { classesCache = { error: e }; draw(); } });
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var n = inp.value.trim();
      if (!n) { msg(m, t('needClassName')); inp.focus(); return; }
      msg(m, null); busy(btn, true);
      C.api('POST', '/api/v1/classes', { name: n }).then(function (k) {
        busy(btn, false); inp.value = '';
        msg(m, t('created', { n: str(k.name || n), c: str(k.code) }), 'ok');
        if (ctx.live()) load();
      }, function (err) { busy(btn, false); errMsg(m, err); });
    });
    if (ctx.relang && classesCache) draw(); else load();
  }

  /* ---------- #/classes/<id> ---------- */
  var cls = null;
  function classPage(r, box, ctx) {
    var id = r.id;
    if (!cls || cls.id !== id || !ctx.relang) {
      cls = { id: id, klass: null, students: null, lessons: null, report: null, next: null, builder: cls && cls.id === id ? cls.builder : null };
    }
    var c = cls;
    box.appendChild(el('p', null, [el('a', { href: '#/classes', class: 'back', text: t('allClasses') })]));
    var head = el('div', { id: 'class-head' });
    var secS = el('section', { class: 'block', 'aria-labelledby': 'h-students', id: 'sec-students' });
    var secL = el('section', { class: 'block', 'aria-labelledby': 'h-lessons', id: 'sec-lessons' });
    var secR = el('section', { class: 'block', 'aria-labelledby': 'h-report', id: 'sec-report' });
    var secN = el('section', { class: 'block', 'aria-labelledby': 'h-next', id: 'sec-next' });
    box.appendChild(head); box.appendChild(secS); box.appendChild(secL); box.appendChild(secR); box.appendChild(secN);
    function live() { return ctx.live() && cls === c; }

    function drawHead() {
      clear(head);
      var k = c.klass;
      head.appendChild(h1(k && !k.error ? str(k.name) : t('classesTitle')));
      if (k && k.error) { head.appendChild(C.errorBox(k.error, loadHead, k.error.status === 404 ? t('noClass') : null)); return; }
      if (k && k.code) {
        head.appendChild(el('p', { class: 'code-line' }, [t('classCode') + ': ', el('code', { class: 'class-code big', id: 'class-code', text: str(k.code) })]));
        head.appendChild(el('p', { class: 'hint', text: t('codeHint') }));
      }
      var hh = head.querySelector('h1');
      if (hh) document.title = C.docTitle(hh.textContent);
    }
    function loadHead() {
      return C.get('/api/v1/classes').then(function (d) {
        if (!live()) return;
        var k = (Array.isArray(d.classes) ? d.classes : []).filter(function (x) { return String(x.id) === String(id); })[0];
        c.klass = k || { error: { status: 404 } };
        drawHead();
      }, function (e) { if (live()) { c.klass = { error: e }; drawHead(); } });
    }

    /* students and consent */
    function drawStudents() {
      clear(secS);
      secS.appendChild(el('h2', { id: 'h-students', text: t('studentsTitle') }));
      secS.appendChild(el('p', { class: 'hint', text: t('consentNote') }));
      var d = c.students;
      if (!d) { secS.appendChild(el('p', { class: 'muted', text: t('loading') })); return; }
      if (d.error) { secS.appendChild(C.errorBox(d.error, loadStudents)); return; }
      var sm = el('div', { class: 'form-msg', role: 'alert', id: 'students-msg' });
      if (!d.list.length) { secS.appendChild(el('p', { class: 'empty', text: t('noStudents') })); secS.appendChild(sm); return; }
      var tb = el('tbody');
      d.list.forEach(function (s) {
        var nm = str(s.name);
        var cb = el('input', { type: 'checkbox', class: 'consent', id: 'consent-' + s.id, checked: !!s.consent });
        var state = el('span', { class: 'sw-txt', 'aria-hidden': 'true', text: s.consent ? t('yes') : t('no') });
        cb.addEventListener('change', function () {
          var want = cb.checked;
          cb.disabled = true;
          C.api('PUT', '/api/v1/students/' + enc(s.id) + '/consent', { consent: want }).then(function () {
            s.consent = want; cb.disabled = false; state.textContent = want ? t('yes') : t('no');
            msg(sm, null);
            loadReport();
          }, function (err) {
            cb.disabled = false; cb.checked = !want; errMsg(sm, err);
          });
        });
        var rm = el('button', { type: 'button', class: 'btn small-btn danger-out', text: t('remove') });
        var cell = el('td', { class: 'act' }, [rm]);
        rm.addEventListener('click', function () {
          var hold = el('div');
          cell.appendChild(hold); rm.hidden = true;
          confirmIn(hold, t('confirmRemove', { n: nm }), t('confirmYes'), function () {
            C.api('DELETE', '/api/v1/students/' + enc(s.id)).then(function () {
              d.list = d.list.filter(function (x) { return x !== s; });
              drawStudents();
              msg(C.$('students-msg'), t('removed', { n: nm }), 'ok');
              loadReport();
            }, function (err) { rm.hidden = false; clear(hold); errMsg(sm, err); });
          }, function () { rm.hidden = false; cell.removeChild(hold); rm.focus(); });
        });
        tb.appendChild(el('tr', { 'data-student-id': str(s.id) }, [
          el('td', { class: 's-name', text: nm }),
          el('td', null, [el('label', { class: 'switch', for: 'consent-' + s.id }, [cb, el('span', { class: 'vh', text: t('consentFor', { n: nm }) }), state])]),
          cell
        ]));
      });
      secS.appendChild(el('div', { class: 'tbl-wrap' }, [el('table', { class: 'tbl', id: 'students' }, [
        el('thead', null, [el('tr', null, [el('th', { scope: 'col', text: t('stName') }), el('th', { scope: 'col', text: t('consent') }), el('th', { scope: 'col' }, [el('span', { class: 'vh', text: t('remove') })])])]),
        tb
      ])]));
      secS.appendChild(sm);
    }
    function loadStudents() {
      c.students = null; drawStudents();
      C.get('/api/v1/classes/' + enc(id) + '/students').then(function (d) {
        if (live()) { c.students = { list: Array.isArray(d.students) ? d.students : [] }; drawStudents(); }
      }, function (e) { if (live()) { c.students = { error: e }; drawStudents(); } });
    }

    /* lessons */
    function drawLessons() {
      clear(secL);
      secL.appendChild(el('h2', { id: 'h-lessons', text: t('lessonsTitle') }));
      var d = c.lessons;
      var lm = el('div', { class: 'form-msg', role: 'alert', id: 'lessons-msg' });
      if (!d) secL.appendChild(el('p', { class: 'muted', text: t('loading') }));
      else if (d.error) secL.appendChild(C.errorBox(d.error, loadLessons));
      else if (!d.list.length) secL.appendChild(el('p', { class: 'empty', text: t('noLessonsT') }));
      else {
        var ul = el('ul', { class: 'lessons', id: 'lesson-list' });
        d.list.forEach(function (l) {
          var ol = el('ol', { class: 'plist' });
          (Array.isArray(l.resources) ? l.resources : []).forEach(function (x) {
            ol.appendChild(el('li', null, [C.titleEl('a', { href: '#/r/' + enc(x.id) }, x),
              x.cached === false ? el('span', { class: 'badge warn', text: t('notCachedBadge') }) : null]));
          });
          var del = el('button', { type: 'button', class: 'btn small-btn danger-out', text: t('deleteLesson') });
          var hold = el('div');
          del.addEventListener('click', function () {
            del.hidden = true;
            confirmIn(hold, t('confirmDelLesson', { t: str(l.title) }), t('confirmDel'), function () {
              C.api('DELETE', '/api/v1/lessons/' + enc(l.id)).then(function () {
                d.list = d.list.filter(function (x) { return x !== l; });
                drawLessons();
                msg(C.$('lessons-msg'), t('lessonDeleted'), 'ok');
              }, function (err) { del.hidden = false; clear(hold); errMsg(lm, err); });
            }, function () { del.hidden = false; del.focus(); });
          });
          ul.appendChild(el('li', { class: 'lesson-card', 'data-lesson': str(l.id) }, [
            el('h3', { class: 'l-h', text: str(l.title) }), ol, el('div', { class: 'l-act' }, [del, hold])
          ]));
        });
        secL.appendChild(ul);
      }
      secL.appendChild(lm);
      secL.appendChild(builder());
    }
    function loadLessons() {
      c.lessons = null; drawLessons();
      C.get('/api/v1/classes/' + enc(id) + '/lessons').then(function (d) {
        if (live()) { c.lessons = { list: Array.isArray(d.lessons) ? d.lessons : [] }; drawLessons(); }
      }, function (e) { if (live()) { c.lessons = { error: e }; drawLessons(); } });
    }

    /* the lesson builder: title, a catalogue search, an ordered list */
    function builder() {
      var b = c.builder;
      var wrap = el('div', { class: 'builder', id: 'builder' });
      if (!b) {
        var open = el('button', { type: 'button', class: 'btn primary', id: 'new-lesson', text: t('newLesson') });
        open.addEventListener('click', function () {
          c.builder = { title: '', q: '', results: null, items: [] };
          drawLessons();
          var f = C.$('l-title'); if (f) f.focus();
        });
        wrap.appendChild(open);
        return wrap;
      }
      var bm = el('div', { class: 'form-msg', role: 'alert', id: 'builder-msg' });
      var ti = el('input', { autocomplete: 'off', maxlength: '200', value: b.title });
      ti.addEventListener('input', function () { b.title = ti.value; });
      var q = el('input', { type: 'search', autocomplete: 'off', value: b.q, enterkeyhint: 'search' });
      var findBtn = el('button', { type: 'button', class: 'btn', id: 'l-find', text: t('find') });
      var results = el('ul', { class: 'pick-list', id: 'l-results', 'aria-live': 'polite' });
      var chosen = el('ol', { class: 'chosen', id: 'l-chosen' });
      function drawResults() {
        clear(results);
        if (b.results === null) { results.appendChild(el('li', { class: 'muted', text: t('searchFirst') })); return; }
        if (b.results.error) { results.appendChild(el('li', null, [C.errorBox(b.results.error)])); return; }
        if (!b.results.length) { results.appendChild(el('li', { class: 'muted', text: t('noResults') })); return; }
        b.results.forEach(function (x) {
          var has = b.items.some(function (y) { return y.id === x.id; });
          var add = el('button', { type: 'button', class: 'btn small-btn', 'data-add': x.id, text: has ? t('added') : t('add'), disabled: has });
          add.setAttribute('aria-label', (has ? t('added') : t('add')) + ': ' + title(x));
          add.addEventListener('click', function () {
            if (b.items.some(function (y) { return y.id === x.id; })) return;
            b.items.push({ id: x.id, title: x.title, language: x.language, cached: x.cached });
            drawResults(); drawChosen();
            var again = results.querySelector('button[data-add="' + cssEsc(x.id) + '"]');
            if (again) again.focus();
          });
          results.appendChild(el('li', { 'data-id': x.id }, [
            el('span', { class: 'pick-t' }, [C.titleEl('span', { class: 'pick-title' }, x), ' ', C.badges(x)]), add
          ]));
        });
      }
      function drawChosen(focusId, focusWhich) {
        clear(chosen);
        if (!b.items.length) { chosen.appendChild(el('li', { class: 'muted none', text: t('noneChosen') })); return; }
        b.items.forEach(function (x, i) {
          var tt = title(x);
          function mk(label, aria, which, fn, dis) {
            var bt = el('button', { type: 'button', class: 'btn icon-btn', 'data-act': which, 'aria-label': aria, title: aria, disabled: dis }, [el('span', { 'aria-hidden': 'true', text: label })]);
            bt.addEventListener('click', fn);
            return bt;
          }
          function move(d) {
            return function () {
              var j = i + d;
              b.items.splice(i, 1); b.items.splice(j, 0, x);
              var which = d < 0 ? (j === 0 ? 'down' : 'up') : (j === b.items.length - 1 ? 'up' : 'down');
              drawChosen(x.id, which);
            };
          }
          var li = el('li', { 'data-id': x.id }, [
            C.titleEl('span', { class: 'ch-title' }, x),
            el('span', { class: 'ch-act' }, [
              mk('↑', t('moveUp', { t: tt }), 'up', move(-1), i === 0),
              mk('↓', t('moveDown', { t: tt }), 'down', move(1), i === b.items.length - 1),
              mk('✕', t('removeRes', { t: tt }), 'remove', function () {
                b.items.splice(i, 1); drawChosen(); drawResults();
                var n = chosen.querySelector('button[data-act="remove"]') || q; n.focus();
              })
            ])
          ]);
          chosen.appendChild(li);
          if (focusId === x.id) setTimeout(function () { var f = li.querySelector('button[data-act="' + focusWhich + '"]'); if (f) f.focus(); }, 0);
        });
      }
      function search() {
        var s = q.value.trim();
        b.q = s;
        if (!s) { b.results = null; drawResults(); return; }
        C.get('/api/v1/catalog?limit=10&q=' + enc(s)).then(function (d) {
          b.results = Array.isArray(d.results) ? d.results : []; drawResults();
        }, function (e) { b.results = []; b.results.error = e; drawResults(); });
      }
      q.addEventListener('keydown', function (e) { if (e.key === 'Enter') { e.preventDefault(); search(); } });
      findBtn.addEventListener('click', search);
      var save = el('button', { type: 'submit', class: 'btn primary', id: 'l-save', text: t('save') });
      var cancel = el('button', { type: 'button', class: 'btn', text: t('cancel') });
      cancel.addEventListener('click', function () { c.builder = null; drawLessons(); var n = C.$('new-lesson'); if (n) n.focus(); });
      var form = el('form', { class: 'form', id: 'lesson-form', novalidate: true }, [
        el('h3', { text: t('newLesson') }),
        field('l-title', t('lessonTitle'), ti),
        el('fieldset', { class: 'plain' }, [el('legend', { text: t('findRes') }),
          el('div', { class: 'row' }, [field('l-q', t('findRes'), q), findBtn]), results]),
        el('fieldset', { class: 'plain' }, [el('legend', { text: t('chosen') }), chosen]),
        bm,
        el('p', { class: 'form-actions' }, [save, cancel])
      ]);
      form.querySelector('label[for="l-q"]').className = 'vh';
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        var tt = ti.value.trim();
        if (!tt) { msg(bm, t('needLessonTitle')); ti.focus(); return; }
        if (!b.items.length) { msg(bm, t('needRes')); q.focus(); return; }
        busy(save, true, '…');
        C.api('POST', '/api/v1/classes/' + enc(id) + '/lessons', { title: tt, resources: b.items.map(function (x) { return x.id; }) }).then(function () {
          c.builder = null;
          loadLessons();
          msg(C.$('lessons-msg'), t('saved'), 'ok');
          var n = C.$('new-lesson'); if (n) n.focus();
        }, function (err) { busy(save, false); errMsg(bm, err); });
      });
      drawResults(); drawChosen();
      wrap.appendChild(form);
      return wrap;
    }

    /* the class report: counts only */
    function drawReport() {
      clear(secR);
      var rf = el('button', { type: 'button', class: 'btn small-btn', id: 'report-refresh', text: t('refresh'), onclick: loadReport });
      secR.appendChild(el('div', { class: 'sec-top' }, [el('h2', { id: 'h-report', text: t('reportTitle') }), rf]));
      var d = c.report;
      if (!d) { secR.appendChild(el('p', { class: 'muted', text: t('loading') })); return; }
      if (d.error) { secR.appendChild(C.errorBox(d.error, loadReport)); return; }
      secR.appendChild(el('p', { class: 'notice info', id: 'report-note', text: t('reportNote', { c: str(d.consenting), n: str(d.students) }) }));
      var rs = Array.isArray(d.resources) ? d.resources : [];
      if (!rs.length) { secR.appendChild(el('p', { class: 'empty', text: t('noReport') })); return; }
      var tb = el('tbody');
      rs.forEach(function (x) {
        tb.appendChild(el('tr', { 'data-id': str(x.id) }, [
          el('th', { scope: 'row' }, [C.titleEl('a', { href: '#/r/' + enc(x.id) }, x)]),
          el('td', { class: 'num', text: str(x.opened) }),
          el('td', { class: 'num', text: str(x.completed) })
        ]));
      });
      secR.appendChild(el('div', { class: 'tbl-wrap' }, [el('table', { class: 'tbl', id: 'report' }, [
        el('caption', { class: 'vh', text: t('reportTitle') }),
        el('thead', null, [el('tr', null, [el('th', { scope: 'col', text: t('resource') }), el('th', { scope: 'col', class: 'num', text: t('openedBy') }), el('th', { scope: 'col', class: 'num', text: t('completedBy') })])]),
        tb
      ])]));
    }
    function loadReport() {
      C.get('/api/v1/classes/' + enc(id) + '/report').then(function (d) {
        if (live()) { c.report = d; drawReport(); }
      }, function (e) { if (live()) { c.report = { error: e }; drawReport(); } });
    }

    /* what next for each student: the recommender's top items with reasons */
    function drawNext() {
      clear(secN);
      secN.appendChild(el('div', { class: 'sec-top' }, [el('h2', { id: 'h-next', text: t('nextTitle') })]));
      var d = c.next;
      if (!d) { secN.appendChild(el('p', { class: 'muted', text: t('loading') })); return; }
      if (d.error) { if (d.error.status !== 503) secN.appendChild(C.errorBox(d.error, loadNext)); else secN.appendChild(el('p', { class: 'muted', text: t('noNext') })); return; }
      secN.appendChild(el('p', { class: 'notice info', text: t('nextNote') }));
      var ss = Array.isArray(d.students) ? d.students : [];
      var tb = el('tbody');
      ss.forEach(function (st) {
        var items = Array.isArray(st.items) ? st.items : [];
        var ul = el('ul', { class: 'next-list' });
        items.slice(0, 3).forEach(function (x) {
          ul.appendChild(el('li', null, [C.titleEl('a', { href: '#/r/' + enc(x.id) }, x), el('span', { class: 'muted', text: ' — ' + str(x.reason) })]));
        });
        tb.appendChild(el('tr', null, [el('th', { scope: 'row', text: str(st.name) }), el('td', null, items.length ? [ul] : [el('span', { class: 'muted', text: t('noNext') })])]));
      });
      if (!ss.length) { secN.appendChild(el('p', { class: 'empty', text: t('noNext') })); return; }
      secN.appendChild(el('div', { class: 'tbl-wrap' }, [el('table', { class: 'tbl', id: 'next' }, [el('caption', { class: 'vh', text: t('nextTitle') }), tb])]));
    }
    function loadNext() {
      C.get('/api/v1/classes/' + enc(id) + '/recommendations?limit=3').then(function (d) {
        if (live()) { c.next = d; drawNext(); }
      }, function (e) { if (live()) { c.next = { error: e }; drawNext(); } });
    }

    if (ctx.relang && c.klass) {
      drawHead(); drawStudents(); drawLessons(); drawReport(); drawNext();
    } else {
      drawHead(); drawStudents(); drawLessons(); drawReport(); drawNext();
      loadHead(); loadStudents(); loadLessons(); loadReport(); loadNext();
    }
  }
  function cssEsc(s) { return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, '\\$&'); }

  /* ---------- #/upload ---------- */
  var MAX_BODY = 16 * 1024 * 1024, SLACK = 64 * 1024;
  var MAX_FILES = Math.floor((MAX_BODY - SLACK) / 4) * 3;
  var up = { files: [] };      // [{path, file}]
  function uploadPage(r, box, ctx) {
    box.appendChild(h1(t('uploadTitle')));
    var m = el('div', { class: 'form-msg', role: 'alert', id: 'upload-msg' });
    var done = el('div', { id: 'upload-done', role: 'status' });
    function sel(kind, values) {
      var s = el('select');
      s.appendChild(el('option', { value: '', text: t('unset') }));
      values.forEach(function (v) { s.appendChild(el('option', { value: v, text: C.name(kind, v) })); });
      return s;
    }
    var facets = C.facets() || {};
    function vals(kind, facetKey) {
      var seen = {}, out = [];
      C.names(kind).concat((facets[facetKey] || []).map(function (x) { return String(x.value); })).forEach(function (v) {
        if (!seen[v]) { seen[v] = true; out.push(v); }
      });
      return out;
    }
    var tIn = el('input', { autocomplete: 'off', maxlength: '200', required: true });
    var desc = el('textarea', { rows: '3', maxlength: '2000' });
    var subj = sel('subject', vals('subject', 'subjects'));
    var lng = sel('language', vals('language', 'languages'));
    lng.value = C.lang();
    var typ = sel('type', ['video', 'audio', 'document', 'html', 'exercise', 'image']);
    var grades = el('fieldset', { class: 'grades', id: 'u-grades' }, [el('legend', { text: t('gradesLabel') })]);
    for (var g = 1; g <= 12; g++) {
      grades.appendChild(el('span', { class: 'chk' }, [el('input', { type: 'checkbox', id: 'u-g' + g, value: String(g) }), el('label', { for: 'u-g' + g, text: C.gradeOne(g) })]));
    }
    var files = el('input', { type: 'file', multiple: true });
    var folder = el('input', { type: 'file', multiple: true, webkitdirectory: true });
    var list = el('ul', { class: 'flist up-list', id: 'u-list' });
    var entry = el('select');
    var fwd = el('input', { type: 'checkbox', id: 'u-forward' });
    var btn = el('button', { type: 'submit', class: 'btn primary', id: 'u-submit', text: t('upload') });
    function total() { return up.files.reduce(function (a, f) { return a + f.file.size; }, 0); }
    function bodySize() { return up.files.reduce(function (a, f) { return a + 4 * Math.ceil(f.file.size / 3) + f.path.length + 32; }, 0); }
    function drawFiles() {
      clear(list); clear(entry);
      up.files.forEach(function (f, i) {
        var rm = el('button', { type: 'button', class: 'btn icon-btn', 'aria-label': t('remove') + ': ' + f.path, title: t('remove') }, [el('span', { 'aria-hidden': 'true', text: '✕' })]);
        rm.addEventListener('click', function () { up.files.splice(i, 1); drawFiles(); files.focus(); });
        list.appendChild(el('li', null, [el('span', { class: 'fpath', text: f.path }), el('span', { class: 'fsize', text: C.size(f.file.size) }), rm]));
        entry.appendChild(el('option', { value: f.path, text: f.path }));
      });
      if (up.files.length) list.appendChild(el('li', { class: 'ftotal' }, [el('span', { text: t('filesTotal', { n: up.files.length, s: C.size(total()) }) })]));
      var idx = up.files.filter(function (f) { return /(^|\/)index\.html?$/i.test(f.path); })[0];
      if (idx) entry.value = idx.path;
      entry.disabled = !up.files.length;
      if (!typ.value && up.files.length) typ.value = guessType(entry.value);
      if (bodySize() + SLACK > MAX_BODY) msg(m, t('tooBig', { s: C.size(total()), m: C.size(MAX_FILES) }));
      else if (m.querySelector('.notice')) msg(m, null);
    }
    function addFiles(input, useRel) {
      var fl = input.files || [];
      for (var i = 0; i < fl.length; i++) {
        var p = useRel && fl[i].webkitRelativePath ? fl[i].webkitRelativePath.split('/').slice(1).join('/') : fl[i].name;
        up.files = up.files.filter(function (x) { return x.path !== p; });
        up.files.push({ path: p || fl[i].name, file: fl[i] });
      }
      input.value = '';
      drawFiles();
    }
    files.addEventListener('change', function () { addFiles(files, false); });
    folder.addEventListener('change', function () { addFiles(folder, true); });
    entry.addEventListener('change', function () { if (!typ.value) typ.value = guessType(entry.value); });
    var form = el('form', { class: 'form', id: 'upload-form', novalidate: true }, [
      field('u-title', t('title'), tIn),
      field('u-desc', t('description'), desc),
      el('div', { class: 'row3' }, [field('u-subject', t('subject'), subj), field('u-language', t('language'), lng), field('u-type', t('type'), typ)]),
      grades,
      el('fieldset', { class: 'plain' }, [el('legend', { text: t('files') }),
        field('u-files', t('chooseFiles'), files), field('u-folder', t('chooseFolder'), folder), list,
        field('u-entry', t('entry'), entry)]),
      el('p', { class: 'chk' }, [fwd, el('label', { for: 'u-forward', text: t('forward') })]),
      m,
      el('p', { class: 'form-actions' }, [btn]),
      done
    ]);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      clear(done);
      var tt = tIn.value.trim();
      if (!tt) { msg(m, t('needTitle')); tIn.focus(); return; }
      if (!up.files.length) { msg(m, t('needFiles')); files.focus(); return; }
      if (bodySize() + SLACK > MAX_BODY) { msg(m, t('tooBig', { s: C.size(total()), m: C.size(MAX_FILES) })); files.focus(); return; }
      msg(m, null);
      busy(btn, true, t('uploading'));
      var gs = [];
      for (var i = 1; i <= 12; i++) if (C.$('u-g' + i).checked) gs.push(i);
      Promise.all(up.files.map(readB64)).then(function (datas) {
        var body = { title: tt, files: up.files.map(function (f, i) { return { path: f.path, data: datas[i] }; }), forward: fwd.checked };
        if (desc.value.trim()) body.description = desc.value.trim();
        if (subj.value) body.subject = subj.value;
        if (gs.length) body.grades = gs;
        if (lng.value) body.language = lng.value;
        if (typ.value) body.type = typ.value;
        if (entry.value) body.entry = entry.value;
        return C.api('POST', '/api/v1/local', body);
      }).then(function (d) {
        busy(btn, false);
        up.files = [];
        form.reset(); lng.value = C.lang(); drawFiles();
        var link = el('a', { href: '#/r/' + enc(d.id), id: 'u-link', class: 'btn', text: t('openNew') });
        done.appendChild(el('div', { class: 'notice ok' }, [el('p', null, [t('uploaded') + ' ', el('code', { text: str(d.id) })]), link]));
        link.focus();
      }, function (err) {
        busy(btn, false);
        if (err && err.readFail) msg(m, t('readFail', { f: err.readFail }));
        else errMsg(m, err, { 413: t('tooBig', { s: C.size(total()), m: C.size(MAX_FILES) }) });
      });
    });
    box.appendChild(form);
    drawFiles();
  }
  function readB64(f) {
    return new Promise(function (resolve, reject) {
      var rd = new FileReader();
      rd.onload = function () { var s = String(rd.result); resolve(s.slice(s.indexOf(',') + 1)); };
      rd.onerror = function () { reject({ readFail: f.path }); };
      rd.readAsDataURL(f.file);
    });
  }
  function guessType(p) {
    var x = (String(p || '').split('.').pop() || '').toLowerCase();
    if (/^(mp4|webm|ogv|mov|m4v)$/.test(x)) return 'video';
    if (/^(mp3|ogg|oga|m4a|wav|opus)$/.test(x)) return 'audio';
    if (/^(png|jpe?g|gif|webp|svg)$/.test(x)) return 'image';
    if (/^html?$/.test(x)) return 'html';
    if (x) return 'document';
    return '';
  }

  /* ---------- #/admin ---------- */
  var adm = { users: null, settings: null, classes: {} };
  var SETTINGS = ['keep.subjects', 'keep.grades', 'keep.languages', 'storage.quota', 'sync.window', 'sync.interval',
    'sync.max_rate', 'privacy.retention_days', 'outbox.epsilon'];
  function adminPage(r, box, ctx) {
    box.appendChild(h1(t('adminTitle')));
    var secU = el('section', { class: 'block', 'aria-labelledby': 'h-users', id: 'sec-users' });
    var secS = el('section', { class: 'block', 'aria-labelledby': 'h-settings', id: 'sec-settings' });
    box.appendChild(secU); box.appendChild(secS);
    var me = C.session().user || {};

    function drawUsers(note) {
      clear(secU);
      secU.appendChild(el('h2', { id: 'h-users', text: t('usersTitle') }));
      var um = el('div', { class: 'form-msg', role: 'alert', id: 'users-msg' });
      var d = adm.users;
      if (!d) secU.appendChild(el('p', { class: 'muted', text: t('loading') }));
      else if (d.error) secU.appendChild(C.errorBox(d.error, loadUsers));
      else {
        var tb = el('tbody');
        d.list.forEach(function (u) {
          var nm = str(u.name), self = String(u.id) === String(me.id);
          var cell = el('td', { class: 'act' });
          if (!self) {
            var rm = el('button', { type: 'button', class: 'btn small-btn danger-out', text: t('remove') });
            var hold = el('div');
            rm.addEventListener('click', function () {
              rm.hidden = true;
              confirmIn(hold, t('confirmRemoveUser', { n: nm }), t('confirmDel'), function () {
                C.api('DELETE', '/api/v1/users/' + enc(u.id)).then(function () {
                  d.list = d.list.filter(function (x) { return x !== u; });
                  drawUsers(t('userRemoved', { n: nm }));
                }, function (err) { rm.hidden = false; clear(hold); errMsg(um, err); });
              }, function () { rm.hidden = false; rm.focus(); });
            });
            cell.appendChild(rm); cell.appendChild(hold);
          }
          tb.appendChild(el('tr', { 'data-user-id': str(u.id) }, [
            el('td', { class: 'u-name' }, [nm, self ? el('span', { class: 'muted', text: ' ' + t('you') }) : null]),
            el('td', { text: u.role ? t('role_' + u.role) : '' }),
            el('td', { text: className(u['class']) }),
            cell
          ]));
        });
        secU.appendChild(el('div', { class: 'tbl-wrap' }, [el('table', { class: 'tbl', id: 'users' }, [
          el('thead', null, [el('tr', null, [el('th', { scope: 'col', text: t('uName') }), el('th', { scope: 'col', text: t('uRole') }),
            el('th', { scope: 'col', text: t('uClass') }), el('th', { scope: 'col' }, [el('span', { class: 'vh', text: t('remove') })])])]),
          tb
        ])]));
      }
      secU.appendChild(um);
      if (note) msg(um, note, 'ok');
      // add a teacher or admin
      var am = el('div', { class: 'form-msg', role: 'alert', id: 'adduser-msg' });
      var nI = el('input', { autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '100' });
      var pI = el('input', { type: 'password', autocomplete: 'new-password', minlength: '8' });
      var rS = el('select');
      ['teacher', 'admin'].forEach(function (x) { rS.appendChild(el('option', { value: x, text: t('role_' + x) })); });
      var ab = el('button', { type: 'submit', class: 'btn primary', text: t('addBtn') });
      var f = el('form', { class: 'form', id: 'adduser-form', novalidate: true }, [
        el('h3', { text: t('addUser') }),
        el('div', { class: 'row3' }, [field('nu-name', t('uName'), nI), field('nu-pass', t('uPassword'), pI), field('nu-role', t('uRole'), rS)]),
        am, el('p', { class: 'form-actions' }, [ab])
      ]);
      f.addEventListener('submit', function (e) {
        e.preventDefault();
        var n = nI.value.trim();
        if (!n) { msg(am, t('needName')); nI.focus(); return; }
        if (pI.value.length < 8) { msg(am, t('needPw')); pI.focus(); return; }
        busy(ab, true, '…');
        C.api('POST', '/api/v1/users', { name: n, password: pI.value, role: rS.value }).then(function () {
          busy(ab, false);
          loadUsers(t('userAdded', { n: n }));
        }, function (err) { busy(ab, false); errMsg(am, err, { 409: t('nameTaken') }); });
      });
      secU.appendChild(f);
    }
    function className(k) {
      if (k === undefined || k === null) return '';
      if (typeof k === 'object') return str(k.name !== undefined ? k.name : k.id);
      return adm.classes[k] !== undefined ? adm.classes[k] : str(k);
    }
    function loadUsers(note) {
      // Students' classes are ids: name them from the class list (an admin sees all).
      var ks = C.get('/api/v1/classes').then(function (d) {
        (Array.isArray(d.classes) ? d.classes : []).forEach(function (k) { adm.classes[k.id] = str(k.name); });
      }, function () { /* ids will do */ });
      Promise.all([C.get('/api/v1/users'), ks]).then(function (res) {
        var d = res[0];
        if (!ctx.live()) return;
        adm.users = { list: Array.isArray(d.users) ? d.users : [] }; drawUsers(note);
      }, function (e) { if (ctx.live()) { adm.users = { error: e }; drawUsers(); } });
    }

    function drawSettings() {
      clear(secS);
      secS.appendChild(el('h2', { id: 'h-settings', text: t('settingsTitle') }));
      var d = adm.settings;
      if (!d) { secS.appendChild(el('p', { class: 'muted', text: t('loading') })); return; }
      if (d.error) { secS.appendChild(C.errorBox(d.error, loadSettings)); return; }
      var sm = el('div', { class: 'form-msg', role: 'alert', id: 'settings-msg' });
      var keys = SETTINGS.filter(function (k) { return k in d.values; });
      Object.keys(d.values).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); });
      var inputs = {};
      var f = el('form', { class: 'form', id: 'settings-form', novalidate: true });
      keys.forEach(function (k) {
        var v = d.values[k];
        var i = el('input', { autocomplete: 'off', spellcheck: 'false', value: Array.isArray(v) ? v.join(',') : str(v), placeholder: v === null ? t('unsetDefault') : null });
        inputs[k] = i;
        var label = t('set_' + k);
        f.appendChild(field('set-' + k.replace(/[^a-z0-9]/gi, '-'), label === 'set_' + k ? k : label, i, k));
      });
      var sb = el('button', { type: 'submit', class: 'btn primary', text: t('saveSettings') });
      f.appendChild(sm);
      f.appendChild(el('p', { class: 'form-actions' }, [sb]));
      f.addEventListener('submit', function (e) {
        e.preventDefault();
        var changes = {}, any = false;
        keys.forEach(function (k) {
          var old = d.values[k], cur = inputs[k].value.trim();
          if (cur !== (Array.isArray(old) ? old.join(',') : str(old))) { changes[k] = cur; any = true; }
        });
        if (!any) { msg(sm, t('noChange'), 'ok'); return; }
        busy(sb, true, '…');
        C.api('PUT', '/api/v1/settings', changes).then(function () {
          busy(sb, false);
          loadSettings(t('settingsSaved'));
        }, function (err) { busy(sb, false); errMsg(sm, err); });
      });
      secS.appendChild(f);
      if (d.note) msg(sm, d.note, 'ok');
    }
    function loadSettings(note) {
      C.get('/api/v1/settings').then(function (d) {
        if (!ctx.live()) return;
        var v = d && d.settings && typeof d.settings === 'object' ? d.settings : d;
        var values = {};
        Object.keys(v || {}).forEach(function (k) { if (k !== 'httpStatus') values[k] = v[k]; });
        adm.settings = { values: values, note: note }; drawSettings();
      }, function (e) { if (ctx.live()) { adm.settings = { error: e }; drawSettings(); } });
    }
    if (ctx.relang && adm.users && adm.settings) { drawUsers(); drawSettings(); } else {
      adm.users = adm.settings = null;
      drawUsers(); drawSettings(); loadUsers(); loadSettings();
    }
  }

  /* ---------- teacher tools on a resource page ---------- */
  var tools = {};      // per resource: {open, requested, sent}
  function resourceTools(box, d, r) {
    var st = tools[r.id] || (tools[r.id] = { open: false, requested: null, sent: false });
    var sec = el('section', { class: 'block tools', 'aria-labelledby': 'h-tools' }, [el('h2', { id: 'h-tools', text: t('forTeachers') })]);
    var tm = el('div', { class: 'form-msg', role: 'status', id: 'tools-msg' });
    var acts = el('p', { class: 'actions' });
    if (d.cached === false) {
      var rq = el('button', { type: 'button', class: 'btn primary', id: 'request-dl', text: t('requestDl'), disabled: !!st.requested });
      rq.addEventListener('click', function () {
        rq.disabled = true;
        C.api('POST', '/api/v1/requests', { resource: r.id }).then(function (x) {
          st.requested = x.httpStatus === 200 ? 'cached' : 'requested';
          msg(tm, st.requested === 'cached' ? t('alreadyCached') : t('requested'), 'ok');
        }, function (err) { rq.disabled = false; errMsg(tm, err); });
      });
      acts.appendChild(rq);
    }
    var tg = el('button', { type: 'button', class: 'btn', id: 'rate-toggle', 'aria-expanded': String(st.open), 'aria-controls': 'rate-form', text: t('rateReport') });
    acts.appendChild(tg);
    sec.appendChild(acts);
    sec.appendChild(tm);
    if (st.requested) msg(tm, st.requested === 'cached' ? t('alreadyCached') : t('requested'), 'ok');
    if (st.sent) msg(tm, t('thanks'), 'ok');

    var fm = el('div', { class: 'form-msg', role: 'alert', id: 'rate-msg' });
    var stars = el('fieldset', { class: 'stars' }, [el('legend', { text: t('rating') })]);
    for (var i = 0; i <= 5; i++) {
      var rid = 'rate-' + i;
      stars.appendChild(el('span', { class: 'star' + (i ? '' : ' star0') }, [
        el('input', { type: 'radio', name: 'rating', id: rid, value: String(i), checked: i === 0 }),
        el('label', { for: rid, title: i ? t('stars', { n: i }) : t('noRating') }, i ? [el('span', { 'aria-hidden': 'true', text: '★' }), el('span', { class: 'vh', text: t('stars', { n: i }) })] : [t('noRating')])
      ]));
    }
    var kind = el('select');
    kind.appendChild(el('option', { value: '', text: t('rNone') }));
    ['broken', 'wrong-grade', 'content-error', 'other'].forEach(function (k) { kind.appendChild(el('option', { value: k, text: t('r_' + k) })); });
    var com = el('textarea', { rows: '3', maxlength: '1000' });
    var send = el('button', { type: 'submit', class: 'btn primary', text: t('send') });
    var form = el('form', { class: 'form rate-form', id: 'rate-form', novalidate: true, hidden: !st.open }, [
      stars, field('rate-kind', t('reportKind'), kind), field('rate-comment', t('comment'), com), fm, el('p', { class: 'form-actions' }, [send])
    ]);
    tg.addEventListener('click', function () {
      st.open = !st.open;
      form.hidden = !st.open;
      tg.setAttribute('aria-expanded', String(st.open));
      if (st.open) { var c0 = form.querySelector('input[name="rating"]:checked'); if (c0) c0.focus(); }
    });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var ch = form.querySelector('input[name="rating"]:checked');
      var rating = ch ? Number(ch.value) : 0;
      if (!rating && !kind.value) { msg(fm, t('needRateOrReport')); return; }
      var body = { resource: r.id };
      if (rating) body.rating = rating;
      if (kind.value) body.report = kind.value;
      if (com.value.trim()) body.comment = com.value.trim();
      busy(send, true, '…');
      C.api('POST', '/api/v1/feedback', body).then(function () {
        busy(send, false);
        st.sent = true; st.open = false;
        form.reset(); form.hidden = true; tg.setAttribute('aria-expanded', 'false');
        msg(fm, null); msg(tm, t('thanks'), 'ok');
        tg.focus();
      }, function (err) { busy(send, false); errMsg(fm, err); });
    });
    sec.appendChild(form);
    box.appendChild(sec);
  }

  return {
    page: function (r, box, ctx) {
      if (r.page === 'classes') classesPage(r, box, ctx);
      else if (r.page === 'class') classPage(r, box, ctx);
      else if (r.page === 'upload') uploadPage(r, box, ctx);
      else if (r.page === 'admin') adminPage(r, box, ctx);
    },
    resourceTools: resourceTools
  };
});
