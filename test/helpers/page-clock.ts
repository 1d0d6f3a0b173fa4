// When each transcript line entered the dashboard, by the page's own clock (the same machine's as the
// test's), so a latency budget measures the dashboard rather than how soon Playwright's polling notices.
import type { Page } from 'playwright-core';

type Seen = { __lineSeenAt: Record<string, number> };

/** Starts recording, for every page load, when each `#transcript .line` is added (keyed by its text). */
export async function recordTranscriptLines(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: Record<string, number> = ((window as unknown as Seen).__lineSeenAt = {});
    new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) {
          // The line's text is its last node (after the time and the speaker).
          if (n instanceof HTMLElement && n.matches('#transcript .line')) seen[n.lastChild?.textContent ?? ''] ??= Date.now();
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
}

/** When the line with this text was added to the page (ms since the epoch), or undefined. */
export async function lineSeenAt(page: Page, text: string): Promise<number | undefined> {
  return page.evaluate((t) => (window as unknown as Seen).__lineSeenAt?.[t], text);
}
