// Test helper: the texts every tier must turn into a QR code that decodes back to exactly the same bytes.
// Used by node/test/*.test.js (`npm test`); not a test file itself.
'use strict';

/** The article's benchmark texts (shared/MISSION.md). */
const ARTICLE_URLS = [
  'https://github.com/pretzelhammer/rust-blog',
  'https://www.reddit.com/r/rustjerk/top/?t=all',
  'https://youtu.be/cE0wfjsybIQ?t=74',
  'https://www.reddit.com/r/rust/top/?t=month',
  'https://devswag.com/products/rust-ferris',
  'https://www.youtube.com/watch?v=TGfQu0bQTKc',
  'https://tourofrust.com',
  'https://github.com/rust-lang/rustlings',
  'https://exercism.org/tracks/rust',
  'https://en.wikipedia.org/wiki/Carcinisation',
];

/** Edge cases, each at most 512 UTF-8 bytes. */
const EDGE_TEXTS = [
  'a',
  'a'.repeat(512), // the limit in ASCII
  'é'.repeat(256), // the limit in 2-byte characters
  '€'.repeat(170) + 'ab', // 3-byte characters up to the limit
  '😀'.repeat(128), // the limit in emoji (256 UTF-16 units)
  'emoji 🦀 and ü',
  'a\u0000b', // NUL
  '\u0000',
  'line one\nline two\r\n',
  '\uFEFFbom first',
  '--help',
  '-',
  '--engine=fast',
  '$(touch /tmp/x); `id` | cat && echo "$HOME" > /dev/null \\ \'q\' * ?',
  '0123456789', // digits only (numeric mode in encoders that optimise)
  'HELLO WORLD $%*+-./:', // the alphanumeric set
  ' ',
];

module.exports = { ARTICLE_URLS, EDGE_TEXTS, ALL_TEXTS: [...ARTICLE_URLS, ...EDGE_TEXTS] };
