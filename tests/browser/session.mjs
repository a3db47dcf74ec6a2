// session.mjs - the guide's Example 4 (per-session server data) in two real
// browsers at once, through nginx:
//   node session.mjs BASE_URL [SCREENSHOT_PREFIX]
// Two fresh browsers load /session/ at the same moment.  Each page gets its
// own session id in the layout's dcc.Store; its two outputs show "Output N -
// Button has been clicked None times" over the same CSV frame (computed
// once for the session: four timestamps, values a b a c), and the two
// browsers' frames differ.  Pressing "Get data" updates both outputs to
// "clicked 1 times" (then 2) at once, without a second computation, and
// each browser keeps its own frame throughout.  Prints "# session-ids A B"
// for the caller, which checks the pool's counters and log.
import { check, finish, group, launch } from './lib.mjs';

const base = (process.argv[2] || process.env.FCDASH_BASE_URL || '').replace(/\/$/, '');
const shots = process.argv[3] || '';
const OUTS = ['output-1', 'output-2'];
// The computation sleeps 3 s; an answer from the session's cache is instant.
const COLD_MIN = 2900;
const COLD_MAX = 8000;
const WARM_MAX = 1000;
const SHOW_MAX = 3000;

function isUpdate(r, output) {
  if (!r.url().endsWith('_dash-update-component') || r.method() !== 'POST') return false;
  try {
    return JSON.parse(r.postData() || '{}').output === output;
  } catch {
    return false;
  }
}

// The two outputs as shown: the text line and the Pre.
function outputs(page) {
  return page.evaluate((ids) => ids.map((id) => {
    const e = document.getElementById(id);
    const pre = e && e.querySelector('pre');
    const text = e ? e.innerText : '';
    return { line: text.split('\n')[0].trim(), pre: pre ? pre.textContent : null };
  }), OUTS);
}

async function waitOutputs(page, clicks, timeout = 20000) {
  try {
    await page.waitForFunction(([ids, k]) => ids.every((id, n) => {
      const e = document.getElementById(id);
      return e && e.querySelector('pre')
        && e.innerText.startsWith(`Output ${n + 1} - Button has been clicked ${k} times`);
    }), [OUTS, clicks], { timeout });
    return true;
  } catch {
    return false;
  }
}

// The CSV of the guide's frame: ",time,values" then rows 0..3 with times 5 s
// apart and values a, b, a, c.
function frameOk(pre) {
  const m = /^,time,values\n0,(\S+ \S+),a\n1,(\S+ \S+),b\n2,(\S+ \S+),a\n3,(\S+ \S+),c\n$/.exec(pre || '');
  if (!m) return false;
  const t = m.slice(1).map((s) => Date.parse(s.replace(' ', 'T')));
  return t.every((v, i) => i === 0 || Math.abs(v - t[i - 1] - 5000) < 1);
}

async function open(name) {
  const b = await launch();
  const page = b.page;
  const s = { name, b, page, answers: [] };
  page.on('response', async (r) => {
    const req = r.request();
    if (req.url().endsWith('_dash-layout')) {
      const lay = await r.json().catch(() => null);
      const store = lay && lay.props && lay.props.children && lay.props.children[0];
      s.id = store && store.props && store.props.data;
    } else if (OUTS.some((o) => isUpdate(req, `${o}.children`))) {
      const t = req.timing();
      s.answers.push({ output: JSON.parse(req.postData()).output, status: r.status(),
        ms: Math.round(t.responseStart - t.requestStart) });
    }
  });
  return s;
}

async function load(s) {
  const t0 = Date.now();
  const resp = await s.page.goto(`${base}/session/`);
  check(`${s.name}: GET /session/ answers 200`, resp && resp.status() === 200, resp && resp.status());
  const ok = await waitOutputs(s.page, 'None');
  s.loadMs = Date.now() - t0;
  check(`${s.name}: both outputs show "Output N - Button has been clicked None times" and a Pre`, ok,
    JSON.stringify(await outputs(s.page)));
}

async function click(s, k) {
  const from = s.answers.length;
  const before = await outputs(s.page);
  const t0 = Date.now();
  await s.page.click('#get-data-button');
  const ok = await waitOutputs(s.page, String(k), 10000);
  const ms = Date.now() - t0;
  const after = await outputs(s.page);
  check(`${s.name}: "Get data" (${k}): both outputs say "clicked ${k} times"`, ok, JSON.stringify(after));
  const answers = s.answers.slice(from);
  check(`${s.name}: "Get data" (${k}): both callbacks answered 200 at once, from the session's `
    + `data (${answers.map((a) => `${a.ms} ms`).join(', ')})`,
  answers.length === 2 && answers.every((a) => a.status === 200 && a.ms < WARM_MAX), JSON.stringify(answers));
  check(`${s.name}: "Get data" (${k}): shown within ${SHOW_MAX} ms (${ms} ms)`, ms < SHOW_MAX, `${ms} ms`);
  check(`${s.name}: "Get data" (${k}): the frame is unchanged (no second computation)`,
    after.every((o) => o.pre === before[0].pre), JSON.stringify([before[0].pre, after.map((o) => o.pre)]));
}

async function main() {
  if (!check('a base URL is given', base !== '', 'usage: node session.mjs BASE_URL [SCREENSHOT_PREFIX]')) return;
  let a;
  let b;
  try {
    a = await open('browser A');
    b = await open('browser B');
  } catch (e) {
    check('Chromium starts', false, String(e).split('\n')[0]);
    if (a) await a.b.close();
    return;
  }
  try {
    await group('both pages load at once', async () => {
      await Promise.all([load(a), load(b)]);
      console.log(`# session-ids ${a.id} ${b.id}`);
      check('each page got a session id in its Store, and they differ',
        /^s1\.[A-Za-z0-9_-]{80}$/.test(a.id || '') && /^s1\.[A-Za-z0-9_-]{80}$/.test(b.id || '') && a.id !== b.id,
        `${a.id} ${b.id}`);
      for (const s of [a, b]) {
        const o = await outputs(s.page);
        check(`${s.name}: both outputs show the same frame (one computation for the session)`,
          o[0].pre !== null && o[0].pre === o[1].pre, JSON.stringify(o));
        check(`${s.name}: the frame is the guide's: four times 5 s apart, values a b a c`, frameOk(o[0].pre),
          JSON.stringify(o[0].pre));
        const first = s.answers.slice(0, 2);
        check(`${s.name}: both initial callbacks took the one computation's 3 s (${first.map((x) => `${x.ms} ms`).join(', ')})`,
          first.length === 2 && first.every((x) => x.status === 200 && x.ms >= COLD_MIN && x.ms <= COLD_MAX),
          JSON.stringify(s.answers));
        s.pre = o[0].pre;
      }
      check('the two browsers show different data (their times differ)', a.pre && b.pre && a.pre !== b.pre,
        JSON.stringify([a.pre, b.pre]));
    });
    await group('browser A: Get data', async () => {
      await click(a, 1);
      await click(a, 2);
    });
    await group('browser B: Get data', () => click(b, 1));
    await group('each keeps its own data', async () => {
      const oa = await outputs(a.page);
      const ob = await outputs(b.page);
      check('browser A still shows its own frame, never B\'s', oa.every((o) => o.pre === a.pre), JSON.stringify(oa));
      check('browser B still shows its own frame, never A\'s', ob.every((o) => o.pre === b.pre), JSON.stringify(ob));
    });
    if (shots) {
      for (const s of [a, b]) {
        const file = `${shots}-${s.name.split(' ')[1]}.png`;
        await s.page.screenshot({ path: file, fullPage: true });
        console.log(`# screenshot: ${file}`);
      }
    }
    check('no failed request and no page error', a.b.problems.length === 0 && b.b.problems.length === 0,
      a.b.problems.concat(b.b.problems).join('; '));
  } finally {
    await a.b.close();
    await b.b.close();
  }
}

await main().catch((e) => check('the script ran to the end', false, String(e)));
finish();
