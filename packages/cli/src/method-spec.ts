import {
  type AnyExplainer,
  OptionError,
  type OptionSpec,
  parseOptionValue,
  type Registry,
} from '@xlens/core';

/** One `--method` after parsing: the explainer and the options typed on the command line. */
export interface MethodRequest {
  readonly explainer: AnyExplainer;
  /** Name for outputs: the method id, with `-2`, `-3`… when the same method is asked for again. */
  readonly key: string;
  readonly options: Record<string, unknown>;
}

/**
 * Split `key=value,key=value`. A comma-separated piece without `=` continues the previous value,
 * so list-valued options read naturally: `layers=conv2,conv3,relu=false`.
 */
export function splitPairs(text: string, method: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const piece of text.split(',')) {
    const eq = piece.indexOf('=');
    if (eq > 0) pairs.push([piece.slice(0, eq).trim(), piece.slice(eq + 1)]);
    else if (pairs.length > 0) pairs[pairs.length - 1][1] += `,${piece}`;
    else
      throw new OptionError(
        'invalid-option',
        `${method}: cannot read options ${JSON.stringify(text)}; expected key=value,key=value`,
      );
  }
  return pairs;
}

/** Parse `name` or `name:key=value,…` against the registry and the method's option specs. */
export function parseMethodSpec(
  text: string,
  registry: Registry,
): { explainer: AnyExplainer; options: Record<string, unknown> } {
  const colon = text.indexOf(':');
  const id = (colon < 0 ? text : text.slice(0, colon)).trim();
  const explainer = registry.get(id);
  const options: Record<string, unknown> = {};
  if (colon >= 0 && text.slice(colon + 1).trim() !== '') {
    const specs = explainer.options as Record<string, OptionSpec>;
    for (const [key, value] of splitPairs(text.slice(colon + 1), id)) {
      if (!(key in specs)) {
        throw new OptionError(
          'unknown-option',
          `${id} has no option ${JSON.stringify(key)}; its options are ${Object.keys(specs).join(', ') || '(none)'}`,
        );
      }
      options[key] = parseOptionValue(id, key, value, specs[key]);
    }
  }
  return { explainer, options };
}

/** Parse every `--method`, giving repeated methods distinct output keys. */
export function parseMethodSpecs(texts: readonly string[], registry: Registry): MethodRequest[] {
  const seen = new Map<string, number>();
  return texts.map((t) => {
    const { explainer, options } = parseMethodSpec(t, registry);
    const n = (seen.get(explainer.id) ?? 0) + 1;
    seen.set(explainer.id, n);
    return { explainer, options, key: n === 1 ? explainer.id : `${explainer.id}-${n}` };
  });
}
