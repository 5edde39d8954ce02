// Writing a new method against @xlens/core only: "gradient times input, summed over channels",
// run on a forward+backward model from any backend (here core's pure-JS reference model).
// Run: node examples/custom-method.mjs   (--check verifies it sums to the logit on a bias-free net)
import { defineExplainer, reduceChannels, sumPerItem } from '@xlens/core';
import { biasFreeCnn, randomInput, referenceModel } from '@xlens/core/testing';

const pixelGradientTimesInput = defineExplainer({
  id: 'pixel-gradient-x-input',
  family: 'gradients',
  title: 'Gradient × Input per pixel',
  citation: 'Shrikumar et al., 2016, arXiv:1605.01713',
  description: 'x ⊙ ∂f/∂x summed over channels.',
  requires: ['gradients'],
  mapKind: 'pixel',
  defaults: {},
  options: {},
  async attribute(ctx) {
    const { inputGradient } = await ctx.gradient({ input: ctx.input });
    const product = { data: inputGradient.data.map((g, i) => g * ctx.input.data[i]), shape: ctx.input.shape };
    return { map: reduceChannels(product, ctx.model.info.layout, 'sum') };
  },
});

const model = referenceModel(biasFreeCnn());
const input = randomInput(model, 2, 7);
const logits = await model.forward(input);
const result = await pixelGradientTimesInput.explain(model, input, [0, 1]);
const sums = sumPerItem(result.map);
const expected = [logits.data[0], logits.data[model.info.numClasses + 1]];
console.log(
  `sum of map per item: ${[...sums].map((v) => v.toFixed(5))}; logits: ${expected.map((v) => v.toFixed(5))}`,
);
const ok = expected.every((v, i) => Math.abs(v - sums[i]) <= 1e-4 * Math.max(1, Math.abs(v)));
if (process.argv.includes('--check') && !ok) process.exit(1);
