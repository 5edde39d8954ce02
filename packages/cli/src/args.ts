import { parseArgs } from 'node:util';

/** A usage error: bad flags or values. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The commands of `xlens`. */
export const commands = [
  'explain',
  'evaluate',
  'visualize',
  'methods',
  'metrics',
  'layers',
  'predict',
  'worker',
  'help',
] as const;
export type Command = (typeof commands)[number];

const flags = {
  model: { type: 'string', short: 'm' },
  backend: { type: 'string' },
  labels: { type: 'string' },
  image: { type: 'string', short: 'i', multiple: true },
  input: { type: 'string' },
  method: { type: 'string', multiple: true },
  metric: { type: 'string', multiple: true },
  objective: { type: 'string', multiple: true },
  steps: { type: 'string' },
  'snapshot-every': { type: 'string' },
  attribution: { type: 'string' },
  dataset: { type: 'string' },
  count: { type: 'string' },
  masks: { type: 'string' },
  target: { type: 'string', short: 't' },
  layer: { type: 'string' },
  'batch-size': { type: 'string' },
  seed: { type: 'string' },
  score: { type: 'string' },
  size: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  layout: { type: 'string' },
  bgr: { type: 'boolean' },
  out: { type: 'string', short: 'o' },
  format: { type: 'string' },
  top: { type: 'string' },
  normalize: { type: 'string' },
  clip: { type: 'string' },
  'shared-scale': { type: 'boolean' },
  colormap: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  json: { type: 'boolean' },
  threads: { type: 'string' },
  queue: { type: 'string' },
  db: { type: 'string' },
  'unit-size': { type: 'string' },
  annotations: { type: 'string' },
  suite: { type: 'string' },
  quick: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type FlagName = keyof typeof flags;

/** The model and its labels. */
const modelFlags = ['model', 'backend', 'labels'] as const satisfies readonly FlagName[];
/** Images or an `.npy` batch, and the preprocessing of images. */
const inputFlags = [
  'image',
  'input',
  'size',
  'mean',
  'std',
  'layout',
  'bgr',
] as const satisfies readonly FlagName[];
/** Run options every explanation takes. */
const runFlags = ['batch-size', 'seed', 'score'] as const satisfies readonly FlagName[];

/** Flags each command accepts (besides --help). */
const allowed: Record<Command, readonly FlagName[]> = {
  explain: [
    ...modelFlags,
    ...inputFlags,
    'method',
    'target',
    'layer',
    ...runFlags,
    'out',
    'format',
    'top',
    'normalize',
    'clip',
    'shared-scale',
    'colormap',
    'quiet',
  ],
  evaluate: [
    ...modelFlags,
    ...inputFlags,
    'dataset',
    'count',
    'masks',
    'method',
    'attribution',
    'metric',
    'target',
    ...runFlags,
    'out',
    'format',
    'quiet',
    'threads',
    'queue',
    'db',
    'unit-size',
    'annotations',
    'suite',
    'quick',
  ],
  visualize: [
    'model',
    'backend',
    'labels',
    'image',
    'method',
    'objective',
    'layer',
    'steps',
    'snapshot-every',
    'batch-size',
    'seed',
    'out',
    'format',
    'quiet',
  ],
  methods: ['json'],
  metrics: ['json'],
  layers: ['model', 'backend', 'json'],
  predict: [...modelFlags, ...inputFlags, 'top', 'batch-size', 'json'],
  worker: ['queue', 'threads', 'quiet'],
  help: [],
};

/** Parsed command line: the command and its flag values (strings as typed). */
export interface ParsedArgs {
  readonly command: Command;
  readonly values: {
    readonly [K in FlagName]?: (typeof flags)[K] extends { type: 'boolean' }
      ? boolean
      : (typeof flags)[K] extends { multiple: true }
        ? string[]
        : string;
  };
  /** Set for `xlens --version` / `xlens help <command>`. */
  readonly version?: boolean;
  readonly topic?: string;
}

/**
 * `--seed -1` as `--seed=-1`: node's parser takes a value starting with `-` for a flag and reports
 * an ambiguous argument; a negative number after a value flag is that flag's value (and then gets
 * the flag's own range check).
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  // Every spelling of a value flag → its long name.
  const valueFlags = new Map(
    Object.entries(flags).flatMap(([name, f]): [string, string][] =>
      f.type === 'string'
        ? [
            [`--${name}`, `--${name}`],
            ...('short' in f ? [[`-${f.short}`, `--${name}`] as [string, string]] : []),
          ]
        : [],
    ),
  );
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    const long = valueFlags.get(argv[i]);
    if (long && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${long}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

/** Parse argv (without node and script). No command means `explain`. */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof flags; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      options: flags,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    // node's messages span lines and mention internals; keep the first sentence.
    throw new UsageError(
      ((e as Error).message.split('\n')[0] ?? 'bad arguments').replace(/\. To specify.*$/, ''),
    );
  }
  const { values, positionals } = parsed;
  if (values.version) return { command: 'help', values: {}, version: true };
  const name = positionals[0] ?? 'explain';
  if (!commands.includes(name as Command)) {
    throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${commands.join(', ')}`);
  }
  const command = name as Command;
  if (command === 'help') return { command, values: {}, topic: positionals[1] };
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])} (flags start with --)`);
  for (const key of Object.keys(values) as FlagName[]) {
    if (key !== 'help' && !allowed[command].includes(key))
      throw new UsageError(`xlens ${command} does not take --${key}`);
  }
  if (values.help) return { command: 'help', values: {}, topic: command };
  return { command, values: values as ParsedArgs['values'] };
}

/** An integer flag value, checked against a minimum. */
export function intFlag(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min)
    throw new UsageError(`--${name} ${JSON.stringify(text)} is invalid; expected an integer ≥ ${min}`);
  return v;
}

/** A list of numbers: `0.5` or `0.485,0.456,0.406`. */
export function numbersFlag(name: string, text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (text.trim() === '' || parts.some((v) => !Number.isFinite(v))) {
    throw new UsageError(
      `--${name} ${JSON.stringify(text)} is invalid; expected a number or a comma-separated list of numbers`,
    );
  }
  return parts;
}

/** `--size 224` or `--size 240x320` (height × width). */
export function sizeFlag(text: string | undefined): { height: number; width: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)(?:x(\d+))?$/i.exec(text.trim());
  const h = m ? Number(m[1]) : Number.NaN;
  const w = m?.[2] ? Number(m[2]) : h;
  if (!(h >= 1 && w >= 1))
    throw new UsageError(`--size ${JSON.stringify(text)} is invalid; expected N or HxW, e.g. 224 or 240x320`);
  return { height: h, width: w };
}

/** A value from a closed set. */
export function choiceFlag<T extends string>(
  name: string,
  text: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (text === undefined) return undefined;
  if (!choices.includes(text as T))
    throw new UsageError(`--${name} ${JSON.stringify(text)} is invalid; use one of ${choices.join(', ')}`);
  return text as T;
}
