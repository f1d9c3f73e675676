// razorpay.js - the customer of a session whose Razorpay order paywire
// created (issue 10), in a real browser: paywire's checkout page loads
// Razorpay Checkout (the tests' stand-in serves checkout.js and its frame),
// "Pay with Razorpay" opens the frame, "Pay" there hands the payment back to
// the page, which waits for the order.paid webhook and turns paid in place.
//
//   node razorpay.js CHECKOUT_URL OUT_DIR MARKER_FILE
//
// Writes MARKER_FILE once Checkout reported the payment (the shell test then
// delivers Razorpay's signed order.paid), then waits for the page to say
// paid. Every wait is bounded by PW_HANG_MS (default 120 s).
'use strict';
const path = require('path');
const fs = require('fs');
const { chromium } = require('playwright-core');

const HANG_MS = Number(process.env.PW_HANG_MS || 120000);
const [checkoutUrl, outDir, marker] = process.argv.slice(2);
if (!checkoutUrl || !outDir || !marker) {
  console.error('usage: node razorpay.js CHECKOUT_URL OUT_DIR MARKER_FILE');
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
  const errors = [];
  let page = null;
  try {
    const context = await browser.newContext();
    context.setDefaultTimeout(HANG_MS);
    page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    let navigations = 0;
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
    await page.goto(checkoutUrl);
    expect('the page offers "Pay with Razorpay"', await page.isVisible('#pw-razorpay-pay'));
    await page.screenshot({ path: path.join(outDir, '01-razorpay-page.png'), fullPage: true });
    const before = navigations;
    await page.click('#pw-razorpay-pay');
    const frame = page.frameLocator('#razorpay-checkout-frame');
    await frame.locator('#pay').waitFor({ state: 'visible' });
    await page.screenshot({ path: path.join(outDir, '02-razorpay-checkout.png'), fullPage: true });
    await frame.locator('#pay').click();
    await page.waitForFunction(() => /submitted/.test(document.getElementById('pw-razorpay-msg').textContent),
      null, { timeout: HANG_MS });
    expect('Razorpay Checkout handed the payment back to the page', true);
    fs.writeFileSync(marker, 'paid at Razorpay\n');
    await page.waitForFunction(() => document.getElementById('pw-status').textContent === 'paid',
      null, { timeout: HANG_MS });
    expect('the page turned paid once Razorpay\'s order.paid arrived, without a reload',
      navigations === before, `${navigations - before} navigations`);
    expect('the Razorpay section is gone once paid', !(await page.isVisible('#pw-razorpay')));
    await page.screenshot({ path: path.join(outDir, '03-paid.png'), fullPage: true });
    expect('no console error or script exception (the CSP lets Checkout load)', errors.length === 0,
      errors.join('; '));
  } catch (e) {
    if (page) {
      await page.screenshot({ path: path.join(outDir, 'failure.png'), fullPage: true }).catch(() => {});
      fs.writeFileSync(path.join(outDir, 'failure.html'), await page.content().catch(() => ''));
      console.error(`the page at the failure: ${page.url()}; errors: ${errors.join('; ')}`);
    }
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`not ok - ${e.message}`);
  process.exit(1);
});
