/**
 * The items of a batch a message is about: "the item", "all 6 items", "items 0, 3" (0-based, as
 * the API numbers them), or "12 of 40 items" past eight. For warnings that name where a per-item
 * check failed.
 */
export function itemList(indices: readonly number[], count: number): string {
  if (indices.length === count) return count === 1 ? 'the item' : `all ${count} items`;
  if (indices.length > 8) return `${indices.length} of ${count} items`;
  return `item${indices.length > 1 ? 's' : ''} ${indices.join(', ')}`;
}
