// ESLint flat config: typescript-eslint's recommended type-checked rules over src/, migrations/ and test/.
// Formatting is Prettier's job (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.data/**', '**/*.mjs', '**/*.js', '**/*.cjs', 'src/web/graphql-env.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // One program for src, migrations and test (test/tsconfig.json holds all three) and one for the dashboard: with a
      // tsconfig per file (projectService) src was type-checked twice, once for itself and once for the tests.
      parserOptions: { project: ['./test/tsconfig.json', './src/web/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its error and its ordering: the bug this linter is here first for.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      // Express error handlers and loader signatures need parameters they do not use: name them _x.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Not yet: each would take a large change for little safety today. SQL rows (MikroORM's execute) and
      // GraphQL answers in tests are untyped (`any`); migrations and Apollo plugins are async by interface;
      // graphql-js compares its operation enums with string literals.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // csv-parse's generic overloads need the assertion its inference rule objects to.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // String(x) of values that are primitives at run time (error codes, query parameters, request ids, cells).
      '@typescript-eslint/no-base-to-string': 'off',
      // Deliberate: releasing a large buffer for the collector, and initial values read in a catch.
      'no-useless-assignment': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // expect(object.method) passes methods around unbound on purpose.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
