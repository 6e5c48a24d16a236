import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentShapes } from '../../src/json/recent-shapes.js';

test('a shape is worked out once while kept, and the least recently used is dropped beyond the size', () => {
  const made: string[] = [];
  const shapes = new RecentShapes(2, (names) => {
    made.push(names.join(','));
    return names.join('+');
  });
  assert.equal(shapes.of(['a', 'b']), 'a+b');
  assert.equal(shapes.of(['c']), 'c');
  assert.equal(shapes.of(['a', 'b']), 'a+b'); // kept, and now the most recently used
  assert.equal(shapes.of(['d']), 'd'); // drops ['c'], the least recently used
  assert.equal(shapes.of(['a', 'b']), 'a+b');
  assert.equal(shapes.of(['c']), 'c'); // worked out again
  assert.deepEqual(made, ['a,b', 'c', 'd', 'c']);
});

test('names are compared one by one: the same names in another order, or fewer, are another shape', () => {
  let calls = 0;
  const counting = new RecentShapes(4, (names) => {
    calls++;
    return names.length;
  });
  counting.of(['a', 'b']);
  counting.of(['b', 'a']);
  counting.of(['a']);
  counting.of(['a', 'b']);
  assert.equal(calls, 3);
});
