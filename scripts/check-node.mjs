// Stops `npm start` and `npm test` early, with the fix, when the running Node.js is too old.
// evq runs TypeScript directly through Node's type stripping, which needs Node.js 22.18 or later.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 22)) {
  console.error(
    `evq needs Node.js 22.22 or later (24 recommended), but this is ${process.versions.node}. ` +
      'Run `. scripts/node.sh` to put Node.js 24 first on PATH, then retry.',
  );
  process.exit(1);
}
