import { byId, setText } from "./dom.js";

export interface Confirmation {
  readonly title: string;
  readonly text: string;
  readonly confirm: string;
}

/**
 * Asks before an action, in the page's modal dialog: Escape or Cancel says no. Focus starts on Cancel
 * and goes back where it was afterwards.
 */
export function confirmAction(question: Confirmation): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>("confirm");
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  setText(byId("confirm-title"), question.title);
  setText(byId("confirm-text"), question.text);
  setText(byId("confirm-ok"), question.confirm);
  dialog.returnValue = "";
  dialog.showModal();
  byId("confirm-cancel").focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        opener?.focus();
        resolve(dialog.returnValue === "confirm");
      },
      { once: true },
    );
  });
}
