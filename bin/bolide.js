#!/usr/bin/env node
// Entry point for `npx bolide …`: runs the compiled program (npm run build).
import('../dist/broker-image/src/main.js').catch((err) => {
  if (err?.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('bolide: dist/ is missing — run `npm ci && npm run build` first');
    process.exit(1);
  }
  throw err;
});
