// contact-audit: the one DOM snippet shared by the runner and `audit inspect`.
// Evaluated in every frame as `(arg) => result`; arg.op chooses what to do:
//   analyze  -> {url, title, lang, forms: [form], captchas: [captcha]}
//   links    -> [{href, text, aria, title, region}]
//   cookies  -> text of the consent button clicked, or null
//   state    -> what verification needs after a submit (see stateOf)
//   reveal   -> controls that may open the closed panel holding arg.form (see revealers)
//   rejected -> [{ref, name, idattr, how}]: fields the page marks wrong after a refusal
// Every form, field and button gets a stable data-ca-id attribute so Python can reach it
// with a CSS selector (Playwright's CSS pierces open shadow roots).
// form = {ref, in_form, tag, idattr, name, cls, action, method, role, aria, heading,
//         legend, visible, fields: [field], buttons: [button]}
// field = {ref, tag, type, name, idattr, autocomplete, label, aria, title, placeholder,
//          context, required, visible, hidden_how, in_hidden_step, options, pattern,
//          maxlength, inputmode, checked, cls, tabindex, disabled, readonly}
(arg) => {
  const op = (arg && arg.op) || 'analyze';
  const ATTR = 'data-ca-id';
  const TAG = (arg && arg.frame) || 'f0';
  if (!window.__caSeq) window.__caSeq = 0;
  const ref = (el) => {
    let v = el.getAttribute(ATTR);
    if (!v) { v = TAG + '-' + (++window.__caSeq); el.setAttribute(ATTR, v); }
    return v;
  };
  const clean = (s, n) => (s || '').replace(/\s+/g, ' ').trim().slice(0, n || 300);
  const FIELD_SEL = 'input, select, textarea';
  const BUTTON_SEL = 'button, input[type=submit], input[type=image], input[type=button], ' +
    '[role=button], a[class*=submit i], a[class*=button i], a[class*=btn i], div[class*=submit i], ' +
    'a[href*="__doPostBack"], a[href^="javascript:" i], a[onclick]';

  function allElements(root, out) {
    for (const el of root.children || []) {
      out.push(el);
      if (el.shadowRoot) allElements(el.shadowRoot, out);
      if (el.tagName !== 'TEMPLATE') allElements(el, out);
    }
    return out;
  }
  function parentOf(el) {
    if (el.parentElement) return el.parentElement;
    const root = el.getRootNode && el.getRootNode();
    return root && root.host ? root.host : null;
  }
  function textWithout(el) {
    if (!el) return '';
    const c = el.cloneNode(true);
    c.querySelectorAll('select, option, script, style, textarea, noscript, svg').forEach((x) => x.remove());
    return clean(c.textContent, 300);
  }
  function queryAllDeep(root, sel) {
    const out = [];
    for (const el of allElements(root, [])) if (el.matches(sel)) out.push(el);
    return out;
  }

  // ---- visibility -------------------------------------------------------------------
  function countFields(el) { return el.querySelectorAll ? el.querySelectorAll(FIELD_SEL).length : 0; }
  function isGroup(node) {
    // a hidden step / tab / panel of a form (not a honeypot's own wrapper)
    if (countFields(node) > 1 || node.tagName === 'FIELDSET') return true;
    if (node.querySelector('button, input[type=submit], input[type=button]')) return true;
    const marks = (typeof node.className === 'string' ? node.className : '') + ' ' + (node.id || '') +
      ' ' + Array.from(node.attributes).map((a) => a.name).join(' ');
    return /step|page|tab|panel|slide|stage/i.test(marks);
  }
  function hiddenHow(el) {
    if (!el.isConnected) return 'detached';
    let node = el;
    while (node && node.nodeType === 1) {
      const cs = getComputedStyle(node);
      if (node.getAttribute('aria-hidden') === 'true') {
        // a closed modal or panel (aria-hidden on a wrapper of several fields) hides a
        // group, not a trap
        return node !== el && isGroup(node) ? 'group' : 'aria';
      }
      if (node !== el && node.tagName === 'DETAILS' && !node.open) {
        const summary = node.querySelector(':scope > summary');
        if (!(summary && summary.contains(el))) return isGroup(node) ? 'group' : 'self';
      }
      if (cs.display === 'none' || node.hidden) {
        if (node === el) return 'self';
        return isGroup(node) ? 'group' : 'self';
      }
      if (cs.visibility === 'hidden' || cs.visibility === 'collapse') {
        return node === el || !isGroup(node) ? 'self' : 'group';
      }
      if (parseFloat(cs.opacity) < 0.05) return node === el || countFields(node) <= 1 ? 'opacity' : 'group';
      if (node !== el && (cs.overflow === 'hidden' || cs.overflowX === 'hidden')) {
        const r = node.getBoundingClientRect();
        if (r.width < 2 || r.height < 2) return countFields(node) > 1 ? 'group' : 'zero';
      }
      if (cs.clip === 'rect(0px, 0px, 0px, 0px)' || /inset\((50|100)%/.test(cs.clipPath || '')) return 'clip';
      node = parentOf(node);
    }
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return 'zero';
    const sx = window.scrollX, sy = window.scrollY;
    const docW = Math.max(document.documentElement.scrollWidth, window.innerWidth);
    if (r.right + sx <= 0 || r.bottom + sy <= 0 || r.left + sx >= docW + 50) return 'offscreen';
    return null;
  }
  function choiceHiddenHow(el) {
    // Custom checkboxes hide the input and show the label: the label decides.
    const how = hiddenHow(el);
    if (!how) return null;
    const lab = (el.labels && el.labels[0]) || el.closest('label');
    if (lab && !hiddenHow(lab)) return null;
    const p = parentOf(el);
    if (how !== 'aria' && p && !hiddenHow(p) && textWithout(p)) return null;
    return how;
  }

  // ---- names --------------------------------------------------------------------------
  function byIds(el, ids) {
    const root = el.getRootNode();
    return ids.split(/\s+/).map((id) => {
      const t = (root.getElementById ? root.getElementById(id) : null) || document.getElementById(id);
      return t ? textWithout(t) : '';
    }).join(' ');
  }
  function labelOf(el) {
    let t = '';
    const lb = el.getAttribute('aria-labelledby');
    if (lb) t += ' ' + byIds(el, lb);
    if (el.labels && el.labels.length) {
      for (const l of el.labels) t += ' ' + textWithout(l);
    } else if (el.id) {
      const root = el.getRootNode();
      try {
        const l = root.querySelector && root.querySelector('label[for="' + CSS.escape(el.id) + '"]');
        if (l) t += ' ' + textWithout(l);
      } catch (e) { /* odd id */ }
    }
    if (!clean(t) && !el.getAttribute('aria-label')) t = cellLabel(el);
    return clean(t, 300);
  }
  function cellLabel(el) {
    // table layouts: the label sits in the cell before the field's cell, or in the same
    // column of the row above (when that cell holds no field of its own)
    const cell = el.closest && el.closest('td, th');
    if (!cell || countFields(cell) > 1) return '';
    let prev = cell.previousElementSibling;
    while (prev && !textWithout(prev) && !countFields(prev)) prev = prev.previousElementSibling;
    if (prev && !countFields(prev)) return textWithout(prev);
    const row = cell.parentElement, above = row && row.previousElementSibling;
    if (!prev && above && !countFields(above)) {
      const same = above.children[Array.prototype.indexOf.call(row.children, cell)];
      if (same) return textWithout(same);
    }
    return '';
  }
  function contextOf(el) {
    // Text of the largest ancestor holding only this field (its wrapper), else the
    // text just before it.
    let best = null, node = parentOf(el), depth = 0;
    while (node && node.nodeType === 1 && depth < 4 && node.tagName !== 'FORM' && node.tagName !== 'BODY') {
      if (countFields(node) > 1 && !(el.type === 'radio' || el.type === 'checkbox')) break;
      if (countFields(node) > 1) {
        // a radio group: keep the fieldset / group wrapper text
        const radios = node.querySelectorAll('input[name="' + CSS.escape(el.name || '') + '"]').length;
        if (radios !== countFields(node)) break;
      }
      best = node; node = parentOf(node); depth++;
    }
    let t = best ? textWithout(best) : '';
    if (!t) {
      let prev = el.previousSibling, n = 0;
      while (prev && n < 3 && !t) {
        t = clean(prev.textContent, 120); prev = prev.previousSibling; n++;
      }
    }
    return clean(t, 300);
  }
  function isRequired(el, label, ctx) {
    if (el.required || el.getAttribute('aria-required') === 'true') return true;
    if (/(^|\s)(required|is-required|wpcf7-validates-as-required|gfield_contains_required)/i.test(
      (el.className || '') + ' ' + ((parentOf(el) && parentOf(el).className) || ''))) return true;
    return /\*\s*$|^\s*\*/.test(label || '') || /\*\s*$/.test(ctx || '');
  }
  function optionsOf(sel) {
    return Array.from(sel.options || []).slice(0, 80).map((o) => ({
      value: o.value, text: clean(o.textContent, 80), disabled: o.disabled,
      has_value: o.hasAttribute('value'),
    }));
  }

  function pathOf(el) {
    // child indexes from the document down to el (open shadow roots included): the tree
    // distance between two elements is computed from these in Python
    const out = [];
    for (let n = el; n && n.nodeType === 1; n = parentOf(n)) {
      const kids = n.parentElement ? n.parentElement.children : (n.getRootNode().children || []);
      out.push(Array.prototype.indexOf.call(kids, n));
    }
    return out.reverse();
  }
  function nearImage(el) {
    // an image (or canvas) in the field's own small wrapper: an image code to copy
    let node = parentOf(el);
    for (let i = 0; i < 3 && node && node.tagName !== 'FORM' && node.tagName !== 'BODY'; i++) {
      if (countFields(node) > 3) break;
      if (node.querySelector('img, canvas')) return true;
      node = parentOf(node);
    }
    return false;
  }
  function fieldInfo(el) {
    const tag = el.tagName.toLowerCase();
    const type = tag === 'input' ? (el.getAttribute('type') || 'text').toLowerCase() : tag;
    const label = labelOf(el);
    const ctx = contextOf(el);
    const choice = type === 'checkbox' || type === 'radio';
    const how = type === 'hidden' ? 'self' : (choice ? choiceHiddenHow(el) : hiddenHow(el));
    const info = {
      ref: ref(el), tag, type, name: el.getAttribute('name'), idattr: el.id || null,
      autocomplete: el.getAttribute('autocomplete'), label,
      aria: clean(el.getAttribute('aria-label'), 200), title: clean(el.getAttribute('title'), 200),
      placeholder: clean(el.getAttribute('placeholder'), 200), context: ctx,
      required: isRequired(el, label, ctx), visible: !how, hidden_how: how,
      in_hidden_step: how === 'group', options: null, pattern: el.getAttribute('pattern'),
      maxlength: el.maxLength > 0 ? el.maxLength : null, inputmode: el.getAttribute('inputmode'),
      checked: !!el.checked, cls: clean(typeof el.className === 'string' ? el.className : '', 200),
      tabindex: el.getAttribute('tabindex'), disabled: !!el.disabled, readonly: !!el.readOnly,
      accept: el.getAttribute('accept'), value: type === 'checkbox' || type === 'radio' ? el.value : null,
      filled: tag !== 'select' && !choice ? !!(el.value || '').length : null,
      path: pathOf(el), near_img: nearImage(el),
    };
    if (tag === 'select') info.options = optionsOf(el);
    return info;
  }

  function fieldsIn(list) {
    const out = [];
    const groups = {};
    for (const el of list) {
      if (!el.matches || !el.matches(FIELD_SEL)) continue;
      const type = (el.getAttribute('type') || '').toLowerCase();
      if (['submit', 'image', 'button', 'reset'].includes(type)) continue;
      if (type === 'radio' && el.name) {
        const key = el.name;
        const lab = labelOf(el) || clean(el.parentElement && el.parentElement.textContent, 80);
        const opt = { ref: ref(el), value: el.value, text: lab, checked: el.checked,
          visible: !choiceHiddenHow(el) };
        if (groups[key]) {
          groups[key].options.push(opt);
          groups[key].visible = groups[key].visible || opt.visible;
          groups[key].required = groups[key].required || el.required;
          continue;
        }
        const info = fieldInfo(el);
        const fs = el.closest('fieldset');
        const legend = fs && fs.querySelector('legend');
        let glabel = legend ? textWithout(legend) : '';
        if (!glabel) {
          const rg = el.closest('[role=radiogroup]');
          if (rg) glabel = clean(rg.getAttribute('aria-label') || '', 200) ||
            (rg.getAttribute('aria-labelledby') ? byIds(rg, rg.getAttribute('aria-labelledby')) : '');
        }
        info.label = glabel;
        info.options = [opt];
        info.visible = opt.visible;
        groups[key] = info;
        out.push(info);
        continue;
      }
      out.push(fieldInfo(el));
    }
    for (const g of Object.values(groups)) {
      // context of a radio group: the text around all its options, minus the options
      const optText = g.options.map((o) => o.text).join(' ');
      if (!g.label) {
        let node = parentOf(document.querySelector('[' + ATTR + '="' + g.ref + '"]') || document.body);
        const first = node;
        for (let i = 0; i < 4 && node && node.tagName !== 'FORM'; i++) {
          const n = node.querySelectorAll(FIELD_SEL).length;
          if (n > g.options.length) break;
          node = parentOf(node);
        }
        g.context = clean(textWithout(node || first).replace(optText, ''), 300);
      }
    }
    return out;
  }

  function buttonInfo(b) {
    return {
      ref: ref(b), tag: b.tagName.toLowerCase(),
      type: b.tagName === 'BUTTON' ? (b.getAttribute('type') || 'submit').toLowerCase()
        : (b.getAttribute('type') || '').toLowerCase(),
      text: clean(b.innerText || b.textContent, 80), value: b.tagName === 'INPUT' ? b.value : null,
      aria: b.getAttribute('aria-label'), title: b.getAttribute('title'), name: b.getAttribute('name'),
      idattr: b.id || null, cls: clean(typeof b.className === 'string' ? b.className : '', 120),
      visible: !hiddenHow(b), disabled: !!b.disabled, path: pathOf(b),
      href: b.tagName === 'A' ? clean(b.getAttribute('href'), 120) : null,
    };
  }
  function buttonsIn(container, extra) {
    const seen = new Set();
    const out = [];
    const inside = container.querySelectorAll(BUTTON_SEL);
    for (const b of [...inside, ...(extra || [])]) {
      if (seen.has(b)) continue;
      seen.add(b);
      // a wrapper around a real button is not itself the button
      if ((b.tagName === 'DIV' || b.tagName === 'A') && b.querySelector('button, input[type=submit], input[type=button], input[type=image]')) continue;
      if (b.tagName === 'INPUT' && !['submit', 'image', 'button'].includes((b.type || '').toLowerCase())) continue;
      out.push(buttonInfo(b));
    }
    // shadow roots inside the container
    for (const el of allElements(container, [])) {
      if (el.shadowRoot) for (const b of queryAllDeep(el.shadowRoot, BUTTON_SEL)) {
        if (!seen.has(b)) { seen.add(b); out.push(buttonInfo(b)); }
      }
    }
    return out.slice(0, 60);
  }
  function headingOf(container) {
    const inner = container.querySelector('h1, h2, h3, h4, h5, h6, legend, [class*=title i]');
    if (inner) return clean(inner.textContent, 150);
    let node = parentOf(container);
    for (let i = 0; i < 4 && node; i++) {
      const hs = Array.from(node.querySelectorAll('h1, h2, h3, h4'))
        .filter((h) => h.compareDocumentPosition(container) & Node.DOCUMENT_POSITION_FOLLOWING);
      if (hs.length) return clean(hs[hs.length - 1].textContent, 150);
      node = parentOf(node);
    }
    return '';
  }
  function formInfo(container, isForm, fields, extraButtons) {
    return {
      ref: ref(container), in_form: isForm, tag: container.tagName.toLowerCase(),
      idattr: container.id || null, name: container.getAttribute('name'),
      cls: clean(typeof container.className === 'string' ? container.className : '', 200),
      action: isForm ? container.getAttribute('action') : null,
      method: isForm ? (container.getAttribute('method') || 'get').toLowerCase() : null,
      role: container.getAttribute('role'), aria: container.getAttribute('aria-label'),
      heading: headingOf(container), legend: '',
      visible: !hiddenHow(container), fields, buttons: buttonsIn(container, extraButtons),
    };
  }

  function captchasIn(all, forms) {
    const out = [];
    const owner = (el) => {
      let n = el;
      while (n) {
        if (n.getAttribute && n.getAttribute(ATTR) && forms.has(n.getAttribute(ATTR))) return n.getAttribute(ATTR);
        n = parentOf(n);
      }
      return null;
    };
    const fam = (s) => {
      s = (s || '').toLowerCase();
      if (s.includes('hcaptcha')) return 'hcaptcha';
      if (s.includes('turnstile') || s.includes('challenges.cloudflare.com')) return 'turnstile';
      if (s.includes('friendly') || s.includes('frc-captcha')) return 'friendly-captcha';
      if (s.includes('recaptcha') || s.includes('g-recaptcha')) return 'recaptcha';
      if (s.includes('captcha')) return 'captcha';
      return null;
    };
    for (const el of all) {
      const tag = el.tagName;
      let f = null, where = 'widget';
      if (tag === 'SCRIPT') {
        const src = el.getAttribute('src') || '';
        f = fam(src);
        if (!f && !src && /grecaptcha\.(execute|render)|hcaptcha\.render|turnstile\.render/.test(el.textContent || '')) {
          f = fam(el.textContent.match(/grecaptcha|hcaptcha|turnstile/)[0]);
        }
        if (f === 'captcha') f = null;
        where = 'script';
        if (f === 'recaptcha' && /[?&]render=(?!explicit)/.test(src)) where = 'script-v3';
      } else if (tag === 'IFRAME') {
        f = fam(el.getAttribute('src') || '');
        if (f === 'captcha') f = null;
      } else if (tag === 'IMG') {
        const src = (el.getAttribute('src') || '') + ' ' + (el.id || '') + ' ' + (el.getAttribute('alt') || '');
        if (/captcha/i.test(src)) f = 'image captcha';
      } else {
        const c = (typeof el.className === 'string' ? el.className : '') + ' ' + (el.id || '');
        if (/\b(g-recaptcha|grecaptcha-badge)\b/.test(c)) f = 'recaptcha';
        else if (/\bh-captcha\b/.test(c)) f = 'hcaptcha';
        else if (/\bcf-turnstile\b/.test(c)) f = 'turnstile';
        else if (/\bfrc-captcha\b/.test(c)) f = 'friendly-captcha';
        else if (el.hasAttribute('data-sitekey')) f = fam(c) || 'recaptcha';
        if (f && tag !== 'DIV' && tag !== 'SPAN' && !el.hasAttribute('data-sitekey')) f = null;
      }
      if (f) out.push({ family: f, where, form: where === 'widget' ? owner(el) : null });
    }
    return out;
  }

  function analyze() {
    const all = allElements(document, []);
    const forms = [];
    const formEls = all.filter((el) => el.tagName === 'FORM');
    for (const form of formEls) {
      const els = Array.from(form.elements || []);
      // fields inside the form's shadow roots (web components) count too
      for (const el of allElements(form, [])) {
        if (el.shadowRoot) for (const x of queryAllDeep(el.shadowRoot, FIELD_SEL)) els.push(x);
      }
      const extra = els.filter((e) => e.matches('button, input[type=submit], input[type=image]') && !form.contains(e));
      forms.push(formInfo(form, true, fieldsIn(els), extra));
    }
    // form-less containers: fields outside any <form>, grouped under the lowest ancestor
    // that also holds a button
    const orphans = all.filter((el) => el.matches(FIELD_SEL) && !el.closest('form') && !el.form &&
      !['hidden', 'submit', 'button', 'image', 'reset'].includes((el.getAttribute('type') || '').toLowerCase()));
    const owners = new Map();
    for (const el of orphans) {
      let node = parentOf(el), found = null;
      for (let i = 0; i < 8 && node && node.tagName !== 'BODY' && node.tagName !== 'HTML'; i++) {
        if (node.querySelectorAll(FIELD_SEL).length + queryCountShadow(node) >= 2 &&
            (node.querySelector(BUTTON_SEL) || queryAllDeep(node, BUTTON_SEL).length)) { found = node; break; }
        node = parentOf(node);
      }
      if (!found) continue;
      if (!owners.has(found)) owners.set(found, []);
      owners.get(found).push(el);
    }
    for (const [container, els] of owners) {
      if (els.length < 1) continue;
      forms.push(formInfo(container, false, fieldsIn(els), []));
    }
    const refs = new Set(forms.map((f) => f.ref));
    return {
      url: location.href, title: document.title, lang: document.documentElement.lang || '',
      forms, captchas: captchasIn(all, refs),
    };
  }
  function queryCountShadow(node) {
    let n = 0;
    for (const el of allElements(node, [])) if (el.shadowRoot) n += queryAllDeep(el.shadowRoot, FIELD_SEL).length;
    return n;
  }

  function links() {
    const out = [];
    for (const a of queryAllDeep(document, 'a[href], [role=link][href]')) {
      if (out.length > 1500) break;
      let region = 'body', n = a;
      while (n) {
        const t = n.tagName, r = n.getAttribute && n.getAttribute('role');
        if (t === 'NAV' || r === 'navigation') { region = 'nav'; break; }
        if (t === 'FOOTER' || r === 'contentinfo') { region = 'footer'; break; }
        if (t === 'HEADER' || r === 'banner') { region = 'header'; break; }
        n = parentOf(n);
      }
      out.push({ href: a.href, text: clean(a.innerText || a.textContent, 100),
        aria: a.getAttribute('aria-label'), title: a.getAttribute('title'), region });
    }
    return out;
  }

  function cookies(words) {
    const boxSel = '[id*=cookie i], [class*=cookie i], [id*=consent i], [class*=consent i], ' +
      '[id*=gdpr i], [class*=gdpr i], [id*=onetrust i], [id*=cookiebot i], [class*=cmp i], ' +
      '[id*=didomi i], [aria-label*=cookie i], [role=dialog], [aria-modal=true]';
    const known = ['#onetrust-accept-btn-handler', '#CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll',
      '#CybotCookiebotDialogBodyButtonAccept', '#didomi-notice-agree-button', '.cc-allow', '.cc-dismiss',
      '#cookie_action_close_header', '.cky-btn-accept', '#wt-cli-accept-all-btn', '.cmplz-accept'];
    for (const s of known) {
      const b = document.querySelector(s);
      if (b && !hiddenHow(b)) { b.click(); return clean(b.innerText || s, 60); }
    }
    const norm = (s) => (s || '').toLowerCase().replace(/[\s_\-.!]+/g, ' ').trim();
    for (const box of queryAllDeep(document, boxSel)) {
      if (hiddenHow(box)) continue;
      const txt = norm(box.innerText).slice(0, 3000);
      const isDialog = /dialog/.test(box.getAttribute('role') || '') || box.getAttribute('aria-modal') === 'true';
      if (isDialog && !/cookie|קוקי|עוגיות|cookies|consent|gdpr|datenschutz|privacy|פרטיות/.test(txt)) continue;
      const buttons = box.querySelectorAll('button, a, [role=button], input[type=button], input[type=submit]');
      let pick = null;
      for (const b of buttons) {
        if (hiddenHow(b)) continue;
        const t = norm(b.innerText || b.value || b.getAttribute('aria-label'));
        if (!t || t.length > 40) continue;
        for (const w of words) if (t === w || t.startsWith(w + ' ') || t.endsWith(' ' + w)) { pick = b; break; }
        if (pick) break;
      }
      if (pick) { pick.click(); return clean(pick.innerText || pick.value, 60); }
    }
    return null;
  }

  function stateOf(formRef) {
    const form = formRef ? queryAllDeep(document, '[' + ATTR + '="' + formRef + '"]')[0] : null;
    const vis = (sel) => queryAllDeep(document, sel).filter((e) => !hiddenHow(e) && clean(e.innerText || e.textContent));
    const textOf = (els) => els.map((e) => clean(e.innerText || e.textContent, 300)).join(' | ');
    const success = vis('.w-form-done, .wpforms-confirmation-container, .wpforms-confirmation-container-full, ' +
      '.gform_confirmation_message, .nf-response-msg, .elementor-message-success, .submitted-message, ' +
      '.form-submission-text, .webform-confirmation, .alert-success, .success-message, .form-success, ' +
      '.thank-you, .thankyou, [class*=success i][role=alert], [class*=success i][role=status], ' +
      '.wpcf7-mail-sent-ok, .sqs-form-success, [data-form-success]');
    const failure = vis('.w-form-fail, .elementor-message-danger, .wpforms-error-container, ' +
      '.gform_validation_errors, .validation_error, .nf-error-msg, .alert-danger, .alert-error, .form-error, ' +
      '.error-message, .errorlist, .wpcf7-not-valid-tip, .invalid-feedback, .field-error, .hs-error-msgs, ' +
      '.parsley-errors-list.filled, .webform-error, [role=alert]');
    const invalid = [], native = [];
    const scope = form && form.isConnected ? form : null;
    if (scope) {
      for (const el of [...scope.querySelectorAll(FIELD_SEL), ...queryAllDeep(scope, FIELD_SEL)]) {
        if (hiddenHow(el) && el.type !== 'checkbox') continue;
        if (el.getAttribute('aria-invalid') === 'true') invalid.push(ref(el));
        else if (el.matches(':invalid')) native.push(ref(el));
      }
    }
    // the form came back on a new page (its element is gone): fields marked wrong there
    const invalidPage = scope ? 0 : queryAllDeep(document, FIELD_SEL)
      .filter((el) => el.getAttribute('aria-invalid') === 'true' && !hiddenHow(el)).length;
    let cf7 = null;
    const wp = form && form.closest && form.closest('.wpcf7');
    if (wp || (form && /wpcf7/.test(form.className || ''))) {
      const out = (wp || form).querySelector('.wpcf7-response-output');
      cf7 = { status: form.getAttribute('data-status') || '', cls: form.className || '',
        output: out ? clean(out.textContent, 300) : '' };
    }
    const live = vis('[role=status], [aria-live=polite], [aria-live=assertive]');
    if (!window.__caDoc) window.__caDoc = Math.random().toString(36).slice(2);
    return {
      doc: window.__caDoc,
      url: location.href, form_present: !!(form && form.isConnected),
      form_visible: !!(form && form.isConnected && !hiddenHow(form)),
      invalid: Array.from(new Set(invalid)), native_invalid: Array.from(new Set(native)), success: textOf(success), failure: textOf(failure),
      live: textOf(live), cf7,
      names: scope ? fieldNames(scope) : [], invalid_page: invalidPage,
      forms: Array.from(document.forms).slice(0, 30).map(fieldNames),
      text: deepText().slice(0, 40000),
    };
  }

  // ---- after a refusal: which fields the page itself marks as wrong -----------------
  const ERROR_TIP_SEL = '.wpcf7-not-valid-tip, .invalid-feedback, .validation_message, ' +
    '.gfield_validation_message, .field-error, .error-message, .errorlist, .field-validation-error, ' +
    '.elementor-message-danger, .parsley-errors-list.filled, .form-error, .error, [role=alert]';
  const BAD_FIELD_RE = /(^|\s)(wpcf7-not-valid|is-invalid|input-validation-error|error|invalid)(\s|$)/i;
  const BAD_WRAP_RE = /(^|\s)(gfield_error|has-error|is-invalid|field-error|error|invalid|elementor-error)(\s|$)/i;
  const shown = (el) => el.type !== 'hidden' && !hiddenHow(el);
  function isTip(el) {
    return !!(el && el.matches && el.matches(ERROR_TIP_SEL) && !hiddenHow(el) && clean(el.textContent));
  }
  function rejectedFields(formRef) {
    // fields marked invalid (aria-invalid, an error class on the field or on its own
    // wrapper, an error message beside it), in the form or, when it is gone, the page
    const form = formRef ? queryAllDeep(document, '[' + ATTR + '="' + formRef + '"]')[0] : null;
    const scope = form && form.isConnected ? form : document;
    const out = [];
    for (const el of queryAllDeep(scope, FIELD_SEL)) {
      if (el.type === 'hidden' || el.type === 'submit' || (hiddenHow(el) && el.type !== 'checkbox')) continue;
      let how = null;
      if (el.getAttribute('aria-invalid') === 'true') how = 'aria-invalid';
      else if (BAD_FIELD_RE.test(typeof el.className === 'string' ? el.className : '')) how = 'class';
      else if (isTip(el.nextElementSibling)) how = 'message';
      else {
        let box = el, wrap = null;
        for (let i = 0; i < 4; i++) {  // the field's own wrapper: no other field inside
          const up = parentOf(box);
          if (!up || up === scope || up.tagName === 'FORM' || up.tagName === 'BODY') break;
          if (Array.from(up.querySelectorAll(FIELD_SEL)).filter(shown).length > 1) break;
          box = wrap = up;
        }
        if (wrap && BAD_WRAP_RE.test(typeof wrap.className === 'string' ? wrap.className : '')) how = 'wrapper';
        else if (wrap && Array.from(wrap.querySelectorAll(ERROR_TIP_SEL)).some(isTip)) how = 'message';
      }
      if (how) out.push({ ref: ref(el), name: el.getAttribute('name') || '', idattr: el.id || '', how });
    }
    return out;
  }
  function fieldNames(root) {
    return Array.from(root.querySelectorAll(FIELD_SEL))
      .filter((el) => el.name && !['hidden', 'submit', 'button', 'image', 'reset'].includes(el.type))
      .map((el) => el.name).sort();
  }

  function deepText() {
    // body text plus the text rendered inside open shadow roots (innerText skips them)
    let t = document.body ? document.body.innerText : '';
    for (const el of allElements(document, [])) {
      if (!el.shadowRoot) continue;
      for (const c of el.shadowRoot.children) {
        if (c.tagName !== 'STYLE' && c.tagName !== 'SCRIPT') t += '\n' + (c.innerText || c.textContent || '');
      }
    }
    return t;
  }

  // ---- revealing a hidden form ------------------------------------------------------
  // Controls that may open the closed tab, accordion, modal or <details> holding a form:
  // first those wired to one of its hidden wrappers (aria-controls, data-bs-target /
  // data-target, href="#id", the <summary> of a closed <details>), outermost first; then
  // every visible opener-like control (how: 'text'), whose words the caller judges.
  // Never a control that would submit a form, never a link to another page.
  const REVEAL_SEL = 'button, [role=button], [role=tab], summary, a[href^="#"], ' +
    'a[href^="javascript:" i], a:not([href]), [data-bs-toggle], [data-toggle], [aria-controls], [onclick]';
  function submitsAForm(el) {
    const t = (el.getAttribute('type') || '').toLowerCase();
    if (el.tagName === 'BUTTON') return (t === '' || t === 'submit') && !!el.form;
    if (el.tagName === 'INPUT') return ['submit', 'image'].includes(t);
    return false;
  }
  function selfHidden(n) {
    if (n.hidden || n.getAttribute('aria-hidden') === 'true') return true;
    if (n.tagName === 'DETAILS' && !n.open) return true;
    const cs = getComputedStyle(n);
    if (cs.display === 'none' || cs.visibility === 'hidden') return true;
    if (cs.overflow === 'hidden' || cs.overflowY === 'hidden') {
      const r = n.getBoundingClientRect();
      if (r.height < 2 || r.width < 2) return true;
    }
    return false;
  }
  function revealers(formRef) {
    const out = [], seen = new Set();
    const form = formRef ? queryAllDeep(document, '[' + ATTR + '="' + formRef + '"]')[0] : null;
    const add = (el, how) => {
      if (!el || seen.has(el) || hiddenHow(el) || submitsAForm(el)) return;
      if (form && form.contains(el)) return;
      const href = el.getAttribute('href');
      if (el.tagName === 'A' && href && !/^\s*(#|javascript:)/i.test(href)) return;
      seen.add(el);
      out.push({
        ref: ref(el), how, tag: el.tagName.toLowerCase(), role: el.getAttribute('role'),
        text: clean(el.innerText || el.textContent || el.value || '', 80),
        aria: clean(el.getAttribute('aria-label') || el.getAttribute('title') || '', 80),
        idattr: el.id || null, cls: clean(typeof el.className === 'string' ? el.className : '', 120),
        href, toggle: el.getAttribute('data-bs-toggle') || el.getAttribute('data-toggle'),
      });
    };
    if (form) {
      const chain = [];
      for (let n = form; n && n.nodeType === 1; n = parentOf(n)) if (selfHidden(n)) chain.push(n);
      chain.reverse(); // the outermost hidden wrapper first
      for (const n of chain) {
        if (n.tagName === 'DETAILS') add(n.querySelector(':scope > summary'), 'summary');
        if (n.id) {
          const q = CSS.escape(n.id);
          const sel = '[aria-controls~="' + q + '"], [data-bs-target="#' + q + '"], [data-target="#' +
            q + '"], a[href="#' + q + '"]';
          for (const c of queryAllDeep(document, sel)) add(c, c.hasAttribute('aria-controls') ? 'aria-controls' : 'target');
        }
        if (out.length) break;
      }
    }
    for (const c of queryAllDeep(document, REVEAL_SEL)) {
      if (out.length > 80) break;
      add(c, 'text');
    }
    return out;
  }

  if (op === 'analyze') return analyze();
  if (op === 'reveal') return revealers(arg.form);
  if (op === 'links') return links();
  if (op === 'cookies') return cookies(arg.words || []);
  if (op === 'state') return stateOf(arg.form);
  if (op === 'rejected') return rejectedFields(arg.form);
  return null;
}
