// The app's member screens are tabs (`#nhiem-vu`, `#ghi-chep`, `#ghi-moi`, `#dong-bo`), kept in the
// address so a reload stays on the same one. Tests open the one they need.

/** Open a member tab: `tasks`, `notes`, `new` or `sync` (no-op on screens without tabs). */
export async function showTab(page, name, timeout = 20_000) {
  const sel = `[data-testid=nav-${name}]`;
  await page.waitForSelector('body[data-app-ready]', { state: 'attached', timeout });
  if ((await page.locator(sel).count()) === 0) {
    // The tabs appear once the session is known; give the app a moment.
    await page.waitForSelector(sel, { timeout: 5_000 }).catch(() => {});
  }
  if ((await page.locator(sel).count()) > 0) {
    await page.click(sel);
    await page.waitForSelector(`${sel}[aria-current=page]`, { timeout: 5_000 });
  }
}
