// The page's confirmation before an action that changes what consumers do (a reset, a redrive):
// a modal <dialog> that says what will happen, with Cancel and a confirm button that stays
// disabled until the daemon has said what the action would do (the dry run).

export class confirm_dialog {
  constructor(dialog) {
    this.dialog_ = dialog;
    this.title_ = dialog.querySelector('.confirm-title');
    this.body_ = dialog.querySelector('.confirm-body');
    this.confirm_ = dialog.querySelector('.confirm-ok');
    this.cancel_ = dialog.querySelector('.confirm-cancel');
    this.resolve_ = null;
    this.ticket_ = 0;  // which ask() is showing: a late answer for an earlier one changes nothing
    this.confirm_.addEventListener('click', () => this.close_(true));
    this.cancel_.addEventListener('click', () => this.close_(false));
    dialog.addEventListener('cancel', () => this.close_(false));  // Escape
  }

  // content: nodes for the body. Returns { answer, ticket }: answer resolves true when confirmed;
  // ready(yes, ticket) enables the confirm button of this ask() only.
  ask({ title, content, confirm_label }) {
    if (this.resolve_) this.close_(false);
    const ticket = ++this.ticket_;
    this.title_.textContent = title;
    this.body_.replaceChildren(...content);
    this.confirm_.textContent = confirm_label;
    this.confirm_.disabled = false;
    this.dialog_.showModal();
    const answer = new Promise((resolve) => {
      this.resolve_ = resolve;
    });
    return { answer, ticket };
  }

  ready(yes, ticket) {
    if (ticket === this.ticket_ && this.resolve_) this.confirm_.disabled = !yes;
  }

  // Whether this ask() is still the one shown.
  showing(ticket) {
    return ticket === this.ticket_ && this.resolve_ !== null;
  }

  close_(confirmed) {
    if (this.dialog_.open) this.dialog_.close();
    const resolve = this.resolve_;
    this.resolve_ = null;
    if (resolve) resolve(confirmed);
  }
}
