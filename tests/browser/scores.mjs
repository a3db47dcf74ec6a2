// scores.mjs - the scores app in a real browser through nginx:
//   node scores.mjs BASE_URL [SCREENSHOT.png]
// loads BASE_URL/scores/, waits for the first count, then picks each value
// 1..5 in the real dcc.Dropdown (click it, click the option) and checks the
// count the callback sends back: 1 -> 3, 2 -> 2, 3 -> 1, 4 -> 0, 5 -> 4.
import { check, finish, group, launch, nextUpdate, pick, textOf, waitText } from './lib.mjs';

const base = (process.argv[2] || process.env.FCDASH_BASE_URL || '').replace(/\/$/, '');
const shot = process.argv[3] || process.env.FCDASH_SCREENSHOT || '';
const COUNT = { 1: '3', 2: '2', 3: '1', 4: '0', 5: '4' };

async function main() {
  if (!check('a base URL is given', base !== '', 'usage: node scores.mjs BASE_URL [SCREENSHOT]')) return;
  let b;
  try {
    b = await launch();
  } catch (e) {
    check('Chromium starts', false, String(e).split('\n')[0]);
    return;
  }
  const { page, problems } = b;
  try {
    await group('page loads', async () => {
      const first = nextUpdate(page, 'output.children');
      const resp = await page.goto(`${base}/scores/`);
      check('GET /scores/ answers 200', resp && resp.status() === 200, resp && resp.status());
      const r = await first;
      check('the initial callback answers 200', r && r.status() === 200, r ? r.status() : 'no request');
      check('the first count is 3 (value 1)', (await waitText(page, '#output', '3')) === '3',
        await textOf(page, '#output'));
      check('the page shows the text "was scored by this many students:"',
        (await page.locator('#react-entry-point').innerText()).includes('was scored by this many students:'));
      check('the dropdown shows 1', (await textOf(page, '#score')) === '1', await textOf(page, '#score'));
      check('the dcc async dropdown chunk was loaded', await page.evaluate(() =>
        performance.getEntriesByType('resource').some((e) => e.name.endsWith('/dash/dcc/async-dropdown.js'))));
    });
    // 1 is already chosen: picking it again sends nothing and the count stays.
    await group('pick 1', async () => {
      await pick(page, 'score', 1);
      check('pick 1 (already chosen): the count stays 3', (await waitText(page, '#output', '3')) === '3',
        await textOf(page, '#output'));
    });
    for (const v of [2, 3, 4, 5, 1]) {
      await group(`pick ${v}`, async () => {
        const answer = nextUpdate(page, 'output.children');
        await pick(page, 'score', v);
        const r = await answer;
        if (!check(`pick ${v}: the callback is called`, r !== null, 'no request within 15 s')) return;
        const sent = JSON.parse(r.request().postData()).inputs[0].value;
        check(`pick ${v}: the request carries value ${v}`, sent === v, sent);
        const got = await waitText(page, '#output', COUNT[v]);
        check(`pick ${v}: #output shows ${COUNT[v]}`, got === COUNT[v], got);
        check(`pick ${v}: the dropdown shows ${v}`, (await textOf(page, '#score')) === String(v),
          await textOf(page, '#score'));
        if (v === 5 && shot) {
          await page.screenshot({ path: shot, fullPage: true });
          console.log(`# screenshot: ${shot}`);
        }
      });
    }
    check('no failed request and no page error', problems.length === 0, problems.join('; '));
  } finally {
    await b.close();
  }
}

await main().catch((e) => check('the script ran to the end', false, String(e)));
finish();
