import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { countFullTextWords } from '../../src/events/query-limits.js';

describe('countFullTextWords', () => {
  test('words of letters and digits, separated by spaces and punctuation', () => {
    assert.equal(countFullTextWords(''), 0);
    assert.equal(countFullTextWords('   , ; !'), 0);
    assert.equal(countFullTextWords('Contract 42 signed by the director'), 6);
    assert.equal(countFullTextWords('signed,director;annex'), 3);
    assert.equal(countFullTextWords('Chișinău'), 1);
    assert.equal(countFullTextWords('snake_case'), 1);
  });

  test('never below the standard analyzer: letters then digits, and punctuation inside a word, count more', () => {
    assert.equal(countFullTextWords('abc123'), 2);
    assert.equal(countFullTextWords("don't"), 2);
    assert.equal(countFullTextWords('1.5'), 2);
  });

  test('each ideograph and hiragana is a word; katakana and letters of other scripts in a row are one', () => {
    assert.equal(countFullTextWords('中华人民'), 4);
    assert.equal(countFullTextWords('ひらがな'), 4);
    assert.equal(countFullTextWords('カタカナ'), 1);
    assert.equal(countFullTextWords('aカaカ'), 4);
    assert.equal(countFullTextWords('Москва'), 1);
  });

  test('symbols and emoji count one each', () => {
    assert.equal(countFullTextWords('a 😀 b'), 3);
    assert.equal(countFullTextWords('😀😀'), 2);
  });

  test('a run longer than 255 characters counts once per 255', () => {
    assert.equal(countFullTextWords('x'.repeat(255)), 1);
    assert.equal(countFullTextWords('x'.repeat(256)), 2);
    assert.equal(countFullTextWords('x'.repeat(765)), 3);
  });
});
