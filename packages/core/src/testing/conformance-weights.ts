/**
 * Conformance cases of the read-only `weights` capability (ADR 0006).
 * @internal
 */
import { XlensError } from '../errors.js';
import type { Model, WeightParam } from '../model.js';
import { assertClose, randomInput } from './compare.js';
import { type ConformanceCase, linearNames, makeCase } from './conformance-case.js';
import type { ToySpec } from './spec.js';
import { toyNets } from './toy-nets.js';

const keyOf = (p: WeightParam): string => `${p.layer}/${p.role}${p.statistic ? `/${p.statistic}` : ''}`;

/** Every parameter the reference hands out, found by layer, role and statistic in the model's list. */
async function compareAll(name: string, model: Model, reference: Model, layers?: string[]): Promise<void> {
  const got = await model.weights!(layers);
  const want = await reference.weights!(layers);
  const byKey = new Map<string, WeightParam>();
  for (const p of got) {
    if (byKey.has(keyOf(p)))
      throw new Error(`${name}: two parameters ${keyOf(p)}; BatchNorm statistics must say which they are`);
    byKey.set(keyOf(p), p);
  }
  for (const w of want) {
    const g = byKey.get(keyOf(w));
    if (!g) {
      throw new Error(
        `${name}: parameter ${keyOf(w)} is missing; the model hands out ${[...byKey.keys()].join(', ')}`,
      );
    }
    assertClose(
      `${name}: ${keyOf(w)}`,
      { data: g.values, shape: g.shape },
      { data: w.values, shape: w.shape },
    );
    if (
      w.epsilon !== undefined &&
      !(Math.abs((g.epsilon ?? Number.NaN) - w.epsilon) <= 1e-6 * w.epsilon + 1e-12)
    )
      throw new Error(`${name}: ${keyOf(w)} has epsilon ${g.epsilon}, expected ${w.epsilon}`);
  }
  if (layers) {
    const extra = got.filter((p) => !layers.includes(p.layer));
    if (extra.length > 0)
      throw new Error(`${name}: asked for ${layers.join(', ')} but also got ${extra.map(keyOf).join(', ')}`);
  }
}

function weightsCase(spec: ToySpec): ConformanceCase {
  return makeCase(`weights: ${spec.name}`, spec, ['weights'], async (m, ref, name) => {
    const x = randomInput(m, 2, 31);
    const before = await m.forward(x);
    await compareAll(name, m, ref);
    const first = linearNames(spec)[0];
    await compareAll(`${name} (only ${first})`, m, ref, [first]);
    // Read-only: scribbling over the copies handed out must not change the model.
    for (const p of await m.weights!()) p.values.fill(7);
    assertClose(`${name}: forward after writing to the copies`, await m.forward(x), before);
    let code: string | undefined;
    try {
      await m.weights!(['no-such-layer']);
    } catch (e) {
      code = e instanceof XlensError ? e.code : undefined;
    }
    if (code !== 'unknown-layer')
      throw new Error(`${name}: weights(['no-such-layer']) must throw an XlensError with code unknown-layer`);
  });
}

/** A `weights` case for every toy net. */
export function weightCases(): ConformanceCase[] {
  return toyNets.map((f) => weightsCase(f()));
}
