import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.venv/', 'dist/', 'target/', 'docs/api/', '**/generated/', 'web/dist/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers in template literals are how error messages name shapes.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `expect(() => kernel(...)).toThrow()` is the idiom for calls that return nothing.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    },
  },
  { files: ['eslint.config.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.mjs'], languageOptions: { globals: globals.node } },
  { files: ['**/*.browser.mjs'], languageOptions: { globals: globals.worker } },
);
