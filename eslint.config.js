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

/*
 * The image builder's folders, in the same way: shared helpers and the profile at the bottom, then the root
 * filesystem, the disk layout that holds it, the build stages, and the commands on top.
 */
const IMAGE_LAYERS = [
  ['lib', 'profile', 'apk'],
  ['rootfs'],
  ['layout'],
  ['stages', 'bundle', 'emulator'],
  ['cli'],
];

function layerRules(root, layers) {
  const blocks = [];
  layers.forEach((layer, rank) => {
    const above = layers.slice(rank).flat();
    for (const folder of layer) {
      const forbidden = above.filter((f) => f !== folder);
      // One block per folder depth, so that a relative import is matched exactly: `../x/` from firmware/f/a.ts.
      for (let depth = 1; depth <= 3; depth++) {
        blocks.push({
          files: [`${root}/${folder}/${'*/'.repeat(depth - 1)}*.ts`],
          rules: {
            'no-restricted-imports': [
              'error',
              {
                patterns: [
                  {
                    regex: `^(\\.\\./){${depth}}(${forbidden.join('|')})/`,
                    message: `imports point down: ${root}/${folder} may not import a folder of its own layer or above (eslint.config.js)`,
                  },
                  ...(root === 'firmware'
                    ? [
                        {
                          regex: '^(\\.\\./)+images/',
                          message: 'the firmware does not import the image builder',
                        },
                      ]
                    : []),
                ],
              },
            ],
          },
        });
      }
    }
  });
  return blocks;
}

function driverRules() {
  return [
    {
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
    },
  ];
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
  ...layerRules('firmware', LAYERS),
  ...layerRules('images', IMAGE_LAYERS),
  ...driverRules(),
);
