import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const frameworkFree = 'src/ is framework-free: put Fastify code in app/, plugins/ or routes/.'
const devOnly = { group: ['**/dev/*', '**/dev/**'], message: 'dev/ (simulator, demo) is never imported by the product.' }

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', '.tap/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error'
    }
  },
  {
    // the product never reaches into the development tools (simulator, demo)
    files: ['app/**/*.ts', 'plugins/**/*.ts', 'endpoints/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [devOnly] }] }
  },
  {
    // routes call decorators; the store is reached through the services plugins build
    files: ['routes/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [devOnly, { group: ['**/src/store/*', '**/src/store/**'], message: 'routes call decorators, never repositories.' }] }
      ]
    }
  },
  {
    // src/ is the framework-free core: the web framework stays in app/, plugins/ and routes/
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['fastify', 'fastify-plugin'].map((name) => ({ name, message: frameworkFree })),
          patterns: [{ group: ['@fastify/*'], message: frameworkFree }, devOnly]
        }
      ]
    }
  }
)
