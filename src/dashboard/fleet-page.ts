import { PAGE_CSS } from "./page-styles.js";

/**
 * The fleet dashboard's page: structure only, no data (it is served without the token). What it shows
 * arrives from the token-protected fleet view and is put in place by fleet-app.js.
 */
export const FLEET_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>cutover fleet dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="style.css">
<script type="module" src="fleet-app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <h1><span class="brand">cutover fleet</span> <span id="service" class="service"></span></h1>
  <p class="summary">
    <span id="fleet-summary"></span>
    <span id="connection" class="connection" data-state="connecting">connecting…</span>
  </p>
</header>
<main id="main" tabindex="-1">
  <form id="token-form" class="panel token-form" hidden>
    <h2>Token needed</h2>
    <p id="token-problem">This page needs the fleet dashboard's token. Open the link that <code>cutover dashboard</code> printed when it started this dashboard.</p>
    <label for="token-input">Token</label>
    <input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false" required>
    <button type="submit">Connect</button>
  </form>

  <section id="fleet-deploy" class="panel deploy" aria-labelledby="fleet-deploy-title" hidden>
    <h2 id="fleet-deploy-title">Fleet deploy</h2>
    <div id="fleet-deploy-body"></div>
  </section>

  <section id="regions" class="regions" aria-labelledby="regions-title" hidden>
    <h2 id="regions-title" class="visually-hidden">Regions</h2>
  </section>
</main>

<div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="false"></div>
</body>
</html>
`;

/** The service dashboard's styles, and the few the fleet's cards and waves add. */
export const FLEET_PAGE_CSS = `${PAGE_CSS}
.regions { grid-column: 1 / -1; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); }
.region-card { border-top: 6px solid var(--line); }
.region-card[data-live="blue"] { border-top-color: var(--blue); }
.region-card[data-live="green"] { border-top-color: var(--green); }
.region-card[data-state="unreachable"] { border-top-color: var(--red); background: linear-gradient(var(--red-soft), var(--panel) 5rem); }
.region-card h3 { display: flex; gap: .5rem; align-items: center; font-size: 1.1rem; }
.region-card h3 .badge { margin-left: auto; }
.badge.unreachable { color: var(--red); }
.colour-name { font-weight: 600; text-transform: capitalize; }
.colour-name.blue { color: var(--blue); }
.colour-name.green { color: var(--green); }
.waves { list-style: none; margin: 0; padding: 0; display: grid; gap: .4rem; }
.wave { display: grid; grid-template-columns: 5rem minmax(0, 1fr); gap: .2rem .8rem; padding: .45rem .6rem; border-radius: 6px;
  border-left: 4px solid var(--line); }
.wave[data-state="deploying"], .wave[data-state="baking"] { border-left-color: var(--blue); background: var(--blue-soft); }
.wave[data-state="passed"] { border-left-color: var(--green); }
.wave[data-state="failed"] { border-left-color: var(--red); background: var(--red-soft); }
.wave .wave-name { font-weight: 600; }
.wave .wave-detail { color: var(--muted); overflow-wrap: anywhere; grid-column: 2; }
`;
