// No browser: the reporter's authentication tests run only this file (--grep @nobrowser).
const { test, expect } = require('@playwright/test');

test('adds numbers', { tag: '@nobrowser' }, async () => {
  console.log('plain test output');
  expect(1 + 1).toBe(2);
});
