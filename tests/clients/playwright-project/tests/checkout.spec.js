// Every outcome the reporter has to carry: pass, failure with screenshot and trace, flaky,
// skipped; tags, annotations, steps, stdout; nested describe blocks. No network: setContent only.
const { test, expect } = require('@playwright/test');

const PAGE = `<!doctype html><html><head><title>Shop</title></head>
<body><h1 id="title">Cart</h1><p class="total">Total: 42</p></body></html>`;

test.describe('checkout', () => {
  test.describe('cart', () => {
    test(
      'shows the total',
      {
        tag: ['@smoke', '@cart'],
        annotation: { type: 'issue', description: 'https://example.invalid/issues/7' },
      },
      async ({ page }) => {
        console.log('opening the cart page');
        console.error('cart warning on stderr');
        await test.step('open the cart', async () => {
          await page.setContent(PAGE);
        });
        await expect(page.locator('.total')).toHaveText('Total: 42');
      },
    );

    test('applies the discount', async ({ page }) => {
      await page.setContent(PAGE);
      await test.step('check the discounted total', async () => {
        await expect(page.locator('.total')).toHaveText('Total: 37', { timeout: 300 });
      });
    });
  });

  test('recovers on retry', async ({ page }, testInfo) => {
    // On every attempt; with uploadAttachments: 'failures' only the failed one's is sent.
    await testInfo.attach('attempt-log', { body: `attempt ${testInfo.retry}\n`, contentType: 'text/plain' });
    await page.setContent(PAGE);
    // Fails on the first attempt only; passes on retry #1.
    expect(testInfo.retry, 'fails unless this is a retry').toBeGreaterThan(0);
  });

  test('pays with a gift card', async () => {
    test.skip(true, 'gift cards are not sold yet');
  });
});
