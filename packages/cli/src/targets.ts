import { TargetError, type TargetSpec } from '@xlens/core';

/**
 * Read `--target`: `top1`, a class index, a label, or a comma-separated list with one class
 * (index or label) per input item. Range and count are checked later by core against the model.
 */
export function parseTarget(text: string | undefined, labels: readonly string[] | undefined): TargetSpec {
  if (text === undefined || text.trim() === 'top1') return 'top1';
  const one = (part: string): number | string => (/^-?\d+$/.test(part) ? Number(part) : part);
  if (!text.includes(',')) return one(text.trim());
  return text.split(',').map((raw) => {
    const part = raw.trim();
    const v = one(part);
    if (typeof v === 'number') return v;
    const idx = labels?.indexOf(v) ?? -1;
    if (idx < 0) {
      const known = labels ? `known labels: ${labels.slice(0, 20).join(', ')}` : 'the model has no labels';
      throw new TargetError('invalid-target', `target label ${JSON.stringify(v)} is unknown (${known})`);
    }
    return idx;
  });
}
