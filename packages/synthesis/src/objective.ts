import { OptionError } from '@xlens/core';

/** How a class objective reads the model outputs. */
export type ClassScore = 'logit' | 'probability' | 'log-probability';

/**
 * What a synthesis method maximises: plain data, so objectives can be stored, compared, sent to a
 * worker and written on the command line (`parseObjective`). Layers are named as in
 * `model.layers()`; activations are channels-first, as the `Model` contract hands them out.
 *
 * - `target`: the class score of each item's explain target, read per the run's `score` option.
 * - `class`: one class's logit, probability (softmax) or log-probability.
 * - `unit`: one neuron — `index` of a vector layer, or channel `index` at (`y`, `x`) of a spatial
 *   layer (default: the centre position).
 * - `channel`: a spatial layer's channel, its mean over positions (Olah et al., 2017) or its
 *   centre unit.
 * - `layer`: the mean squared activation of a layer ("deep dream", Mordvintsev et al., 2015).
 * - `diversity`: minus the mean cosine similarity between the Gram matrix of an item's activation
 *   at a layer and those of the other items of the batch (Olah et al., 2017). The only objective
 *   whose items interact: a batch optimised with it is a set of images, not N separate ones.
 * - `sum`: a weighted sum of objectives; negative weights give differences.
 */
export type Objective =
  | { readonly kind: 'target' }
  | { readonly kind: 'class'; readonly index: number; readonly score?: ClassScore }
  | {
      readonly kind: 'unit';
      readonly layer: string;
      readonly index: number;
      readonly y?: number;
      readonly x?: number;
    }
  | {
      readonly kind: 'channel';
      readonly layer: string;
      readonly index: number;
      readonly at?: 'mean' | 'centre';
    }
  | { readonly kind: 'layer'; readonly layer: string }
  | { readonly kind: 'diversity'; readonly layer: string }
  | { readonly kind: 'sum'; readonly terms: readonly WeightedObjective[] };

/** One term of a `sum`. */
export interface WeightedObjective {
  readonly weight: number;
  readonly objective: Objective;
}

const kinds = ['target', 'class', 'unit', 'channel', 'layer', 'diversity', 'sum'] as const;
const scores: readonly ClassScore[] = ['logit', 'probability', 'log-probability'];

function bad(text: string, why: string): never {
  throw new OptionError(
    'invalid-option',
    `objective ${JSON.stringify(text)} is invalid: ${why}; write e.g. target, class:3, class:3:probability, unit:fc1:4, unit:conv2:5:3:4, channel:conv3:7, channel:conv3:7:centre, layer:conv2, diversity:conv3, and combine with + and - and weights (class:3 - 0.5*class:5)`,
  );
}

const integer = (text: string, part: string): number => {
  if (!/^\d+$/.test(part)) bad(text, `${JSON.stringify(part)} is not a non-negative integer`);
  return Number(part);
};

/** One objective without `+`/`-`: `kind:args`. */
function parseAtom(text: string, atom: string): Objective {
  if (atom === 'target') return { kind: 'target' };
  const colon = atom.indexOf(':');
  const kind = colon < 0 ? atom : atom.slice(0, colon);
  const parts = colon < 0 ? [] : atom.slice(colon + 1).split(':');
  const layerOf = (rest: string[]): string => {
    const layer = rest.join(':');
    if (layer === '') bad(text, `${kind} needs a layer name`);
    return layer;
  };
  switch (kind) {
    case 'class': {
      if (parts.length < 1 || parts.length > 2) bad(text, 'class takes class:INDEX[:SCORE]');
      const score = parts[1] as ClassScore | undefined;
      if (score !== undefined && !scores.includes(score))
        bad(text, `class score ${JSON.stringify(score)} is not one of ${scores.join(', ')}`);
      return { kind: 'class', index: integer(text, parts[0]), ...(score ? { score } : {}) };
    }
    case 'unit': {
      // Layer names may hold ':'; the numbers are read from the right.
      const nums = parts.length >= 4 && parts.slice(-3).every((p) => /^\d+$/.test(p)) ? 3 : 1;
      if (parts.length < nums + 1) bad(text, 'unit takes unit:LAYER:INDEX or unit:LAYER:CHANNEL:Y:X');
      const [index, y, x] = parts.slice(-nums).map((p) => integer(text, p));
      return {
        kind: 'unit',
        layer: layerOf(parts.slice(0, -nums)),
        index,
        ...(nums === 3 ? { y, x } : {}),
      };
    }
    case 'channel': {
      const at =
        parts[parts.length - 1] === 'mean' || parts[parts.length - 1] === 'centre' ? parts.pop() : undefined;
      if (parts.length < 2) bad(text, 'channel takes channel:LAYER:INDEX[:mean|centre]');
      const index = integer(text, parts.pop()!);
      return {
        kind: 'channel',
        layer: layerOf(parts),
        index,
        ...(at ? { at: at as 'mean' | 'centre' } : {}),
      };
    }
    case 'layer':
    case 'diversity':
      return { kind, layer: layerOf(parts) };
    default:
      return bad(text, `unknown objective kind ${JSON.stringify(kind)}`);
  }
}

/**
 * Parse the text form of an objective: atoms (`target`, `class:3`, `class:3:probability`,
 * `unit:LAYER:INDEX`, `unit:LAYER:CHANNEL:Y:X`, `channel:LAYER:INDEX[:mean|centre]`,
 * `layer:LAYER`, `diversity:LAYER`) joined by `+` and `-`, each optionally weighted (`0.5*…`).
 */
export function parseObjective(text: string): Objective {
  const source = text.trim();
  if (source === '') bad(text, 'it is empty');
  // Split before a sign that starts a term (a weight or a kind), so '-' inside layer names stays.
  // (not the sign of an exponent: 1e-2).
  const pieces = source.split(
    /\s*(?<![\d.]e)(?=[+-]\s*(?:[\d.]+(?:e[+-]?\d+)?\s*\*\s*)?(?:target|class:|unit:|channel:|layer:|diversity:))/,
  );
  const terms: WeightedObjective[] = [];
  for (const piece of pieces) {
    const m = /^([+-]?)\s*(?:([\d.]+(?:e[+-]?\d+)?)\s*\*\s*)?(.+)$/.exec(piece.trim());
    if (!m) bad(text, `cannot read ${JSON.stringify(piece)}`);
    const weight = (m[1] === '-' ? -1 : 1) * (m[2] !== undefined ? Number(m[2]) : 1);
    if (!Number.isFinite(weight)) bad(text, `weight ${JSON.stringify(m[2])} is not a number`);
    terms.push({ weight, objective: parseAtom(text, m[3].trim()) });
  }
  return terms.length === 1 && terms[0].weight === 1 ? terms[0].objective : { kind: 'sum', terms };
}

/** The text form of an objective (the inverse of `parseObjective`, up to spacing). */
export function formatObjective(o: Objective): string {
  switch (o.kind) {
    case 'target':
      return 'target';
    case 'class':
      return `class:${o.index}${o.score ? `:${o.score}` : ''}`;
    case 'unit':
      return `unit:${o.layer}:${o.index}${o.y !== undefined ? `:${o.y}:${o.x}` : ''}`;
    case 'channel':
      return `channel:${o.layer}:${o.index}${o.at ? `:${o.at}` : ''}`;
    case 'layer':
    case 'diversity':
      return `${o.kind}:${o.layer}`;
    case 'sum':
      return flattenObjective(o)
        .map(({ weight, objective }, i) => {
          const sign = weight < 0 ? '-' : i > 0 ? '+' : '';
          const w = Math.abs(weight) === 1 ? '' : `${Math.abs(weight)}*`;
          return `${i > 0 ? ` ${sign} ` : sign}${w}${formatObjective(objective)}`;
        })
        .join('');
  }
}

/** The atoms of an objective with their total weights (nested sums multiplied out). */
export function flattenObjective(o: Objective, weight = 1): WeightedObjective[] {
  if (o.kind !== 'sum') return [{ weight, objective: o }];
  return o.terms.flatMap((t) => flattenObjective(t.objective, weight * t.weight));
}

/** Check the shape of objective data given by a user (a JSON object, say); returns it typed. */
export function checkObjective(value: unknown, path = 'objective'): Objective {
  const o = value as Record<string, unknown>;
  const fail = (why: string): never => {
    throw new OptionError('invalid-option', `${path} = ${JSON.stringify(value)} is invalid: ${why}`);
  };
  if (!o || typeof o !== 'object' || !kinds.includes(o.kind as (typeof kinds)[number]))
    fail(`kind must be one of ${kinds.join(', ')}`);
  const int = (k: string, optional = false) => {
    if (optional && o[k] === undefined) return;
    if (!Number.isInteger(o[k]) || (o[k] as number) < 0) fail(`${k} must be an integer ≥ 0`);
  };
  const layer = () => {
    if (typeof o.layer !== 'string' || o.layer === '') fail('layer must be a layer name');
  };
  switch (o.kind) {
    case 'class':
      int('index');
      if (o.score !== undefined && !scores.includes(o.score as ClassScore))
        fail(`score must be one of ${scores.join(', ')}`);
      break;
    case 'unit':
      layer();
      int('index');
      int('y', true);
      int('x', true);
      if ((o.y === undefined) !== (o.x === undefined)) fail('give both y and x, or neither');
      break;
    case 'channel':
      layer();
      int('index');
      if (o.at !== undefined && o.at !== 'mean' && o.at !== 'centre') fail('at must be mean or centre');
      break;
    case 'layer':
    case 'diversity':
      layer();
      break;
    case 'sum':
      if (!Array.isArray(o.terms) || o.terms.length === 0) fail('terms must be a non-empty list');
      (o.terms as WeightedObjective[]).forEach((t, i) => {
        if (!t || typeof t.weight !== 'number' || !Number.isFinite(t.weight))
          fail(`terms[${i}].weight must be a finite number`);
        checkObjective(t.objective, `${path}.terms[${i}].objective`);
      });
      break;
  }
  return o as unknown as Objective;
}

/** An objective option value — text or data — as data. */
export function toObjective(value: unknown): Objective {
  return typeof value === 'string' ? parseObjective(value) : checkObjective(value);
}
