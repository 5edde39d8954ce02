import type { LinearRule } from '@xlens/core';
import { differentiate } from './autodiff/differentiate.js';
import type { OpRules } from './autodiff/types.js';
import { OnnxGraphBuilder } from './builder.js';
import type { GraphInfo } from './graph/graph-info.js';
import { shallowCopy } from './graph/prepare.js';
import type { OnnxModel } from './proto/types.js';

/** One backward configuration: everything that changes the graph (not the data fed to it). */
export interface BackwardConfig {
  readonly input: string;
  readonly output: string;
  readonly seedTensor: string;
  /** Tensors whose cotangents are returned (the input and/or layers). */
  readonly targets: readonly string[];
  /** Tensors whose forward values are returned. */
  readonly captures: readonly string[];
  readonly rules: OpRules;
  readonly linear: Readonly<Record<string, LinearRule>>;
  readonly foldBatchNorm: boolean;
  /** Linear rules see biases as zero (`BackwardRules.ignoreBias`). */
  readonly ignoreBias: boolean;
  /** Whether z-box bounds are fed as graph inputs. */
  readonly bounds: boolean;
}

/** Names of the graph inputs and outputs of a backward graph. */
export interface BackwardGraph {
  readonly model: OnnxModel;
  readonly seedInput: string;
  readonly lowInput?: string;
  readonly highInput?: string;
  readonly output: string;
  readonly captures: readonly string[];
  /** Output name per target, undefined when that cotangent is identically zero. */
  readonly cotangents: readonly (string | undefined)[];
  /** Output with the input relevance of input-only rules, if any ran. */
  readonly relevance?: string;
}

/**
 * The forward graph extended with its own backward pass: the seed cotangent is a graph input,
 * so one session serves every target, class and batch size of this configuration.
 */
export function buildBackwardGraph(gradInfo: GraphInfo, config: BackwardConfig): BackwardGraph {
  const model = shallowCopy(gradInfo.model);
  const b = OnnxGraphBuilder.extend(model);
  const seedInput = b.input(b.unique('xlens/seed'), undefined);
  const lowInput = config.bounds ? b.input(b.unique('xlens/low'), undefined) : undefined;
  const highInput = config.bounds ? b.input(b.unique('xlens/high'), undefined) : undefined;
  const result = differentiate(gradInfo, b, {
    input: config.input,
    seedTensor: config.seedTensor,
    seedInput,
    targets: config.targets,
    rules: config.rules,
    linear: config.linear,
    foldBatchNorm: config.foldBatchNorm,
    ignoreBias: config.ignoreBias,
    low: lowInput,
    high: highInput,
  });
  model.graph.output = [];
  const expose = (t: string, label: string): string => {
    const name = b.node(
      'Identity',
      [t],
      {},
      { name: `xlens/out/${label}`, outputs: [b.unique(`xlens/out/${label}`)] },
    );
    b.output(name);
    return name;
  };
  const output = expose(config.output, 'output');
  const captures = config.captures.map((t, i) => expose(t, `capture${i}`));
  const cotangents = config.targets.map((t, i) => {
    const g = result.cotangents.get(t);
    return g ? expose(g, `grad${i}`) : undefined;
  });
  const relevance = result.relevance ? expose(result.relevance, 'relevance') : undefined;
  // Rule weights replaced by a rotated copy leave unread initializers behind; drop them.
  const read = new Set(model.graph.node.flatMap((n) => n.input));
  model.graph.initializer = model.graph.initializer.filter(
    (t) => !t.name?.startsWith('xlens/') || read.has(t.name),
  );
  return { model, seedInput, lowInput, highInput, output, captures, cotangents, relevance };
}
