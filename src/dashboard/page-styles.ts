/** The dashboard's styles: light and dark (prefers-color-scheme), one column on a phone. */
export const PAGE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --panel: #ffffff; --text: #1b1f24; --muted: #59636e; --line: #d4d9df;
  --blue: #1d5fd6; --green: #1a7f37; --red: #c4262e; --amber: #9a6700; --focus: #8a4dff;
  --blue-soft: #e3edff; --green-soft: #dcf5e3; --red-soft: #fde8e8; --amber-soft: #fff3cd;
  --grid: #e6e9ed;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1318; --panel: #181d24; --text: #e6e9ed; --muted: #9aa4af; --line: #2e3641;
    --blue: #6ea8ff; --green: #4cc96f; --red: #ff7b7b; --amber: #e3b341; --focus: #c4a3ff;
    --blue-soft: #16294a; --green-soft: #133320; --red-soft: #3d1518; --amber-soft: #3a2d0c;
    --grid: #262d36;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--blue); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -999px; top: 0; background: var(--panel); padding: .5rem 1rem; z-index: 2; }
.skip:focus { left: .5rem; }
h1, h2, h3 { margin: 0; line-height: 1.2; }
h2 { font-size: 1.05rem; margin-bottom: .6rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .92em; }

.top { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: center; justify-content: space-between;
  padding: .8rem 1.2rem; background: var(--panel); border-bottom: 1px solid var(--line); }
.top h1 { font-size: 1.25rem; }
.brand { color: var(--muted); font-weight: 600; }
.summary { margin: 0; display: flex; flex-wrap: wrap; gap: .5rem .9rem; align-items: center; }
.live-colour strong { text-transform: uppercase; letter-spacing: .04em; }
.live-colour[data-colour="blue"] strong { color: var(--blue); }
.live-colour[data-colour="green"] strong { color: var(--green); }
.connection { color: var(--muted); font-size: .9rem; }
.connection::before { content: "●"; margin-right: .3rem; }
.connection[data-state="live"]::before { color: var(--green); }
.connection[data-state="retrying"]::before, .connection[data-state="refused"]::before { color: var(--red); }

main { max-width: 1200px; margin: 0 auto; padding: 1rem; display: grid; gap: 1rem;
  grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
main:focus { outline: none; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; min-width: 0; }
.actions, .colours, .charts, .history, .token-form, .sync-line { grid-column: 1 / -1; }
.sync-line { margin: 0; padding: .5rem .8rem; border-left: 4px solid var(--green); background: var(--panel); }
.sync-line.warning { border-left-color: var(--amber); background: var(--amber-soft); }
.deploy { grid-column: 1 / -1; }

.badge { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600;
  border: 1px solid currentColor; }
.badge.ok, .badge.Healthy { color: var(--green); }
.badge.bad, .badge.Aborted, .badge.Degraded { color: var(--red); }
.badge.Paused { color: var(--amber); }
.badge.Progressing { color: var(--blue); }

button { font: inherit; min-height: 44px; padding: .45rem 1.1rem; border-radius: 8px; cursor: pointer;
  border: 1px solid var(--line); background: var(--panel); color: var(--text); }
button.primary { background: var(--blue); border-color: var(--blue); color: #fff; font-weight: 600; }
button.danger { border-color: var(--red); color: var(--red); font-weight: 600; }
button:disabled { opacity: .45; cursor: not-allowed; }
button.link { min-height: 32px; padding: .1rem .5rem; font-size: .88rem; }
@media (prefers-color-scheme: dark) { button.primary { color: #0f1318; } }
.buttons { display: flex; flex-wrap: wrap; gap: .6rem; }
.outcome { margin: .6rem 0 0; min-height: 1.4em; color: var(--muted); }
.outcome.bad { color: var(--red); }
.outcome.ok { color: var(--green); }

.colours { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1rem; }
.colour-card { border-top: 6px solid var(--line); }
.colour-card.blue { border-top-color: var(--blue); }
.colour-card.green { border-top-color: var(--green); }
.colour-card.live.blue { background: linear-gradient(var(--blue-soft), var(--panel) 5rem); }
.colour-card.live.green { background: linear-gradient(var(--green-soft), var(--panel) 5rem); }
.colour-card h3 { display: flex; gap: .5rem; align-items: center; font-size: 1.1rem; text-transform: capitalize; }
.colour-card .role { margin-left: auto; }
.colour-card.live .role { background: var(--text); color: var(--panel); border-color: var(--text); }
.facts { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: .15rem .8rem; margin: .7rem 0 .4rem; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.share { display: flex; align-items: center; gap: .5rem; }
.share-bar { flex: 1; height: .5rem; background: var(--grid); border-radius: 999px; overflow: hidden; min-width: 3rem; }
.share-bar span { display: block; height: 100%; background: currentColor; }
.colour-card.blue .share-bar { color: var(--blue); }
.colour-card.green .share-bar { color: var(--green); }
.replicas { list-style: none; margin: .3rem 0 0; padding: 0; font-size: .9rem; }
.replicas li { display: flex; gap: .4rem; align-items: baseline; overflow-wrap: anywhere; }
.dot { width: .65rem; height: .65rem; border-radius: 50%; background: var(--muted); flex: none; align-self: center; }
.dot.ready { background: var(--green); }
.dot.crashed, .dot.unready { background: var(--red); }
.dot.starting { background: var(--amber); }
.note { color: var(--muted); font-size: .88rem; margin: .4rem 0 0; overflow-wrap: anywhere; }

.deploy-head { display: flex; flex-wrap: wrap; gap: .4rem .8rem; align-items: center; margin-bottom: .6rem; }
.deploy-head h3 { font-size: 1rem; }
.reason { border-left: 4px solid var(--amber); background: var(--amber-soft); padding: .5rem .8rem; margin: 0 0 .8rem;
  border-radius: 0 6px 6px 0; overflow-wrap: anywhere; }
.reason.bad { border-left-color: var(--red); background: var(--red-soft); }
.steps { list-style: none; margin: 0; padding: 0; display: grid; gap: .3rem; }
.step { display: grid; grid-template-columns: 1.6rem minmax(7rem, 11rem) 5rem minmax(0, 1fr); gap: .6rem; align-items: baseline;
  padding: .35rem .5rem; border-radius: 6px; }
.step .mark { font-weight: 700; text-align: center; }
.step .took { font-variant-numeric: tabular-nums; color: var(--muted); text-align: right; }
.step .detail { color: var(--muted); overflow-wrap: anywhere; }
.step.running { background: var(--blue-soft); }
.step.running .mark { color: var(--blue); }
.step.succeeded .mark { color: var(--green); }
.step.failed { background: var(--red-soft); }
.step.failed .mark, .step.failed .detail { color: var(--red); }
.step.skipped, .step.pending { opacity: .7; }
.verdict { font-weight: 700; }
.verdict.Pass { color: var(--green); }
.verdict.Marginal, .verdict.Inconclusive { color: var(--amber); }
.verdict.Fail { color: var(--red); }

.chart-grid { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 1rem; }
.chart { margin: 0; }
.chart h3 { font-size: .95rem; margin-bottom: .3rem; }
.chart svg { width: 100%; height: auto; display: block; overflow: visible; }
.chart .axis { fill: var(--muted); font-size: 11px; }
.chart .gridline { stroke: var(--grid); stroke-width: 1; }
.chart .line { fill: none; stroke-width: 2; stroke-linejoin: round; }
.chart .line.blue { stroke: var(--blue); }
.chart .line.green { stroke: var(--green); }
.chart .line.dashed { stroke-dasharray: 5 3; stroke-width: 1.5; }
.chart .marker { stroke-width: 1.5; stroke-dasharray: 3 3; }
.chart .marker.switch { stroke: var(--text); }
.chart .marker.rollback { stroke: var(--red); }
.chart .marker-label { font-size: 10.5px; fill: var(--text); }
.chart .marker-label.rollback { fill: var(--red); }
.chart .empty { fill: var(--muted); font-size: 13px; }
.legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; margin: -.2rem 0 .6rem; font-size: .88rem; color: var(--muted); }
.key::before { content: ""; display: inline-block; width: 1.4rem; height: 0; vertical-align: middle; margin-right: .35rem;
  border-top: 3px solid var(--muted); }
.key.blue::before { border-top-color: var(--blue); }
.key.green::before { border-top-color: var(--green); }
.key.p99::before { border-top-style: dashed; border-top-width: 2px; }
.key.switch::before { border-top: 2px dashed var(--text); width: .8rem; }
.key.rollback::before { border-top: 2px dashed var(--red); width: .8rem; }

.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.reason-cell { color: var(--muted); max-width: 28rem; overflow-wrap: anywhere; }
.empty-note { color: var(--muted); margin: 0; }

.token-form { display: grid; gap: .5rem; max-width: 34rem; }
.token-form input { font: inherit; padding: .5rem; border-radius: 6px; border: 1px solid var(--line);
  background: var(--bg); color: var(--text); min-height: 44px; }
dialog { border: 1px solid var(--line); border-radius: 10px; background: var(--panel); color: var(--text);
  max-width: min(32rem, calc(100vw - 2rem)); padding: 1.2rem; }
dialog::backdrop { background: rgb(0 0 0 / .45); }
dialog p { overflow-wrap: anywhere; }

@media (max-width: 900px) {
  .chart-grid { grid-template-columns: minmax(0, 1fr); }
}
@media (max-width: 640px) {
  main { padding: .6rem; gap: .7rem; grid-template-columns: minmax(0, 1fr); }
  .panel { padding: .8rem; }
  .colours { gap: .6rem; }
  .colour-card { padding: .7rem; }
  .facts { grid-template-columns: minmax(0, 1fr); gap: 0; }
  .facts dt { font-size: .8rem; margin-top: .3rem; }
  .step { grid-template-columns: 1.4rem minmax(0, 1fr) auto; }
  .step .detail { grid-column: 2 / -1; }
  .top { padding: .6rem .8rem; }
  .buttons button { flex: 1 1 6rem; }
  .history th.optional, .history td.optional { display: none; }
}
`;
