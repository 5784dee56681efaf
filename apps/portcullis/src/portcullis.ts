#!/usr/bin/env node
/*
 * The `portcullis` command's entry. It imports nothing before it has checked the Node version:
 * on Node 20 our libraries fail at import with errors that name no cause (undici's
 * "webidl.util.markAsUncloneable is not a function"), so the check has to come first, and the
 * real program is loaded only after it, by a dynamic import.
 */
const NEEDED = 24;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= NEEDED)) {
  process.stderr.write(
    `portcullis: needs Node.js ${NEEDED} or later, this is Node.js ${process.versions.node} (${process.execPath}); run bin/portcullis, which finds the Node ${NEEDED} that make installs under .tools/\n`,
  );
  process.exit(1);
}
await import('./main.js');
