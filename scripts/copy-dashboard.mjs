// Copies the dashboard's static files (plain ES modules, CSS, HTML) next to the compiled plugin:
// src/dashboard/public → dist/dashboard/public. Run after `tsc` in `npm run build`.
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src', 'dashboard', 'public');
const to = join(root, 'dist', 'dashboard', 'public');
if (!existsSync(join(root, 'dist'))) {
  console.error('copy-dashboard: dist/ not found; run tsc first');
  process.exit(1);
}
cpSync(from, to, { recursive: true });
