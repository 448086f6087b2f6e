//! A small DEFLATE encoder (RFC 1951) for images whose scanlines repeat. It writes one block
//! with dynamic Huffman codes (§3.2.7): each scanline's copies are one long match (running on
//! into the next scanline while it starts the same); the distinct scanlines get a greedy parse
//! (§4) with two candidates, the scanline above and a run of one byte; then a Huffman code of
//! the result (§3.2.2) is built and written LSB first (§3.1.1). The file holds one algorithm,
//! with the tests that hold it to the RFC, so it stays whole past 500 lines.
//!
//! Reading order: [`Deflater::compress`], then [`Deflater::parse`] and [`match_at`] (the
//! parse), then [`write_block`].

/// Shortest match DEFLATE can code (§3.2.5: lengths 3..=258).
const MIN_MATCH: usize = 3;
/// Longest match DEFLATE can code (§3.2.5).
const MAX_MATCH: usize = 258;
/// Farthest back a match may reach: the 32 KiB window (§2).
const WINDOW: usize = 32768;

/// The literal/length alphabet (§3.2.5): 0..=255 literal bytes, 256 end of block, 257..=285
/// match lengths (286 and 287 never occur).
const LITLEN_SYMBOLS: usize = 286;
/// The end-of-block symbol (§3.2.5).
const END_OF_BLOCK: usize = 256;
/// The first match-length symbol: length code `c` is symbol `FIRST_LENGTH_SYMBOL + c`.
const FIRST_LENGTH_SYMBOL: usize = 257;
/// The distance alphabet, 0..=29 (§3.2.5; 30 and 31 never occur).
const DIST_SYMBOLS: usize = 30;
/// The code-length alphabet, 0..=18 (§3.2.7).
const CL_SYMBOLS: usize = 19;
/// Longest code of the literal/length and distance codes (§3.2.7: lengths 0..=15).
const MAX_CODE_BITS: u32 = 15;
/// Longest code of the code-length code (its lengths are 3-bit fields, §3.2.7).
const MAX_CL_CODE_BITS: u32 = 7;

/// Block header (§3.2.3): BFINAL, 1 bit, set on the last block ...
const BFINAL: u32 = 1;
/// ... then BTYPE, 2 bits: 10 = compressed with dynamic Huffman codes.
const BTYPE_DYNAMIC: u32 = 0b10;
/// Dynamic header fields (§3.2.7): HLIT = literal/length codes - 257, in 5 bits; HDIST =
/// distance codes - 1, in 5 bits; HCLEN = code-length codes - 4, in 4 bits; then 3 bits per
/// code-length code length.
const MIN_LITLEN_CODES: usize = 257;
const HLIT_BITS: u32 = 5;
const MIN_DIST_CODES: usize = 1;
const HDIST_BITS: u32 = 5;
const MIN_CL_CODES: usize = 4;
const HCLEN_BITS: u32 = 4;
const CL_LENGTH_BITS: u32 = 3;

/// Base lengths of the length codes 257..=285 (§3.2.5), and their extra bits.
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of the distance codes 0..=29 (§3.2.5), and their extra bits.
const DIST_BASE: [u16; DIST_SYMBOLS] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; DIST_SYMBOLS] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// Order in which the code-length code's lengths are sent (§3.2.7).
const CL_ORDER: [usize; CL_SYMBOLS] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// A run-length symbol of the code-length alphabet (§3.2.7): repeats a length `min..=max`
/// times, the count minus `min` in `extra_bits` extra bits.
struct Repeat {
    symbol: u8,
    min: usize,
    max: usize,
    extra_bits: u32,
}
/// 16: the previous length, 3..=6 times.
const REPEAT_PREVIOUS: Repeat = Repeat {
    symbol: 16,
    min: 3,
    max: 6,
    extra_bits: 2,
};
/// 17: zero, 3..=10 times.
const REPEAT_ZERO: Repeat = Repeat {
    symbol: 17,
    min: 3,
    max: 10,
    extra_bits: 3,
};
/// 18: zero, 11..=138 times.
const REPEAT_ZERO_LONG: Repeat = Repeat {
    symbol: 18,
    min: 11,
    max: 138,
    extra_bits: 7,
};

/// Every run-length symbol.
const REPEATS: [Repeat; 3] = [REPEAT_PREVIOUS, REPEAT_ZERO, REPEAT_ZERO_LONG];

/// A literal (`dist == 0`, `len` = the byte) or a match.
#[derive(Clone, Copy)]
struct Token {
    len: u16,
    dist: u16,
}

/// Length code index (0..29) of each match length 0..=258 (0 for lengths below 3).
static LEN_CODE: [u8; MAX_MATCH + 1] = {
    let mut table = [0u8; MAX_MATCH + 1];
    let mut len = MIN_MATCH;
    while len <= MAX_MATCH {
        let mut code = 0;
        while code + 1 < LEN_BASE.len() && LEN_BASE[code + 1] as usize <= len {
            code += 1;
        }
        table[len] = code as u8;
        len += 1;
    }
    table
};

/// Distance code index (0..30) of each distance 1..=512 (by `dist - 1`).
static DIST_CODE_SMALL: [u8; 512] = {
    let mut table = [0u8; 512];
    let mut d = 1;
    while d <= 512 {
        let mut code = 0;
        while code + 1 < DIST_SYMBOLS && DIST_BASE[code + 1] as usize <= d {
            code += 1;
        }
        table[d - 1] = code as u8;
        d += 1;
    }
    table
};

fn len_code(len: usize) -> usize {
    LEN_CODE
        .get(len)
        .map_or(LEN_BASE.len() - 1, |&c| c as usize)
}

fn dist_code(dist: usize) -> usize {
    match DIST_CODE_SMALL.get(dist.wrapping_sub(1)) {
        Some(&c) => c as usize,
        // Above 512 the code grows by 2 per doubling: 2 * floor(log2(dist - 1)) + next bit.
        None => {
            let d = dist.saturating_sub(1).max(1);
            let log = d.ilog2() as usize;
            (2 * log + (d >> (log - 1) & 1)).min(DIST_SYMBOLS - 1)
        }
    }
}

/// How many bytes from `c` and from `p` in `data` are equal, at most `max`. The first word
/// may read past `max` (never past `data`): most matches here are shorter than 8 bytes, and a
/// byte loop's exit would be unpredictable.
#[inline]
fn match_len(data: &[u8], c: usize, p: usize, max: usize) -> usize {
    if let (Some(a), Some(b)) = (data.get(c..c + 8), data.get(p..p + 8)) {
        let x = u64::from_le_bytes(a.try_into().unwrap_or([0; 8]));
        let y = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        let diff = x ^ y;
        if diff != 0 || max <= 8 {
            return ((diff.trailing_zeros() / 8) as usize).min(max);
        }
    }
    let end = (p + max).min(data.len());
    common_prefix(&data[c..], &data[p..end])
}

/// How many leading bytes `a` and `b` share, 8 at a time.
#[inline]
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let max = a.len().min(b.len());
    let mut n = 0;
    while n + 8 <= max {
        let x = u64::from_le_bytes(a[n..n + 8].try_into().unwrap_or([0; 8]));
        let y = u64::from_le_bytes(b[n..n + 8].try_into().unwrap_or([0; 8]));
        let diff = x ^ y;
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while n < max && a[n] == b[n] {
        n += 1;
    }
    n
}

/// Reusable state, so a call allocates nothing once warm.
#[derive(Default)]
pub struct Deflater {
    tokens: Vec<Token>,
    huffman: Huffman,
}

/// The rows of an image: `data` holds distinct scanlines of `stride` bytes, and scanline `j`
/// appears `repeats[j]` times in a row in the real image. Bytes after the last scanline are
/// ignored.
pub struct Rows<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub repeats: &'a [u16],
}

impl Deflater {
    /// Appends the raw DEFLATE stream of the expanded `rows` to `out`.
    // Kept out of the PNG writer: inlined there, the parse loop's buffers spill to the stack
    // (measured with callgrind: 9% more loads, slower).
    #[inline(never)]
    pub fn compress(&mut self, rows: &Rows<'_>, out: &mut Vec<u8>) {
        let Rows {
            data,
            stride,
            repeats,
        } = *rows;
        let n_rows = (data.len() / stride.max(1)).min(repeats.len());
        let rows = Rows {
            data: &data[..n_rows * stride],
            stride,
            repeats: &repeats[..n_rows],
        };
        self.tokens.clear();
        // Copies of narrower scanlines may be shorter than a match; wider ones, out of reach.
        if (MIN_MATCH..=WINDOW).contains(&stride) {
            self.parse(&rows);
        } else {
            for (row, &reps) in rows.data.chunks_exact(stride.max(1)).zip(rows.repeats) {
                for _ in 0..copies(reps) {
                    self.tokens.extend(row.iter().map(|&b| Token {
                        len: u16::from(b),
                        dist: 0,
                    }));
                }
            }
        }
        write_block(&mut self.huffman, &self.tokens, out);
    }

    /// Replaces the tokens with a greedy parse, scanline by scanline. Each scanline's copies
    /// are one long match at distance `stride`, which runs on into the next scanline for as
    /// long as it starts like this one (filter byte, quiet zone, ...). Then at each position
    /// the match [`match_at`] finds is taken, else a literal. A match never runs past its own
    /// scanline's end.
    fn parse(&mut self, rows: &Rows<'_>) {
        let Rows {
            data,
            stride,
            repeats,
        } = *rows;
        let tokens = &mut self.tokens;
        // Bytes still to copy at distance `stride` (the previous scanline's other copies).
        let mut pending = 0;
        for (j, &reps) in repeats.iter().enumerate() {
            let start = j * stride;
            let row = &data[start..start + stride];
            let mut i = 0;
            if let Some(above) = data.get(start.wrapping_sub(stride)..start) {
                let shared = common_prefix(above, row);
                // A new match needs MIN_MATCH bytes; one already running may grow by 1.
                if pending > 0 || shared >= MIN_MATCH {
                    i = shared;
                }
            }
            push_copy(tokens, pending + i, stride);
            while i < stride {
                let (len, dist) = match_at(data, start, i, stride);
                if len > 0 {
                    tokens.push(Token {
                        len: len as u16,
                        dist: dist as u16,
                    });
                    i += len;
                } else {
                    tokens.push(Token {
                        len: u16::from(row[i]),
                        dist: 0,
                    });
                    i += 1;
                }
            }
            pending = (copies(reps) - 1) * stride;
        }
        push_copy(tokens, pending, stride);
    }
}

/// The shortest match [`match_at`] takes. On these images a literal costs about 3 bits (few
/// byte values occur), so shorter matches do not pay (measured, mean PNG over the targets: 4
/// gives 387.0 B; 3 from the scanline above, 393.4 B, or for runs, 390.1 B; 5 from above,
/// 387.6 B, or for runs, 388.9 B). Other candidates did not pay for their time: the latest
/// position with the same 4-byte hash saved 0.7 B, the scanline two up cost 1 B, and lazy
/// matching changed nothing.
const MIN_TAKEN: usize = 4;

/// The match to take at byte `i` of the scanline at `start` in `data`, as (length, distance);
/// length 0: none. The longer of two candidates, each at least [`MIN_TAKEN`] long: the
/// scanline above (distance `stride`: the copies' distance, so the cheapest, and it wins
/// ties) and a run of the byte before (distance 1).
#[inline(always)]
fn match_at(data: &[u8], start: usize, i: usize, stride: usize) -> (usize, usize) {
    let p = start + i;
    let max = (stride - i).min(MAX_MATCH);
    let above = if start >= stride {
        match_len(data, p - stride, p, max)
    } else {
        0
    };
    let run = if i > 0 {
        match_len(data, p - 1, p, max)
    } else {
        0
    };
    if above >= MIN_TAKEN && above >= run {
        (above, stride)
    } else if run >= MIN_TAKEN {
        (run, 1)
    } else {
        (0, 0)
    }
}

/// How many times a scanline with repeat count `reps` appears (0 counts as 1).
fn copies(reps: u16) -> usize {
    usize::from(reps).max(1)
}

/// Matches copying `total` bytes from `dist` back, at most 258 each and none shorter than 3.
fn push_copy(tokens: &mut Vec<Token>, total: usize, dist: usize) {
    let mut rest = total;
    while rest > 0 {
        let len = if rest > MAX_MATCH && rest - MAX_MATCH < MIN_MATCH {
            rest - MIN_MATCH
        } else {
            rest.min(MAX_MATCH)
        };
        tokens.push(Token {
            len: len as u16,
            dist: dist as u16,
        });
        rest -= len;
    }
}

/// Symbol frequencies of `tokens` (end-of-block included).
fn frequencies(tokens: &[Token]) -> ([u32; LITLEN_SYMBOLS], [u32; DIST_SYMBOLS]) {
    let mut lit_freq = [0u32; LITLEN_SYMBOLS];
    let mut dist_freq = [0u32; DIST_SYMBOLS];
    for t in tokens {
        if t.dist == 0 {
            lit_freq[t.len as usize] += 1;
        } else {
            lit_freq[FIRST_LENGTH_SYMBOL + len_code(t.len as usize)] += 1;
            dist_freq[dist_code(t.dist as usize)] += 1;
        }
    }
    lit_freq[END_OF_BLOCK] = 1;
    (lit_freq, dist_freq)
}

/// Writes bits LSB first (§3.1.1).
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter<'_> {
    #[inline]
    fn put(&mut self, bits: u32, count: u32) {
        self.acc |= u64::from(bits) << self.n;
        self.n += count;
        if self.n >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.n -= 32;
        }
    }

    fn finish(mut self) {
        while self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n = self.n.saturating_sub(8);
        }
    }
}

/// Buffers for building Huffman codes, and the header's code-length symbols (`runs`, from
/// [`run_length_code`]), reused between calls.
#[derive(Default)]
struct Huffman {
    syms: Vec<(u32, u16)>,
    weight: Vec<u32>,
    parent: Vec<usize>,
    depth: Vec<u32>,
    runs: Vec<(u8, u8)>,
}

/// Huffman code lengths for `freq`, none longer than `limit` (zero for unused symbols),
/// building in `h`'s buffers.
fn code_lengths_with(h: &mut Huffman, freq: &[u32], limit: u32, lengths: &mut [u8]) {
    lengths.fill(0);
    h.syms.clear();
    h.syms.extend(
        freq.iter()
            .enumerate()
            .filter(|&(_, &f)| f > 0)
            .map(|(s, &f)| (f, s as u16)),
    );
    match h.syms.len() {
        0 => return,
        1 => {
            lengths[h.syms[0].1 as usize] = 1;
            return;
        }
        _ => {}
    }
    h.syms.sort_unstable();
    let n = h.syms.len();
    tree_depths(h);
    // Hand out lengths so that the most frequent symbols get the shortest codes.
    let count = limited_counts(&h.depth[..n], limit);
    let mut i = n;
    for l in 1..=limit {
        for _ in 0..count[l as usize] {
            i = i.saturating_sub(1);
            lengths[h.syms[i].1 as usize] = l as u8;
        }
    }
}

/// The depth of each leaf of a Huffman tree over `h.syms` (sorted by weight) into `h.depth`:
/// two-queue construction, leaves in weight order and internal nodes created in weight order.
fn tree_depths(h: &mut Huffman) {
    let n = h.syms.len();
    let weight = &mut h.weight;
    weight.clear();
    weight.extend(h.syms.iter().map(|&(f, _)| f));
    weight.resize(2 * n - 1, 0);
    let parent = &mut h.parent;
    parent.clear();
    parent.resize(2 * n - 1, 0);
    let (mut leaf, mut node) = (0, n);
    for next in n..2 * n - 1 {
        let mut pick = || {
            if leaf < n && (node >= next || weight[leaf] <= weight[node]) {
                leaf += 1;
                leaf - 1
            } else {
                node += 1;
                node - 1
            }
        };
        let (a, b) = (pick(), pick());
        weight[next] = weight[a] + weight[b];
        parent[a] = next;
        parent[b] = next;
    }
    let depth = &mut h.depth;
    depth.clear();
    depth.resize(2 * n - 1, 0);
    for i in (0..2 * n - 2).rev() {
        depth[i] = depth[parent[i]] + 1;
    }
}

/// How many codes of each length (index) the leaves at `depths` get once no code is longer
/// than `limit` (miniz's method: clamp, then lengthen codes until the Kraft sum fits).
fn limited_counts(depths: &[u32], limit: u32) -> [u32; MAX_CODE_BITS as usize + 1] {
    let mut count = [0u32; MAX_CODE_BITS as usize + 1];
    for &d in depths {
        count[d.min(limit) as usize] += 1;
    }
    let mut kraft: u64 = (1..=limit)
        .map(|l| u64::from(count[l as usize]) << (limit - l))
        .sum();
    while kraft > 1 << limit {
        count[limit as usize] = count[limit as usize].saturating_sub(1);
        for l in (1..limit).rev() {
            if count[l as usize] > 0 {
                count[l as usize] -= 1;
                count[l as usize + 1] += 2;
                break;
            }
        }
        kraft -= 1;
    }
    count
}

/// A canonical Huffman code (§3.2.2) over `N` symbols: each symbol's code length and its
/// code, bit-reversed, ready to write LSB first.
struct Code<const N: usize> {
    lengths: [u8; N],
    codes: [u16; N],
}

impl<const N: usize> Code<N> {
    /// The canonical code of `lengths`: shorter codes first, same-length codes in symbol order.
    fn new(lengths: [u8; N]) -> Self {
        let mut count = [0u16; MAX_CODE_BITS as usize + 1];
        for &l in &lengths {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut next = [0u16; MAX_CODE_BITS as usize + 1];
        let mut code = 0u16;
        for bits in 1..=MAX_CODE_BITS as usize {
            code = (code + count[bits - 1]) << 1;
            next[bits] = code;
        }
        let mut codes = [0u16; N];
        for (c, &l) in codes.iter_mut().zip(&lengths) {
            if l > 0 {
                let v = next[l as usize];
                next[l as usize] += 1;
                *c = v.reverse_bits() >> (16 - l);
            }
        }
        Code { lengths, codes }
    }

    /// Writes `symbol`'s code.
    #[inline]
    fn put(&self, w: &mut BitWriter<'_>, symbol: usize) {
        w.put(
            u32::from(self.codes[symbol]),
            u32::from(self.lengths[symbol]),
        );
    }
}

/// One final block with dynamic Huffman codes holding `tokens` (§3.2.3, §3.2.7).
fn write_block(h: &mut Huffman, tokens: &[Token], out: &mut Vec<u8>) {
    let (lit_freq, dist_freq) = frequencies(tokens);
    let mut lit_len = [0u8; LITLEN_SYMBOLS];
    let mut dist_len = [0u8; DIST_SYMBOLS];
    code_lengths_with(h, &lit_freq, MAX_CODE_BITS, &mut lit_len);
    code_lengths_with(h, &dist_freq, MAX_CODE_BITS, &mut dist_len);
    if dist_len.iter().all(|&l| l == 0) {
        // At least one distance code must be described.
        dist_len[0] = 1;
    }
    let (lit, dist) = (Code::new(lit_len), Code::new(dist_len));
    let mut w = BitWriter { out, acc: 0, n: 0 };
    w.put(BFINAL, 1);
    w.put(BTYPE_DYNAMIC, 2);
    write_code_lengths(h, &mut w, &lit.lengths, &dist.lengths);
    write_tokens(&mut w, tokens, &lit, &dist);
    lit.put(&mut w, END_OF_BLOCK);
    w.finish();
}

/// The rest of a dynamic block's header (§3.2.7): HLIT, HDIST, HCLEN, the code-length code,
/// then the literal/length and distance code lengths run-length coded with it.
fn write_code_lengths(
    h: &mut Huffman,
    w: &mut BitWriter<'_>,
    lit_len: &[u8; LITLEN_SYMBOLS],
    dist_len: &[u8; DIST_SYMBOLS],
) {
    // Trailing unused symbols need not be described, down to the minimum counts.
    let used = |lengths: &[u8], min: usize| {
        min.max(lengths.len() - lengths.iter().rev().take_while(|&&l| l == 0).count())
    };
    let hlit = used(lit_len, MIN_LITLEN_CODES);
    let hdist = used(dist_len, MIN_DIST_CODES);
    let mut all = [0u8; LITLEN_SYMBOLS + DIST_SYMBOLS];
    all[..hlit].copy_from_slice(&lit_len[..hlit]);
    all[hlit..hlit + hdist].copy_from_slice(&dist_len[..hdist]);
    run_length_code(&all[..hlit + hdist], &mut h.runs);

    let mut cl_freq = [0u32; CL_SYMBOLS];
    for &(s, _) in &h.runs {
        cl_freq[s as usize] += 1;
    }
    let mut cl_len = [0u8; CL_SYMBOLS];
    code_lengths_with(h, &cl_freq, MAX_CL_CODE_BITS, &mut cl_len);
    let hclen = MIN_CL_CODES.max(
        CL_SYMBOLS
            - CL_ORDER
                .iter()
                .rev()
                .take_while(|&&s| cl_len[s] == 0)
                .count(),
    );
    let cl = Code::new(cl_len);

    w.put((hlit - MIN_LITLEN_CODES) as u32, HLIT_BITS);
    w.put((hdist - MIN_DIST_CODES) as u32, HDIST_BITS);
    w.put((hclen - MIN_CL_CODES) as u32, HCLEN_BITS);
    for &s in &CL_ORDER[..hclen] {
        w.put(u32::from(cl.lengths[s]), CL_LENGTH_BITS);
    }
    for &(s, extra) in &h.runs {
        cl.put(w, s as usize);
        if let Some(repeat) = REPEATS.iter().find(|r| r.symbol == s) {
            w.put(u32::from(extra), repeat.extra_bits);
        }
    }
}

/// `lengths` as code-length symbols (§3.2.7) into `out`: (symbol, extra bits' value) pairs,
/// with runs of zeros and of repeated lengths coded by [`Repeat`] symbols.
fn run_length_code(lengths: &[u8], out: &mut Vec<(u8, u8)>) {
    out.clear();
    let mut i = 0;
    while i < lengths.len() {
        let l = lengths[i];
        let run = lengths[i..].iter().take_while(|&&x| x == l).count();
        if l == 0 && run >= REPEAT_ZERO.min {
            let r = run.min(REPEAT_ZERO_LONG.max);
            let repeat = if r <= REPEAT_ZERO.max {
                REPEAT_ZERO
            } else {
                REPEAT_ZERO_LONG
            };
            out.push((repeat.symbol, (r - repeat.min) as u8));
            i += r;
        } else if l != 0 && run > REPEAT_PREVIOUS.min {
            // The length once, then repeats of it.
            out.push((l, 0));
            let r = (run - 1).min(REPEAT_PREVIOUS.max);
            out.push((REPEAT_PREVIOUS.symbol, (r - REPEAT_PREVIOUS.min) as u8));
            i += 1 + r;
        } else {
            out.push((l, 0));
            i += 1;
        }
    }
}

/// The tokens' codes (§3.2.5): a literal's, or a length's symbol and extra bits then its
/// distance's symbol and extra bits.
fn write_tokens(
    w: &mut BitWriter<'_>,
    tokens: &[Token],
    lit: &Code<LITLEN_SYMBOLS>,
    dist: &Code<DIST_SYMBOLS>,
) {
    for t in tokens {
        if t.dist == 0 {
            lit.put(w, t.len as usize);
        } else {
            let len = t.len as usize;
            let lc = len_code(len);
            lit.put(w, FIRST_LENGTH_SYMBOL + lc);
            w.put(
                (len - LEN_BASE[lc] as usize) as u32,
                u32::from(LEN_EXTRA[lc]),
            );
            let d = t.dist as usize;
            let dc = dist_code(d);
            dist.put(w, dc);
            w.put(
                (d - DIST_BASE[dc] as usize) as u32,
                u32::from(DIST_EXTRA[dc]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fast::testkit::Rng;

    /// The image `rows` stands for: each scanline as many times as it appears.
    fn expanded(rows: &Rows<'_>) -> Vec<u8> {
        let scanlines = rows.data.chunks_exact(rows.stride);
        scanlines
            .zip(rows.repeats)
            .flat_map(|(row, &reps)| row.repeat(copies(reps)))
            .collect()
    }

    /// Random scanlines like a QR code's, though less regular: few byte values, and each
    /// scanline the one above, the one above with a few bytes changed, or new.
    fn random_rows(rng: &mut Rng) -> (Vec<u8>, usize, Vec<u16>) {
        let stride = 1 + rng.below(48) as usize;
        let n = 1 + rng.below(64) as usize;
        let values = [0x00, 0xFF, 0x0F, 0xF0, 0x3F, 0xC0, rng.next() as u8];
        let mut data: Vec<u8> = Vec::with_capacity(n * stride);
        for j in 0..n {
            let kind = if j == 0 { 2 } else { rng.below(3) };
            for _ in 0..stride {
                let byte = match kind {
                    0 => data[data.len() - stride],
                    1 if rng.below(6) > 0 => data[data.len() - stride],
                    _ => values[rng.below(values.len() as u64) as usize],
                };
                data.push(byte);
            }
        }
        let repeats = (0..n).map(|_| rng.below(9) as u16).collect();
        (data, stride, repeats)
    }

    #[test]
    fn random_rows_inflate_to_their_image() {
        // An independent inflater (miniz_oxide) reads every stream back.
        let mut rng = Rng(0xDEF1_A7E5);
        let mut deflater = Deflater::default();
        for _ in 0..2000 {
            let (data, stride, repeats) = random_rows(&mut rng);
            let rows = Rows {
                data: &data,
                stride,
                repeats: &repeats,
            };
            let mut out = Vec::new();
            deflater.compress(&rows, &mut out);
            let inflated = miniz_oxide::inflate::decompress_to_vec(&out).expect("inflates");
            assert!(
                inflated == expanded(&rows),
                "stride {stride}, repeats {repeats:?}, data {data:?}"
            );
        }
    }

    #[test]
    fn scanlines_wider_than_the_window_inflate_to_their_image() {
        let data: Vec<u8> = (0..WINDOW + 5).map(|i| (i % 7) as u8).collect();
        let rows = Rows {
            data: &data,
            stride: data.len(),
            repeats: &[2],
        };
        let mut out = Vec::new();
        Deflater::default().compress(&rows, &mut out);
        let inflated = miniz_oxide::inflate::decompress_to_vec(&out).expect("inflates");
        assert!(inflated == expanded(&rows));
    }

    #[test]
    fn code_tables_match_the_base_tables() {
        for len in 3..=258 {
            let c = len_code(len);
            assert!(
                LEN_BASE[c] as usize <= len
                    && len < LEN_BASE[c] as usize + (1 << LEN_EXTRA[c]) + usize::from(len == 258)
            );
        }
        for dist in 1..=32768 {
            let c = dist_code(dist);
            assert!(
                DIST_BASE[c] as usize <= dist
                    && dist < DIST_BASE[c] as usize + (1 << DIST_EXTRA[c]),
                "dist {dist} code {c}"
            );
        }
    }

    #[test]
    fn code_lengths_respect_the_limit_and_kraft() {
        // Fibonacci frequencies make an unlimited Huffman tree 29 levels deep.
        let mut freq = [0u32; 30];
        let (mut a, mut b) = (1u32, 1u32);
        for f in &mut freq {
            *f = a;
            (a, b) = (b, a + b);
        }
        let mut lengths = [0u8; 30];
        code_lengths_with(&mut Huffman::default(), &freq, 15, &mut lengths);
        assert!(lengths.iter().all(|&l| (1..=15).contains(&l)));
        let kraft: u32 = lengths.iter().map(|&l| 1 << (15 - l)).sum();
        assert_eq!(kraft, 1 << 15);
        // More frequent symbols never get longer codes.
        assert!(lengths.windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn match_len_counts_equal_bytes_up_to_max() {
        let mut data: Vec<u8> = (0..20).map(|i| i % 5).collect();
        assert_eq!(match_len(&data, 0, 5, 10), 10);
        assert_eq!(match_len(&data, 0, 5, 3), 3);
        assert_eq!(match_len(&data, 0, 5, 15), 15);
        assert_eq!(match_len(&data, 0, 10, 10), 10); // near the end: no full word at p
        data[8] = 9;
        assert_eq!(match_len(&data, 0, 5, 10), 3);
        assert_eq!(match_len(&data, 1, 2, 5), 0);
    }

    #[test]
    fn common_prefix_counts_equal_bytes() {
        let a: Vec<u8> = (0..40).collect();
        let mut b = a.clone();
        assert_eq!(common_prefix(&a, &b), 40);
        b[19] = 0;
        assert_eq!(common_prefix(&a, &b), 19);
        assert_eq!(common_prefix(&a[..5], &b), 5);
    }
}
