import { byId, setText } from "./dom.js";

/**
 * The admin token in the page: it arrives in the URL fragment (#token=..., never sent to the server),
 * is kept in this tab's sessionStorage, and the fragment is wiped from the address bar at once.
 */
const KEY = "cutover-token";

export function takeToken(): string | null {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const given = fragment.get("token");
  if (given) {
    sessionStorage.setItem(KEY, given.trim());
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token.trim());
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}

/** Hides the page's `sections` and shows the token form, with `problem` (a refused token) when there is one. */
export function askForToken(sections: readonly string[], problem: string | null): void {
  for (const id of sections) byId(id).hidden = true;
  if (problem) setText(byId("token-problem"), problem);
  byId("token-form").hidden = false;
  byId("token-input").focus();
}

/**
 * The page's start: the token form connects with what is typed into it; the token from the address (or this
 * tab) connects at once, else the form is shown.
 */
export function connectWithToken(sections: readonly string[], connect: (token: string) => void): void {
  byId<HTMLFormElement>("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>("token-input");
    const token = input.value.trim();
    input.value = "";
    if (token === "") return;
    saveToken(token);
    connect(token);
  });
  const token = takeToken();
  if (token) connect(token);
  else askForToken(sections, null);
}
