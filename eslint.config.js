// Lint (`npm run lint`, part of `npm test`): typescript-eslint with type information, for
// the bugs types alone miss: promises nobody awaits, `any` (the brief calls it a bug).
// Formatting is prettier's job (`npm run format`), not eslint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', '.tools/', 'dashboards/', 'install/', 'dist/', 'bench/.data/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // `_name` marks what a signature or a destructuring must mention but does not use.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // A `let` read by a closure before its single assignment (late binding) cannot be `const`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // The byte scanners initialise their locals on purpose, so V8 sees one type per variable.
      'no-useless-assignment': 'off',
    },
  },
  {
    // Start-up (README, "Start-up"): the bundle drops zod's unused parts (its locales) only
    // for a namespace import; the InfluxDB client loads only for the influx outputs.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "ImportDeclaration[source.value='zod'][importKind='value'] > :matches(ImportSpecifier[importKind='value'], ImportDefaultSpecifier)",
          message: "import * as z from 'zod': the one style the bundle shakes (`import { z }` keeps every locale)",
        },
        {
          selector: "ImportDeclaration[source.value='@influxdata/influxdb-client'] > ImportSpecifier[imported.name='escape']",
          message: 'escape from src/core/line-protocol-escape.ts (the client would load on every replay)',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
  },
);
