import { lastSpatialLayer, type OptionSpec } from '@xlens/core';
import { choiceFlag, type ParsedArgs, UsageError } from './args.js';
import type { Io } from './explain-command.js';
import { type BackendName, backendNames, defaultModel, loadModel } from './model-source.js';
import { createRegistry } from './registry.js';
import { openSession } from './session.js';
import { printable, textTable } from './table.js';

type Values = ParsedArgs['values'];

const typeText = (spec: OptionSpec): string => {
  switch (spec.type) {
    case 'enum':
      return spec.values.join('|');
    case 'number':
    case 'integer': {
      const range =
        spec.min !== undefined || spec.max !== undefined ? ` ${spec.min ?? '−∞'}..${spec.max ?? '∞'}` : '';
      return `${spec.type}${range}`;
    }
    default:
      return spec.type;
  }
};

const valueText = (v: unknown): string =>
  v === '' ? "''" : typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));

/** `xlens methods`: every registered method with its options and defaults. */
export function methodsCommand(values: Values, io: Io): void {
  const methods = createRegistry().list();
  if (values.json) {
    const out = methods.map((m) => ({
      id: m.id,
      family: m.family,
      title: m.title,
      citation: m.citation,
      description: m.description,
      requires: m.requires,
      mapKind: m.mapKind,
      stochastic: m.stochastic ?? false,
      options: Object.fromEntries(
        Object.entries(m.options as Record<string, OptionSpec>).map(([k, s]) => [
          k,
          { ...s, default: (m.defaults as Record<string, unknown>)[k] },
        ]),
      ),
    }));
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const blocks = methods.map((m) => {
    const specs = Object.entries(m.options as Record<string, OptionSpec>);
    const rows = specs.map(([k, s]) => [
      k,
      typeText(s),
      valueText((m.defaults as Record<string, unknown>)[k]),
      s.doc,
    ]);
    const options =
      rows.length > 0
        ? textTable(['option', 'type', 'default', 'meaning'], rows).replace(/^/gm, '    ')
        : '    (no options)';
    return `${m.id}  [${m.family}] ${m.title}\n    ${m.description}\n    needs: ${m.requires.join(', ') || 'forward only'}\n${options}`;
  });
  io.stdout.write(`${blocks.join('\n\n')}\n\nUse: xlens explain --method name:key=value,key=value\n`);
}

/** `xlens layers --model M`: names, kinds, output shapes, and the automatic CAM layer. */
export async function layersCommand(values: Values, io: Io): Promise<void> {
  const backend = choiceFlag<BackendName>('backend', values.backend, backendNames);
  const { model } = await loadModel(values.model ?? defaultModel, { backend });
  try {
    if (!model.layers || !model.capabilities.has('layers'))
      throw new UsageError(`${model.info.name} does not list its layers on this backend`);
    const layers = model.layers();
    let cam: string | undefined;
    try {
      cam = lastSpatialLayer(model).name;
    } catch {
      cam = undefined;
    }
    if (values.json) {
      io.stdout.write(
        `${JSON.stringify({ model: model.info.name, camLayer: cam ?? null, layers }, null, 2)}\n`,
      );
      return;
    }
    const rows = layers.map((l) => [
      l.name,
      l.kind,
      l.op,
      `[${l.outputShape.join(', ')}]`,
      l.name === cam ? '← CAM layer (auto)' : '',
    ]);
    io.stdout.write(
      `${printable(model.info.name)}: input [${model.info.inputShape.join(', ')}] ${model.info.layout}, ${model.info.numClasses} classes\n`,
    );
    io.stdout.write(`${textTable(['name', 'kind', 'op', 'output (C,H,W)', ''], rows)}\n`);
    io.stdout.write(
      cam
        ? `CAM methods use ${printable(cam)} unless given layer=... or --layer\n`
        : 'no spatial layer: CAM methods cannot run on this model\n',
    );
  } finally {
    await model.dispose();
  }
}

/** `xlens predict`: top classes with probabilities per input. */
export async function predictCommand(values: Values, io: Io): Promise<void> {
  const session = await openSession(values, io);
  try {
    const { batch, predictions } = session;
    if (values.json) {
      const out = batch.names.map((name, i) => ({ name, predictions: predictions[i] }));
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    const rows = batch.names.flatMap((name, i) =>
      predictions[i].map((p, r) => [
        r === 0 ? name : '',
        String(r + 1),
        p.label ?? '',
        String(p.index),
        `${(100 * p.probability).toFixed(1)}%`,
      ]),
    );
    io.stdout.write(`${textTable(['input', 'rank', 'label', 'class', 'probability'], rows, [1, 3, 4])}\n`);
  } finally {
    await session.model.dispose();
  }
}
