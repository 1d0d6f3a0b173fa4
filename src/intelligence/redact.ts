/**
 * PII redaction before anything leaves for an LLM: e-mail addresses and phone numbers become
 * `[email]` and `[phone]`. Deliberately greedy on phone-like digit runs (7–15 digits with the usual
 * separators), but times ("10:30"), dates ("2026-12-03") and short numbers stay.
 */

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** A digit run that may be a phone number: optional +, digits, spaces, dots, dashes, parentheses. */
const PHONE_CANDIDATE = /(?<![\w+])\+?\(?\d[\d\s().-]{5,}\d(?!\w)/g;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface RedactionCounts {
  email: number;
  phone: number;
}

export function redactPii(text: string, counts?: RedactionCounts): string {
  let out = text.replace(EMAIL, () => {
    if (counts) counts.email++;
    return '[email]';
  });
  out = out.replace(PHONE_CANDIDATE, (m) => {
    const trimmed = m.trim();
    const digits = trimmed.replace(/\D/g, '').length;
    if (digits < 7 || digits > 15 || ISO_DATE.test(trimmed)) return m;
    // Two numbers separated by a single space and no other separator ("between 2019 and 2020" never gets here; "1200 1300" does): keep plain lists of short numbers.
    if (!/[+()\-.]/.test(trimmed) && trimmed.split(/\s+/).some((g) => g.length < 3)) return m;
    if (counts) counts.phone++;
    // Keep the whitespace the greedy match took at either end.
    return m.replace(trimmed, '[phone]');
  });
  return out;
}
