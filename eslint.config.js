import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { workflowBundleFiles } from './scripts/workflow-bundle-files.mjs';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins there, ever.
const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.tokenwise/**', '**/dist/**', '**/migrations/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      // One program for the whole workspace (the root tsconfig): a project per package would load
      // every package's sources once per package and need several GB.
      parserOptions: { project: ['./tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Every file the worker bundles into the sandbox: the workflow definitions, the payload
    // converter and everything they import by value, across packages (core included).
    files: [
      '**/workflows.ts',
      '**/workflows-*.ts',
      '**/payload-converter.ts',
      ...workflowBundleFiles(import.meta.dirname, ['workflows/src/workflows.ts', 'workflows/src/payload-converter.ts']),
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code runs in the Temporal sandbox: no Node built-ins. Move I/O to an activity.',
          })),
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
