import { describe, expect, it } from 'vitest';
import { itemList } from './text.js';

describe('itemList', () => {
  it('names the items of a batch a message is about', () => {
    expect(itemList([0], 1)).toBe('the item');
    expect(itemList([0, 1, 2], 3)).toBe('all 3 items');
    expect(itemList([2], 5)).toBe('item 2');
    expect(itemList([0, 3], 5)).toBe('items 0, 3');
    expect(itemList([0, 1, 2, 3, 4, 5, 6, 7], 20)).toBe('items 0, 1, 2, 3, 4, 5, 6, 7');
    expect(itemList([0, 1, 2, 3, 4, 5, 6, 7, 8], 20)).toBe('9 of 20 items');
  });
});
