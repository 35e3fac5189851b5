import tseslint from 'typescript-eslint';

/*
 * Imports point down: surfaces -> services -> drivers. Each firmware folder may import the folders of lower layers
 * only, never one of its own layer or above (a new folder gets a layer here). Drivers import no firmware.
 */
const LAYERS = [
  ['lib', 'config', 'protocol'],
  ['auth', 'disks', 'skywire', 'update'],
  ['agent', 'telemetry', 'rewards'],
  ['supervisor'],
  ['panel'],
  ['control'],
  ['console'],
  ['compose'],
  ['sim'],
  ['cli'],
];

function layerRules() {
  const blocks = [];
  LAYERS.forEach((layer, rank) => {
    const above = LAYERS.slice(rank).flat();
    for (const folder of layer) {
      const forbidden = above.filter((f) => f !== folder);
      // One block per folder depth, so that a relative import is matched exactly: `../x/` from firmware/f/a.ts.
      for (let depth = 1; depth <= 3; depth++) {
        blocks.push({
          files: [`firmware/${folder}/${'*/'.repeat(depth - 1)}*.ts`],
          rules: {
            'no-restricted-imports': [
              'error',
              {
                patterns: [
                  {
                    regex: `^(\\.\\./){${depth}}(${forbidden.join('|')})/`,
                    message: `imports point down: firmware/${folder} may not import a folder of its own layer or above (eslint.config.js LAYERS)`,
                  },
                  { regex: '^(\\.\\./)+images/', message: 'the firmware does not import the image builder' },
                ],
              },
            ],
          },
        });
      }
    }
  });
  blocks.push({
    files: ['drivers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(firmware|images)/',
              message: 'imports point down: drivers import no firmware',
            },
          ],
        },
      ],
    },
  });
  return blocks;
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'out/', '.cache/', 'coverage/', 'drivers/native/build/'] },
  ...tseslint.configs.recommended,
  {
    files: ['firmware/**/*.ts', 'drivers/**/*.ts', 'images/**/*.ts', 'test/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A dropped promise on a device loop is a silent hang or an unhandled rejection that kills the process.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layerRules(),
);
