// The lint step (make lint, run first by scripts/test.sh through make lint). Two jobs, no general style
// rules on purpose (layout is prettier's, see .prettierrc.json):
//
// 1. Regular expressions: every pattern in the sources may see message or client data, so each must run
//    in linear time: a quantifier that can trade characters with another (polynomial or exponential
//    backtracking), or an unanchored pattern whose quantifier is retried from every start position (a
//    quadratic move, as `[>"')]+$` was on an href), is an error.
// 2. Promises and `any`, with type information (typescript-eslint's project service reads each file's
//    own tsconfig.json, the one `tsc --build` compiles it with): a promise nobody awaits loses its
//    rejection (an unhandled rejection stops the process), a promise where a plain value is expected is
//    always truthy, and an `any` (JSON.parse, a callback of an untyped library) switches the type checker
//    off for everything it flows into. Parse it at the boundary (zod) or give it a type.
import tseslint from 'typescript-eslint';
import regexp from 'eslint-plugin-regexp';

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', 'var/**'] },
  {
    files: ['{libs,services,apps}/*/{src,test}/**/*.ts', 'test/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 'latest',
      sourceType: 'module',
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    // The sources carry directives for core rules this step does not run (no-control-regex): not
    // reported as unused.
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    plugins: { regexp, '@typescript-eslint': tseslint.plugin },
    rules: {
      // Backtracking that grows with the input: /(a+)+$/, /\s*\w*\s*x/ ... ('potential': also where
      // the attack needs a suffix the pattern might not see in practice; we cannot tell, so we assume it).
      'regexp/no-super-linear-backtracking': ['error', { report: 'potential' }],
      // Quadratic moves: an unanchored quantifier retried from every start (the href trim of issue 14).
      // Sticky patterns are tried at one position only, so they cannot move.
      'regexp/no-super-linear-move': ['error', { report: 'potential', ignoreSticky: true, ignorePartial: false }],
      // Overlapping alternatives under a quantifier, (a|a?)+: exponential backtracking.
      'regexp/no-dupe-disjunctions': ['error', { report: 'trivial', reportExponentialBacktracking: 'potential', reportUnreachable: 'certain' }],

      // A promise is awaited, returned, or handed to `void` on purpose (with its rejection handled).
      // node:test's test/it/describe at the top of a file: the runner awaits them and reports their failures.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      // No promise where a condition or a void callback is expected (an async listener's rejection is lost).
      '@typescript-eslint/no-misused-promises': 'error',
      // `any` does not flow on unchecked.
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
    },
  },
];
