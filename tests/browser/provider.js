// provider.js - the customer of a session whose checkout paywire created at
// Stripe (issue 10), in a real browser: paywire's checkout page sends the
// browser to Stripe's page (the tests' stand-in, which plays Stripe's hosted
// checkout), "Pay" there brings it back to the merchant's success_url.
//
//   node provider.js CHECKOUT_URL STRIPE_PAGE_PREFIX SUCCESS_PREFIX OUT_DIR
//
// Prints one JSON line: {"provider_url": ..., "success_url": ...}. Every
// wait is bounded by PW_HANG_MS (default 120 s), which only a hang reaches.
'use strict';
const path = require('path');
const fs = require('fs');
const { chromium } = require('playwright-core');

const HANG_MS = Number(process.env.PW_HANG_MS || 120000);
const [checkoutUrl, stripePrefix, successPrefix, outDir] = process.argv.slice(2);
if (!checkoutUrl || !stripePrefix || !successPrefix || !outDir) {
  console.error('usage: node provider.js CHECKOUT_URL STRIPE_PAGE_PREFIX SUCCESS_PREFIX OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

function expect(what, cond, detail) {
  if (!cond) throw new Error(`expected ${what}${detail === undefined ? '' : `: ${detail}`}`);
  console.error(`ok - ${what}`);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.PW_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    timeout: HANG_MS,
  });
  const result = {};
  let page = null;
  try {
    const context = await browser.newContext();
    context.setDefaultTimeout(HANG_MS);
    page = await context.newPage();
    await page.goto(checkoutUrl);
    expect('paywire\'s checkout page sends the browser to Stripe\'s page',
      page.url().startsWith(stripePrefix), page.url());
    result.provider_url = page.url();
    await page.screenshot({ path: path.join(outDir, '01-provider-page.png'), fullPage: true });
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(successPrefix)),
      page.click('#pay')]);
    expect('paying there brings the browser back to the merchant\'s success_url',
      page.url().startsWith(successPrefix), page.url());
    result.success_url = page.url();
    await page.screenshot({ path: path.join(outDir, '02-success.png'), fullPage: true });
  } catch (e) {
    if (page) {
      await page.screenshot({ path: path.join(outDir, 'failure.png'), fullPage: true }).catch(() => {});
      fs.writeFileSync(path.join(outDir, 'failure.html'), await page.content().catch(() => ''));
      console.error(`the page at the failure: ${page.url()}`);
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
