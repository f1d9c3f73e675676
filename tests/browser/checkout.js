// checkout.js - a customer's whole visit in a real browser: Debian's chromium
// driven by playwright-core (tests/integration/browser_test.sh starts the
// server and the bridge and calls this).
//
//   node checkout.js PAY_URL FAIL_URL OUT_DIR
//
// PAY_URL: the checkout page of a test-mode session (with its secret) that
// sells an access key and has success/cancel URLs. FAIL_URL: another one.
// Screenshots go to OUT_DIR. Prints one JSON line: {"access_key": ...,
// "access_url": ..., "continue_url": ...} for the shell test to check with
// the CLI. Every wait is bounded by HANG_MS, which only a hang reaches;
// nothing here measures a time. Any failed expectation exits 1 with a line
// that says which.
'use strict';
const path = require('path');
const fs = require('fs');
const { chromium } = require('playwright-core');

const HANG_MS = Number(process.env.PW_HANG_MS || 120000);
const [payUrl, failUrl, outDir] = process.argv.slice(2);
if (!payUrl || !failUrl || !outDir) {
  console.error('usage: node checkout.js PAY_URL FAIL_URL OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

let step = 0;
function expect(what, cond, detail) {
  if (!cond) {
    throw new Error(`expected ${what}${detail === undefined ? '' : `: ${detail}`}`);
  }
  console.error(`ok - ${what}`);
}
async function shot(page, name) {
  step += 1;
  const file = path.join(outDir, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.PW_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // root in CI and containers: chromium's sandbox needs user namespaces
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    timeout: HANG_MS,
  });
  const result = {};
  const errors = [];
  let page = null;
  try {
    const context = await browser.newContext();
    context.setDefaultTimeout(HANG_MS);
    page = await context.newPage();
    // The CSP and the page's script must work together: a console error or
    // an uncaught exception (a CSP refusal shows as one) fails the test.
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));

    // ---- the checkout page, paid with "Pay (test)" without a reload
    let navigations = 0;
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
    const resp = await page.goto(payUrl);
    expect('the checkout page answers 200', resp.status() === 200, resp.status());
    await shot(page, 'checkout');
    expect('the page says who is paid', /Pay /.test(await page.textContent('h1')), await page.textContent('h1'));
    const status0 = await page.textContent('#pw-status');
    expect('the session starts unpaid', status0 === 'created' || status0 === 'pending', status0);
    expect('the paid section is hidden', !(await page.isVisible('#pw-paid')));
    expect('"Pay (test)" is offered', await page.isVisible('#pw-pay'));
    expect('"Fail (test)" is offered', await page.isVisible('#pw-fail'));
    const cancel = await page.getAttribute('#pw-cancel-a', 'href');
    expect('the way back to cancel_url is offered', cancel && cancel.startsWith('https://shop.example/'), cancel);
    const before = navigations;
    await page.click('#pw-pay');
    await page.waitForFunction(() => document.getElementById('pw-status').textContent === 'paid',
      null, { timeout: HANG_MS });
    await page.waitForSelector('#pw-paid', { state: 'visible' });
    expect('the page turned paid without a reload', navigations === before, `${navigations - before} navigations`);
    expect('the test buttons are gone once paid', !(await page.isVisible('#pw-pay')));
    expect('the cancel link is gone once paid', !(await page.isVisible('#pw-cancel-a')));
    await page.waitForSelector('#pw-access', { state: 'visible' });
    result.access_url = await page.getAttribute('#pw-access', 'href');
    expect('the access link appears', /\/access\/[^?]+\?token=/.test(result.access_url || ''), result.access_url);
    result.continue_url = await page.getAttribute('#pw-continue', 'href');
    expect('the continue link is success_url with the session id',
      (result.continue_url || '').startsWith('https://shop.example/thanks'), result.continue_url);
    await shot(page, 'paid');

    // ---- the access page: the receipt, and the key only after the button
    await page.click('#pw-access');
    await page.waitForSelector('#pw-reveal', { state: 'visible' });
    expect('following the access link reaches the access page', page.url().includes('/access/'), page.url());
    expect('the key is not shown before the reveal', (await page.$('#pw-key')) === null);
    await shot(page, 'access');
    await Promise.all([page.waitForNavigation(), page.click('#pw-reveal')]);
    await page.waitForSelector('#pw-key', { state: 'visible' });
    result.access_key = (await page.textContent('#pw-key')).trim();
    expect('the reveal shows an access key', /^ak_(test|live)_/.test(result.access_key), result.access_key.slice(0, 8));
    await shot(page, 'revealed');

    // ---- a second visit: gone
    await page.goto(result.access_url);
    expect('a second visit does not show the key', (await page.$('#pw-key')) === null);
    expect('a second visit says it was already revealed', await page.isVisible('#pw-revealed'));
    expect('a second visit offers no reveal button', (await page.$('#pw-reveal')) === null);
    await shot(page, 'second-visit');

    // ---- "Fail (test)" on another session
    await page.goto(failUrl);
    await page.click('#pw-fail');
    await page.waitForFunction(() => document.getElementById('pw-status').textContent === 'failed',
      null, { timeout: HANG_MS });
    expect('"Fail (test)" turns the page failed', true);
    expect('a failed session shows no paid section', !(await page.isVisible('#pw-paid')));
    await shot(page, 'failed');
    expect('no console error or script exception on any page', errors.length === 0, errors.join('; '));
  } catch (e) {
    // what the browser showed when it went wrong, for the test's output
    if (page) {
      await page.screenshot({ path: path.join(outDir, 'failure.png'), fullPage: true }).catch(() => {});
      fs.writeFileSync(path.join(outDir, 'failure.html'), await page.content().catch(() => ''));
      console.error(`the page at the failure: ${page.url()} (failure.png, failure.html in ${outDir})`);
    }
    throw e;
  } finally {
    await browser.close();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e) => {
  console.error(`not ok - ${e.message}`);
  process.exit(1);
});
