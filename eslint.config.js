// The lint step (make lint, run first by scripts/test.sh): regular expressions only. Every pattern in
// the sources may see message or client data, so each must run in linear time: a quantifier that can
// trade characters with another (polynomial or exponential backtracking), or an unanchored pattern
// whose quantifier is retried from every start position (a quadratic move, as `[>"')]+$` was on an
// href), is an error. No general style rules on purpose: this step guards against ReDoS, nothing else.
import tsParser from '@typescript-eslint/parser';
import regexp from 'eslint-plugin-regexp';

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', 'var/**'] },
  {
    files: ['{libs,services,apps}/*/{src,test}/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' },
    // The sources carry directives for core rules this step does not run (no-control-regex): not
    // reported as unused.
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    plugins: { regexp },
    rules: {
      // Backtracking that grows with the input: /(a+)+$/, /\s*\w*\s*x/ ... ('potential': also where
      // the attack needs a suffix the pattern might not see in practice; we cannot tell, so we assume it).
      'regexp/no-super-linear-backtracking': ['error', { report: 'potential' }],
      // Quadratic moves: an unanchored quantifier retried from every start (the href trim of issue 14).
      // Sticky patterns are tried at one position only, so they cannot move.
      'regexp/no-super-linear-move': ['error', { report: 'potential', ignoreSticky: true, ignorePartial: false }],
      // Overlapping alternatives under a quantifier, (a|a?)+: exponential backtracking.
      'regexp/no-dupe-disjunctions': ['error', { report: 'trivial', reportExponentialBacktracking: 'potential', reportUnreachable: 'certain' }],
    },
  },
];
