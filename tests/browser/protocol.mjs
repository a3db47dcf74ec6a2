// protocol.mjs - the capture scenarios (a)..(i) clicked through in a real
// browser against tests/apps/protocol_check behind nginx:
//   node protocol.mjs APP_URL prod|debug [SCREENSHOT.png]
// APP_URL is the app's prefix URL (http://127.0.0.1:PORT/app/); the workers
// run with FCDASH_TEST_EXTRAS=1 (layout function, component-tree answer).  In debug
// mode (FCDASH_DEBUG=1 workers) the failing callback must show the
// dev-tools error card "Callback error updating err-out.children" with the
// callback's message; in prod mode nothing is shown and the output stays.
import { check, finish, group, launch, nextUpdate, pick, textOf, waitText } from './lib.mjs';

const url = process.argv[2] || '';
const mode = process.argv[3] || 'prod';
const shot = process.argv[4] || '';
const debug = mode === 'debug';
const L = `${mode}:`;

const PM2 = 'pm values=[None, 1] triggered=[\'{"index":2,"type":"pm"}.n_clicks\']';

async function expectText(page, sel, want, what) {
  const got = await waitText(page, sel, want);
  // JSON quoting keeps a newline in the text from splitting the line.
  return check(`${L} ${what}: ${sel} shows ${JSON.stringify(want)}`, got === want,
    `shows ${JSON.stringify(got)}`);
}

async function clickAnd(page, sel, output, what) {
  const answer = nextUpdate(page, output);
  await page.click(sel);
  const r = await answer;
  check(`${L} ${what}: the callback is called`, r !== null, 'no request within 15 s');
  return r;
}

async function graphTitle(page, want) {
  try {
    await page.waitForFunction((w) => {
      const t = document.querySelector('#graph .gtitle');
      return t && t.textContent === w;
    }, want, { timeout: 15000 });
  } catch {
    // the check below shows what is there
  }
  const t = await page.evaluate(() => document.querySelector('#graph .gtitle')?.textContent ?? '(no title)');
  const points = await page.evaluate(() => document.querySelectorAll('#graph .scatterlayer .point').length);
  check(`${L} graph: the title reads "${want}"`, t === want, t);
  check(`${L} graph: plotly drew 5 markers`, points === 5, points);
}

async function main() {
  if (!check(`${L} an app URL is given`, url !== '', 'usage: node protocol.mjs APP_URL prod|debug')) return;
  let b;
  try {
    b = await launch();
  } catch (e) {
    check(`${L} Chromium starts`, false, String(e).split('\n')[0]);
    return;
  }
  const { page, problems } = b;
  try {
    await group(`${L} page load`, async () => {
      const resp = await page.goto(url);
      check(`${L} the index page answers 200`, resp && resp.status() === 200, resp && resp.status());
      await expectText(page, '#dd-out', '100', 'initial call (a)');
      await expectText(page, '#b-out1', 'b clicks: 0', 'initial call (b)');
      await expectText(page, '#b-out2', 'b2-initial', 'no_update (b)');
      await expectText(page, '#c-out', 'c-initial', 'prevent_initial_call (c)');
      await expectText(page, '#d-out1', 'store v=1', 'store reader 1 (d)');
      await expectText(page, '#d-out2', 'store sq=1, state dd=1', 'store reader 2 with State (d)');
      await expectText(page, '#f-out', 'f=0 f2=None triggered=none', 'initial call (f)');
      await expectText(page, '#err-out', 'err-initial', 'prevent_initial_call (g)');
      await expectText(page, '#side-out', 'side-initial', 'prevent_initial_call (h)');
      await expectText(page, '#pm-out', 'pm values=[None, None] triggered=[]', 'initial call (i)');
      await graphTitle(page, 'y = 1 x');
      if (debug) {
        check(`${L} the dev-tools menu is there`, await page.locator('.dash-debug-menu__outer').count() > 0);
        check(`${L} no error on load (prop-type checks pass)`,
          await page.locator('.test-devtools-error-count').count() === 0,
          await page.locator('.test-devtools-error-count').allInnerTexts());
      } else {
        check(`${L} no dev-tools menu`, await page.locator('.dash-debug-menu__outer').count() === 0);
      }
    });
    await group(`${L} (a)(d)(e) dropdown`, async () => {
      const answer = nextUpdate(page, 'dd-out.children');
      await pick(page, 'dd', 3);
      check(`${L} dropdown 3: the callback is called`, (await answer) !== null);
      await expectText(page, '#dd-out', '300', 'dropdown 3 (a)');
      await expectText(page, '#d-out1', 'store v=3', 'dropdown 3 (d)');
      await expectText(page, '#d-out2', 'store sq=9, state dd=3', 'dropdown 3 (d)');
      await graphTitle(page, 'y = 3 x');
    });
    await group(`${L} (b)`, async () => {
      await clickAnd(page, '#btn-b', '..b-out1.children...b-out2.children..', 'click b');
      await expectText(page, '#b-out1', 'b clicks: 1', 'click b');
      await expectText(page, '#b-out2', 'b2-initial', 'click b, no_update');
    });
    await group(`${L} (c)`, async () => {
      const r = await clickAnd(page, '#btn-c', 'c-out.children', 'click c');
      check(`${L} click c: 204`, r && r.status() === 204, r && r.status());
      await page.waitForTimeout(300);
      await expectText(page, '#c-out', 'c-initial', 'click c, PreventUpdate');
    });
    await group(`${L} (f)`, async () => {
      await clickAnd(page, '#btn-f', 'f-out.children', 'click f');
      await expectText(page, '#f-out', 'f=1 f2=None triggered=btn-f.n_clicks', 'click f');
      await clickAnd(page, '#btn-f2', 'f-out.children', 'click f2');
      await expectText(page, '#f-out', 'f=1 f2=1 triggered=btn-f2.n_clicks', 'click f2');
    });
    await group(`${L} (h)`, async () => {
      const answer = page.waitForResponse((r) => r.url().endsWith('_dash-update-component')
        && (r.request().postData() || '').includes('btn-h'), { timeout: 15000 }).catch(() => null);
      await page.click('#btn-h');
      const r = await answer;
      check(`${L} click h: the no-output callback is called`, r !== null);
      await expectText(page, '#side-out', 'set by sideUpdate, h=1', 'click h, sideUpdate');
    });
    await group(`${L} (i)`, async () => {
      await clickAnd(page, 'button:text-is("pm2")', 'pm-out.children', 'click pm2');
      await expectText(page, '#pm-out', PM2, 'click pm2');
    });
    await group(`${L} (g)`, async () => {
      const r = await clickAnd(page, '#btn-err', 'err-out.children', 'click err');
      check(`${L} click err: 500`, r && r.status() === 500, r && r.status());
      const i = problems.findIndex((p) => p.startsWith('500 ') && p.endsWith('_dash-update-component'));
      if (i >= 0) problems.splice(i, 1);
      await page.waitForTimeout(500);
      await expectText(page, '#err-out', 'err-initial', 'click err, output unchanged');
      if (debug) {
        const title = page.locator('.dash-fe-error__title');
        await title.first().waitFor({ state: 'visible' }).catch(() => {});
        const titles = await title.allInnerTexts();
        check(`${L} the dev-tools error card reads "Callback error updating err-out.children"`,
          titles.some((t) => t.includes('Callback error updating err-out.children')), JSON.stringify(titles));
        check(`${L} the error count is 1`,
          (await page.locator('.test-devtools-error-count').allInnerTexts()).join('') === '1',
          await page.locator('.test-devtools-error-count').allInnerTexts());
        // Opened, the card shows the answer's body: the callback's message.
        await page.locator('.test-devtools-error-toggle').first().click();
        await page.waitForTimeout(300);
        const card = await page.locator('.dash-error-card').first().innerText();
        check(`${L} the opened card shows the callback's message "simulated failure"`,
          card.includes('simulated failure'), card);
        if (shot) {
          await page.screenshot({ path: shot, fullPage: true });
          console.log(`# screenshot: ${shot}`);
        }
      } else {
        check(`${L} no error card without debug mode`, await page.locator('.dash-error-card').count() === 0);
      }
    });
    await group(`${L} extras`, async () => {
      const by = await textOf(page, '#served-by');
      check(`${L} the layout function named its worker (${by})`, /^pid \d+$/.test(by), by);
      await clickAnd(page, '#tree-btn', 'tree-out.children', 'click tree');
      await expectText(page, '#tree-pre', 'a,b\n1,2', 'click tree: a Pre inside the returned Div');
      check(`${L} click tree: the Pre is a <pre> inside #tree-out`,
        await page.locator('#tree-out div.tree > pre#tree-pre').count() === 1);
      const t = await textOf(page, '#tree-out');
      check(`${L} click tree: the Div's text comes first`, t.startsWith('tree n=1'), t);
    });
    await group(`${L} after the error`, async () => {
      await clickAnd(page, '#btn-b', '..b-out1.children...b-out2.children..', 'click b after the 500');
      await expectText(page, '#b-out1', 'b clicks: 2', 'click b after the 500');
    });
    check(`${L} no other failed request and no page error`, problems.length === 0, problems.join('; '));
  } finally {
    await b.close();
  }
}

await main().catch((e) => check(`${L} the script ran to the end`, false, String(e)));
finish();
