// store.mjs - the guide's Example 1 (store an intermediate value) in a real
// browser through nginx:
//   node store.mjs BASE_URL REFERENCE.json [SCREENSHOT.png]
// REFERENCE.json (written by test_examples.py with pandas) maps "ALL",
// "MTL", "SF", "NYC" to {store: the text of cleaned_df.to_json(orient=
// 'split', date_format='iso'), rows: [[city, fruit, day, amount], ...]}.
// The page loads with no city chosen (all 27 rows), then MTL, SF and NYC are
// picked in the real dcc.Dropdown.  Each time: the Store receives exactly
// pandas' text, the table shows a header and one row per frame row with
// the frame's cells, the graph's title reads "<n> rows" over n markers,
// and the slow step is asked for once (one intermediate-value.data
// request), the graph and the table once each.
import fs from 'node:fs';
import { check, finish, group, launch, pick } from './lib.mjs';

const base = (process.argv[2] || process.env.FCDASH_BASE_URL || '').replace(/\/$/, '');
const refPath = process.argv[3] || '';
const shot = process.argv[4] || '';
const OUTPUTS = ['intermediate-value.data', 'graph.figure', 'table.children'];
const HEADER = ['city', 'fruit', 'day', 'amount'];

// Every _dash-update-component request and answer, by output.
function recorder(page) {
  const log = [];
  page.on('response', async (r) => {
    const req = r.request();
    if (!req.url().endsWith('_dash-update-component') || req.method() !== 'POST') return;
    let output = null;
    try {
      output = JSON.parse(req.postData() || '{}').output;
    } catch {
      output = '?';
    }
    const entry = { output, status: r.status(), body: null };
    log.push(entry);
    entry.body = await r.json().catch(() => null);
  });
  return log;
}

function counts(log, from) {
  const c = {};
  for (const o of OUTPUTS) c[o] = 0;
  for (const e of log.slice(from)) c[e.output] = (c[e.output] || 0) + 1;
  return c;
}

// What the page shows: table rows as cell texts, the graph's title and
// its drawn markers.
function shown(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll('#table tr')]
      .map((tr) => [...tr.children].map((td) => `${td.tagName}:${td.textContent}`));
    const gd = document.querySelector('#graph .js-plotly-plot');
    return {
      rows,
      title: gd ? [...gd.querySelectorAll('.gtitle')].map((e) => e.textContent).join('|') : null,
      markers: gd ? gd.querySelectorAll('.scatterlayer .trace .points path').length : 0,
    };
  });
}

async function settle(page, n) {
  try {
    await page.waitForFunction((want) => {
      const gd = document.querySelector('#graph .js-plotly-plot');
      const title = gd && [...gd.querySelectorAll('.gtitle')].map((e) => e.textContent).join('|');
      return document.querySelectorAll('#table tr').length === want + 1 && title === `${want} rows`;
    }, n, { timeout: 20000 });
    return true;
  } catch {
    return false;
  }
}

async function step(page, log, label, key, ref, act) {
  const from = log.length;
  const t0 = Date.now();
  await act();
  const n = ref.rows.length;
  const ok = await settle(page, n);
  const ms = Date.now() - t0;
  // Anything else the change sets off would have gone out by now.
  await page.waitForTimeout(1500);
  check(`${label}: the table shows a header and ${n} rows, the graph "${n} rows"`, ok,
    JSON.stringify(await shown(page)).slice(0, 300));
  const s = await shown(page);
  const want = [HEADER.map((h) => `TH:${h}`)].concat(ref.rows.map((r) => r.map((v) => `TD:${v}`)));
  check(`${label}: the table's cells are the frame's (${n} rows of ${key})`,
    JSON.stringify(s.rows) === JSON.stringify(want), `${JSON.stringify(s.rows).slice(0, 300)}`);
  check(`${label}: the graph draws ${n} markers`, s.markers === n, s.markers);
  const c = counts(log, from);
  check(`${label}: one change, one slow step: intermediate-value.data, graph.figure and `
    + `table.children each asked once (${JSON.stringify(c)})`,
  OUTPUTS.every((o) => c[o] === 1) && Object.keys(c).length === OUTPUTS.length, JSON.stringify(c));
  const stored = log.slice(from).find((e) => e.output === 'intermediate-value.data');
  const data = stored && stored.body && stored.body.response
    && stored.body.response['intermediate-value'] && stored.body.response['intermediate-value'].data;
  check(`${label}: the Store receives exactly pandas' to_json(orient='split') text`,
    data === ref.store, `got ${String(data).slice(0, 200)}, expected ${ref.store.slice(0, 200)}`);
  check(`${label}: every answer is 200`, log.slice(from).every((e) => e.status === 200),
    JSON.stringify(log.slice(from).map((e) => [e.output, e.status])));
  check(`${label}: the page shows it after the 1 s slow step (${ms} ms)`, ms >= 950, `${ms} ms`);
}

async function main() {
  if (!check('a base URL and the reference are given', base !== '' && refPath !== '',
    'usage: node store.mjs BASE_URL REFERENCE.json [SCREENSHOT]')) return;
  const ref = JSON.parse(fs.readFileSync(refPath, 'utf8'));
  let b;
  try {
    b = await launch();
  } catch (e) {
    check('Chromium starts', false, String(e).split('\n')[0]);
    return;
  }
  const { page, problems } = b;
  const log = recorder(page);
  try {
    await group('page load', () => step(page, log, 'page load (no city)', 'all cities', ref.ALL,
      async () => {
        const resp = await page.goto(`${base}/store/`);
        check('GET /store/ answers 200', resp && resp.status() === 200, resp && resp.status());
      }));
    for (const city of ['MTL', 'SF', 'NYC']) {
      await group(`pick ${city}`, () => step(page, log, `pick ${city}`, city, ref[city],
        () => pick(page, 'dropdown', city)));
    }
    if (shot) {
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`# screenshot: ${shot}`);
    }
    check('no failed request and no page error', problems.length === 0, problems.join('; '));
  } finally {
    await b.close();
  }
}

await main().catch((e) => check('the script ran to the end', false, String(e)));
finish();
