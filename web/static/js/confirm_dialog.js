// The page's confirmation before an action that changes what consumers do (a reset, a redrive):
// a modal <dialog> that says what will happen, with Cancel and a confirm button that stays
// disabled until the daemon has said what the action would do (the dry run).

import { el } from './dom.js';

export class confirm_dialog {
  constructor(dialog) {
    this.dialog_ = dialog;
    this.title_ = dialog.querySelector('.confirm-title');
    this.body_ = dialog.querySelector('.confirm-body');
    this.confirm_ = dialog.querySelector('.confirm-ok');
    this.cancel_ = dialog.querySelector('.confirm-cancel');
    this.resolve_ = null;
    this.confirm_.addEventListener('click', () => this.close_(true));
    this.cancel_.addEventListener('click', () => this.close_(false));
    dialog.addEventListener('cancel', () => this.close_(false));  // Escape
  }

  // content: nodes for the body; resolves true when confirmed. ready(false) until it may be.
  ask({ title, content, confirm_label }) {
    if (this.resolve_) this.close_(false);
    this.title_.textContent = title;
    this.body_.replaceChildren(...content);
    this.confirm_.textContent = confirm_label;
    this.ready(true);
    this.dialog_.showModal();
    return new Promise((resolve) => {
      this.resolve_ = resolve;
    });
  }

  ready(yes) {
    this.confirm_.disabled = !yes;
  }

  // A line of the body that later text replaces (the plan, once the daemon answered).
  static line(text, class_name = '') {
    return el('p', class_name, text);
  }

  close_(confirmed) {
    if (this.dialog_.open) this.dialog_.close();
    const resolve = this.resolve_;
    this.resolve_ = null;
    if (resolve) resolve(confirmed);
  }
}
