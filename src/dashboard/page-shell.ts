/**
 * The dashboard's page: structure only, no data (it is served without the token). Everything it shows
 * arrives over the token-protected live stream and is put in place by app.js.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>cutover dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="style.css">
<script type="module" src="app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <h1><span class="brand">cutover</span> <span id="service" class="service"></span></h1>
  <p class="summary">
    <span id="health" class="badge" hidden></span>
    <span id="live-colour" class="live-colour" data-colour="">live: <strong>…</strong></span>
    <span id="connection" class="connection" data-state="connecting">connecting…</span>
  </p>
</header>
<main id="main" tabindex="-1">
  <form id="token-form" class="panel token-form" hidden>
    <h2>Token needed</h2>
    <p id="token-problem">This page needs the daemon's token. Open the link that <code>cutover dashboard</code> prints, or paste the token from <code>.cutover/token</code>.</p>
    <label for="token-input">Token</label>
    <input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false" required>
    <button type="submit">Connect</button>
  </form>

  <section id="actions" class="panel actions" aria-labelledby="actions-title" hidden>
    <h2 id="actions-title" class="visually-hidden">Actions</h2>
    <div class="buttons">
      <button type="button" id="promote" class="primary" disabled>Promote</button>
      <button type="button" id="abort" class="danger" disabled>Abort</button>
      <button type="button" id="rollback" disabled>Roll back</button>
    </div>
    <p id="action-outcome" class="outcome" role="status"></p>
  </section>

  <section id="colours" class="colours" aria-labelledby="colours-title" hidden>
    <h2 id="colours-title" class="visually-hidden">Colours</h2>
  </section>
  <p id="database-sync" class="sync-line" role="status" hidden></p>

  <section id="deploy" class="panel deploy" aria-labelledby="deploy-title" hidden>
    <h2 id="deploy-title">Deploy</h2>
    <div id="deploy-body"></div>
  </section>

  <section id="charts" class="panel charts" aria-labelledby="charts-title" hidden>
    <h2 id="charts-title">Traffic per colour</h2>
    <p class="legend" aria-hidden="true">
      <span class="key blue">blue</span> <span class="key green">green</span>
      <span class="key p99">p99 (dashed)</span>
      <span class="key switch">switch</span> <span class="key rollback">rollback</span>
    </p>
    <div id="chart-grid" class="chart-grid"></div>
  </section>

  <section id="history" class="panel history" aria-labelledby="history-title" hidden>
    <h2 id="history-title">History</h2>
    <div id="history-body" class="table-wrap"></div>
  </section>
</main>

<div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="false"></div>

<dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
  <form method="dialog">
    <h2 id="confirm-title"></h2>
    <p id="confirm-text"></p>
    <div class="buttons">
      <button type="submit" value="cancel" id="confirm-cancel">Cancel</button>
      <button type="submit" value="confirm" id="confirm-ok" class="primary"></button>
    </div>
  </form>
</dialog>
</body>
</html>
`;
