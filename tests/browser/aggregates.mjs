// aggregates.mjs - the guide's Example 2 (precomputed aggregates) in a real
// browser through nginx:
//   node aggregates.mjs BASE_URL REFERENCE.json [SCREENSHOT.png]
// REFERENCE.json (written by test_examples.py with pandas) maps "ALL",
// "MTL", "SF", "NYC" to {store: json.dumps of the three frames' split JSON,
// counts: {apples: n, oranges: n, figs: n}}.  The page loads with no city
// chosen, then MTL, SF and NYC are picked.  Each time the Store receives
// exactly the Python app's text, the three graphs are titled "apples: N
// rows", "oranges: N rows", "figs: N rows" over N markers each, and the
// slow step is asked for once while each graph is asked once.
import fs from 'node:fs';
import { check, finish, group, launch, pick } from './lib.mjs';

const base = (process.argv[2] || process.env.FCDASH_BASE_URL || '').replace(/\/$/, '');
const refPath = process.argv[3] || '';
const shot = process.argv[4] || '';
const FRUITS = ['apples', 'oranges', 'figs'];
const OUTPUTS = ['intermediate-value.data', 'graph1.figure', 'graph2.figure', 'graph3.figure'];

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

function graphs(page) {
  return page.evaluate(() => ['graph1', 'graph2', 'graph3'].map((id) => {
    const gd = document.querySelector(`#${id} .js-plotly-plot`);
    return {
      title: gd ? [...gd.querySelectorAll('.gtitle')].map((e) => e.textContent).join('|') : null,
      markers: gd ? gd.querySelectorAll('.scatterlayer .trace .points path').length : 0,
    };
  }));
}

async function step(page, log, label, ref, act) {
  const from = log.length;
  await act();
  const titles = FRUITS.map((f) => `${f}: ${ref.counts[f]} rows`);
  let ok = true;
  try {
    await page.waitForFunction((want) => ['graph1', 'graph2', 'graph3'].every((id, k) => {
      const gd = document.querySelector(`#${id} .js-plotly-plot`);
      return gd && [...gd.querySelectorAll('.gtitle')].map((e) => e.textContent).join('|') === want[k];
    }), titles, { timeout: 20000 });
  } catch {
    ok = false;
  }
  await page.waitForTimeout(1500);
  const g = await graphs(page);
  check(`${label}: the three graphs are titled ${titles.map((t) => `"${t}"`).join(', ')}`, ok,
    JSON.stringify(g));
  check(`${label}: each draws its frame's markers (${FRUITS.map((f) => ref.counts[f]).join(', ')})`,
    g.every((x, k) => x.markers === ref.counts[FRUITS[k]]), JSON.stringify(g));
  const c = {};
  for (const o of OUTPUTS) c[o] = 0;
  for (const e of log.slice(from)) c[e.output] = (c[e.output] || 0) + 1;
  check(`${label}: one slow step for three graphs: each output asked once (${JSON.stringify(c)})`,
    OUTPUTS.every((o) => c[o] === 1) && Object.keys(c).length === OUTPUTS.length, JSON.stringify(c));
  const stored = log.slice(from).find((e) => e.output === 'intermediate-value.data');
  const data = stored && stored.body && stored.body.response
    && stored.body.response['intermediate-value'] && stored.body.response['intermediate-value'].data;
  check(`${label}: the Store receives exactly json.dumps of the three frames' split JSON`,
    data === ref.store, `got ${String(data).slice(0, 200)}, expected ${ref.store.slice(0, 200)}`);
  check(`${label}: every answer is 200`, log.slice(from).every((e) => e.status === 200),
    JSON.stringify(log.slice(from).map((e) => [e.output, e.status])));
}

async function main() {
  if (!check('a base URL and the reference are given', base !== '' && refPath !== '',
    'usage: node aggregates.mjs BASE_URL REFERENCE.json [SCREENSHOT]')) return;
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
    await group('page load', () => step(page, log, 'page load (no city)', ref.ALL, async () => {
      const resp = await page.goto(`${base}/aggregates/`);
      check('GET /aggregates/ answers 200', resp && resp.status() === 200, resp && resp.status());
    }));
    for (const city of ['MTL', 'SF', 'NYC']) {
      await group(`pick ${city}`, () => step(page, log, `pick ${city}`, ref[city],
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
