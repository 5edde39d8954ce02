import { OptionError } from './errors.js';
import type { OptionSpec, OptionSpecs } from './explainer.js';

/** Keys of `RunOptions`; they are not method options. */
export const runOptionKeys: ReadonlySet<string> = new Set([
  'batchSize',
  'seed',
  'score',
  'onProgress',
  'signal',
  'registry',
  'files',
]);

function checkOne(method: string, key: string, value: unknown, spec: OptionSpec): void {
  const bad = (expect: string): never => {
    // String(NaN) rather than JSON's "null", so the message shows the value that was passed.
    const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
    throw new OptionError(
      'invalid-option',
      `${method}: option ${key} = ${shown} is invalid; expected ${expect}`,
    );
  };
  switch (spec.type) {
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value))
        bad(spec.type === 'integer' ? 'an integer' : 'a finite number');
      const v = value as number;
      if (spec.type === 'integer' && !Number.isInteger(v)) bad('an integer');
      if (spec.min !== undefined && v < spec.min) bad(`a value ≥ ${spec.min}`);
      if (spec.max !== undefined && v > spec.max) bad(`a value ≤ ${spec.max}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') bad('true or false');
      return;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) bad(`one of ${spec.values.join(', ')}`);
      return;
    case 'string':
      if (typeof value !== 'string') bad('a string');
      if (spec.allowed && !spec.allowed.includes(value as string)) bad(`one of ${spec.allowed.join(', ')}`);
      return;
    case 'numbers':
      if (!Array.isArray(value) && !(value instanceof Float32Array)) bad('a list of numbers');
      if (!Array.from(value as ArrayLike<unknown>).every((v) => typeof v === 'number' && Number.isFinite(v)))
        bad('a list of finite numbers');
      return;
    case 'json':
      return;
  }
}

/**
 * Merge user options over defaults and validate every key against the specs: unknown keys and
 * values of the wrong type or range throw an `OptionError` naming the option and what is allowed.
 * `undefined` values count as absent. Run options are skipped.
 */
export function mergeOptions<O extends object>(
  method: string,
  defaults: Readonly<O>,
  specs: OptionSpecs<O>,
  user: Readonly<Record<string, unknown>> | undefined,
): O {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  const known = Object.keys(specs);
  for (const [key, value] of Object.entries(user ?? {})) {
    if (runOptionKeys.has(key) || value === undefined) continue;
    if (!known.includes(key)) {
      throw new OptionError(
        'unknown-option',
        `${method} has no option ${JSON.stringify(key)}; its options are ${known.join(', ') || '(none)'}`,
      );
    }
    merged[key] = value;
  }
  for (const key of known) {
    const value = merged[key];
    if (value === undefined || value === null) continue;
    checkOne(method, key, value, (specs as Record<string, OptionSpec>)[key]);
  }
  return merged as O;
}

/**
 * Parse a textual option value (CLI `name:key=value`) per its spec: numbers, booleans, enums,
 * comma-separated number lists, JSON.
 */
export function parseOptionValue(
  method: string,
  key: string,
  text: string,
  spec: OptionSpec | undefined,
): unknown {
  if (!spec) throw new OptionError('unknown-option', `${method} has no option ${JSON.stringify(key)}`);
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v)) {
        throw new OptionError(
          'invalid-option',
          `${method}: option ${key} = ${JSON.stringify(text)} is not a number`,
        );
      }
      return v;
    }
    case 'boolean':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      throw new OptionError(
        'invalid-option',
        `${method}: option ${key} = ${JSON.stringify(text)} is not true or false`,
      );
    case 'numbers':
      return text.split(/[;|]/).map((s) => parseOptionValue(method, key, s, { type: 'number', doc: '' }));
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text;
  }
}
