/** File-system names for ids from webhooks: reversible, and never a path separator or dot name. */

/**
 * Percent-encodes everything but [A-Za-z0-9_-]: `a/b+c==` → `a%2Fb%2Bc%3D%3D`. The empty id is `%`,
 * a name no other id encodes to (`%00` is the id "\0"). Lone surrogates are stored as U+FFFD.
 */
export function safeName(id: string): string {
  if (id.length === 0) return '%';
  let out = '';
  for (const byte of Buffer.from(id, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Inverse of {@link safeName}. */
export function fromSafeName(name: string): string {
  return name === '%' ? '' : decodeURIComponent(name);
}
