//! A small DEFLATE (RFC 1951) encoder for images whose scanlines repeat: one dynamic-Huffman
//! block; each scanline's copies are one long match (running on into the next scanline while
//! it starts the same); the distinct scanlines get a cost-optimal parse (literals vs. matches
//! found by short hash chains) under a static cost model, then a Huffman code of the result.

/// Longest match DEFLATE allows.
const MAX_MATCH: usize = 258;
/// Farthest back a match may reach.
const WINDOW: usize = 32768;
/// Candidates tried per position: with a 4-byte hash, 1 gives 379.0 B mean over the targets,
/// 2 gives 377.5 B at ~1.3x the time (3-byte hash, 2: 379.6 B at ~1.5x; measured).
const CHAIN: usize = 1;
/// Positions inside a match at least this long are not searched (sizes unchanged, measured).
const SKIP_INSIDE: usize = 16;
const HASH_BITS: u32 = 10;

/// Base lengths of the length codes 257..=285, and their extra bits.
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of the distance codes 0..=29, and their extra bits.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// Order in which code-length code lengths are sent.
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// A literal (`dist == 0`, `len` = the byte) or a match.
#[derive(Clone, Copy)]
struct Token {
    len: u16,
    dist: u16,
}

/// Length code index (0..29) of each match length 0..=258 (0 for lengths below 3).
static LEN_CODE: [u8; 259] = {
    let mut table = [0u8; 259];
    let mut len = 3;
    while len <= 258 {
        let mut code = 0;
        while code + 1 < 29 && LEN_BASE[code + 1] as usize <= len {
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
        while code + 1 < 30 && DIST_BASE[code + 1] as usize <= d {
            code += 1;
        }
        table[d - 1] = code as u8;
        d += 1;
    }
    table
};

fn len_code(len: usize) -> usize {
    LEN_CODE.get(len).map_or(28, |&c| c as usize)
}

fn dist_code(dist: usize) -> usize {
    match DIST_CODE_SMALL.get(dist.wrapping_sub(1)) {
        Some(&c) => c as usize,
        // Above 512 the code grows by 2 per doubling: 2 * floor(log2(dist - 1)) + next bit.
        None => {
            let d = dist.saturating_sub(1).max(1);
            let log = d.ilog2() as usize;
            (2 * log + (d >> (log - 1) & 1)).min(29)
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
    head: Vec<u32>,
    prev: Vec<u32>,
    /// Real position of each byte of the distinct scanlines' last copies.
    last: Vec<u32>,
    /// Per scanline position: cheapest cost to reach it, and the step that did.
    cost: Vec<u32>,
    step: Vec<(u16, u16)>,
    /// One scanline's tokens, backwards, while its parse is read out.
    row_tokens: Vec<Token>,
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

/// Costs are in 1/BIT bits.
const BIT: u32 = 16;

/// Costs of each symbol (an estimate), in 1/BIT bits.
struct Costs {
    lit: [u32; 286],
    dist: [u32; 30],
    /// Cost of a match length (symbol + extra bits), by length.
    len: [u32; 259],
}

impl Costs {
    /// A first guess: literals by their frequency in the data; match lengths and distances
    /// as the codes of typical QR images come out (short lengths cheap, the distance of one
    /// scanline nearly free, since every scanline's copies use it).
    fn estimate(data: &[u8], stride: usize) -> Costs {
        // Four tables: these images repeat a few byte values, and with one table each
        // increment would wait for the one before.
        let mut tables = [[0u32; 256]; 4];
        let mut quads = data.chunks_exact(4);
        for q in &mut quads {
            for (table, &b) in tables.iter_mut().zip(q) {
                table[b as usize] += 1;
            }
        }
        for &b in quads.remainder() {
            tables[0][b as usize] += 1;
        }
        let [mut freq, t1, t2, t3] = tables;
        for (i, f) in freq.iter_mut().enumerate() {
            *f += t1[i] + t2[i] + t3[i];
        }
        let total = data.len().max(1) as f32;
        let mut lit = [0u32; 286];
        for (c, &f) in lit.iter_mut().zip(&freq) {
            // Whole bits, as a Huffman code would give (fractions measured worse).
            let bits = if f == 0 {
                12.0
            } else {
                (total / f as f32).log2().clamp(1.0, 12.0)
            };
            *c = bits.ceil() as u32 * BIT;
        }
        // Tuned on the target texts (benches/engines.rs): lengths 3..=10, 11..=18, longer.
        for (code, c) in lit[257..].iter_mut().enumerate() {
            *c = match code {
                0..=4 => 5 * BIT,
                5..=8 => 8 * BIT,
                _ => 9 * BIT,
            };
        }
        let mut dist = [6 * BIT + BIT / 2; 30];
        dist[0] = 3 * BIT;
        dist[dist_code(stride)] = BIT;
        Costs::new(lit, dist)
    }

    fn new(lit: [u32; 286], dist: [u32; 30]) -> Costs {
        let mut len = [0u32; 259];
        for (l, c) in len.iter_mut().enumerate().skip(3) {
            let lc = len_code(l);
            *c = lit[257 + lc] + u32::from(LEN_EXTRA[lc]) * BIT;
        }
        Costs { lit, dist, len }
    }
}

impl Deflater {
    /// Appends the raw DEFLATE stream of the expanded `rows` to `out`.
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
        if stride >= 3 {
            // Parse with estimated costs, then again with the costs of the code that parse
            // would get (libdeflate's near-optimal scheme, in miniature).
            let costs = Costs::estimate(rows.data, stride);
            self.parse(&rows, &costs);
        } else {
            for (row, &reps) in rows.data.chunks_exact(stride.max(1)).zip(rows.repeats) {
                for _ in 0..usize::from(reps).max(1) {
                    self.tokens.extend(row.iter().map(|&b| Token {
                        len: u16::from(b),
                        dist: 0,
                    }));
                }
            }
        }
        write_block(&mut self.huffman, &self.tokens, out);
    }

    /// Replaces the tokens with the cheapest parse under `costs`, scanline by scanline, finding
    /// matches by hash chains as it goes. Sources are earlier scanlines' last copies (or
    /// earlier in the same scanline); a match never runs past its own scanline's end. Each
    /// scanline's copies are one long match at distance `stride`, which runs on into the next
    /// scanline for as long as it starts like this one (filter byte, quiet zone, ...).
    fn parse(&mut self, rows: &Rows<'_>, costs: &Costs) {
        let Rows {
            data,
            stride,
            repeats,
        } = *rows;
        self.tokens.clear();
        self.head.clear();
        self.head.resize(1 << HASH_BITS, u32::MAX);
        self.prev.clear();
        self.prev.resize(data.len(), u32::MAX);
        // Real position of each byte's copy that later scanlines match against: the last.
        self.last.clear();
        let mut at = 0;
        for &reps in repeats {
            let reps = usize::from(reps).max(1);
            let last = at + (reps - 1) * stride;
            self.last.extend((last..last + stride).map(|r| r as u32));
            at += reps * stride;
        }
        self.cost.clear();
        self.cost.resize(stride + 1, 0);
        self.step.clear();
        self.step.resize(stride + 1, (0, 0));
        let (head, prev, last) = (&mut self.head[..], &mut self.prev[..], &self.last[..]);
        let (cost, step) = (&mut self.cost[..], &mut self.step[..]);
        let hash = |p: usize| -> usize {
            // Four bytes: on these images three-byte keys chain too many useless sources.
            let v = u32::from_le_bytes([data[p], data[p + 1], data[p + 2], data[p + 3]]);
            (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
        };
        let dist_costs: [u32; 30] =
            std::array::from_fn(|c| costs.dist[c] + u32::from(DIST_EXTRA[c]) * BIT);
        // Bytes still to copy at distance `stride` (the previous scanline's other copies).
        let mut pending = 0;
        let mut first = 0usize;
        for (j, &reps) in repeats.iter().enumerate() {
            let row_start = j * stride;
            let row_end = row_start + stride;
            let row = &data[row_start..row_end];
            cost.fill(u32::MAX);
            cost[0] = 0;
            // Running the previous copy-match on is free: (0, 0) marks it.
            if j > 0 {
                let shared = common_prefix(&data[row_start - stride..row_start], row);
                let min = if pending == 0 { 3 } else { 1 };
                for l in min..=shared {
                    cost[l] = 0;
                    step[l] = (0, 0);
                }
            }
            let mut skip_to = row_start;
            for i in 0..stride {
                let p = row_start + i;
                let here = cost[i];
                let lit = here.saturating_add(costs.lit[row[i] as usize]);
                if lit < cost[i + 1] {
                    cost[i + 1] = lit;
                    step[i + 1] = (1, 0);
                }
                if p + 4 > data.len() {
                    continue;
                }
                let h = hash(p);
                let max_len = (stride - i).min(MAX_MATCH);
                if p >= skip_to && max_len >= 3 && here != u32::MAX {
                    let real_p = first + i;
                    let mut cand = head[h];
                    let mut tries = CHAIN;
                    let mut shorter = 2;
                    while cand != u32::MAX && tries > 0 {
                        let c = cand as usize;
                        tries -= 1;
                        // Earlier in this scanline: its first copy; else the last copy.
                        let real_c = if c >= row_start {
                            first + (c - row_start)
                        } else {
                            last.get(c).map_or(usize::MAX, |&r| r as usize)
                        };
                        if real_c >= real_p || real_p - real_c > WINDOW {
                            break;
                        }
                        let len = match_len(data, c, p, max_len);
                        if len > shorter {
                            // Only the shortest new length and the whole match: on these
                            // images the lengths between never win (measured: same sizes).
                            let dist = real_p - real_c;
                            let base = here + dist_costs[dist_code(dist)];
                            for l in [shorter + 1, len] {
                                let c = base + costs.len[l];
                                if c < cost[i + l] {
                                    cost[i + l] = c;
                                    step[i + l] = (l as u16, dist as u16);
                                }
                            }
                            shorter = len;
                            if len == max_len {
                                break;
                            }
                        }
                        cand = prev[c];
                    }
                    if shorter >= SKIP_INSIDE {
                        skip_to = p + shorter;
                    }
                }
                prev[p] = head[h];
                head[h] = p as u32;
            }
            // Walk back from the end to the start (or to where the copy-match stops).
            self.row_tokens.clear();
            let mut i = stride;
            let mut extend = 0;
            while i > 0 {
                let (len, dist) = step[i];
                if len == 0 {
                    extend = i;
                    break;
                }
                self.row_tokens.push(if dist == 0 {
                    Token {
                        len: u16::from(row[i - 1]),
                        dist: 0,
                    }
                } else {
                    Token { len, dist }
                });
                i -= usize::from(len).min(i);
            }
            // The previous scanline's copy-match goes before these tokens.
            push_copy(&mut self.tokens, pending + extend, stride);
            self.tokens.extend(self.row_tokens.iter().rev());
            pending = (usize::from(reps).max(1) - 1) * stride;
            first += usize::from(reps).max(1) * stride;
        }
        push_copy(&mut self.tokens, pending, stride);
    }
}

/// Matches copying `total` bytes from `dist` back, at most 258 each and none shorter than 3.
fn push_copy(tokens: &mut Vec<Token>, total: usize, dist: usize) {
    let mut rest = total;
    while rest > 0 {
        let len = if rest > MAX_MATCH && rest - MAX_MATCH < 3 {
            rest - 3
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
fn frequencies(tokens: &[Token]) -> ([u32; 286], [u32; 30]) {
    let mut lit_freq = [0u32; 286];
    let mut dist_freq = [0u32; 30];
    for t in tokens {
        if t.dist == 0 {
            lit_freq[t.len as usize] += 1;
        } else {
            lit_freq[257 + len_code(t.len as usize)] += 1;
            dist_freq[dist_code(t.dist as usize)] += 1;
        }
    }
    lit_freq[256] = 1;
    (lit_freq, dist_freq)
}

/// Writes bits LSB first.
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

/// Buffers for building Huffman codes, reused between calls.
#[derive(Default)]
struct Huffman {
    syms: Vec<(u32, u16)>,
    weight: Vec<u32>,
    parent: Vec<usize>,
    depth: Vec<u32>,
}

/// Huffman code lengths for `freq`, none longer than `limit` (zero for unused symbols),
/// building in `h`'s buffers.
fn code_lengths_with(h: &mut Huffman, freq: &[u32], limit: u32, lengths: &mut [u8]) {
    lengths.fill(0);
    let syms = &mut h.syms;
    syms.clear();
    syms.extend(
        freq.iter()
            .enumerate()
            .filter(|&(_, &f)| f > 0)
            .map(|(s, &f)| (f, s as u16)),
    );
    match syms.len() {
        0 => return,
        1 => {
            lengths[syms[0].1 as usize] = 1;
            return;
        }
        _ => {}
    }
    syms.sort_unstable();
    // Two-queue Huffman: leaves sorted by weight, internal nodes created in weight order.
    let n = syms.len();
    let weight = &mut h.weight;
    weight.clear();
    weight.extend(syms.iter().map(|&(f, _)| f));
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
    // Count per length, then enforce the limit (miniz's method), then hand out lengths so
    // the most frequent symbols get the shortest codes.
    let mut count = [0u32; 33];
    for &d in &depth[..n] {
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
    let mut i = n;
    for l in 1..=limit {
        for _ in 0..count[l as usize] {
            i = i.saturating_sub(1);
            lengths[syms[i].1 as usize] = l as u8;
        }
    }
}

/// Canonical codes (bit-reversed, ready to write LSB first) for `lengths`.
fn codes(lengths: &[u8], codes: &mut [u16]) {
    let mut count = [0u16; 16];
    for &l in lengths {
        count[l as usize] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (c, &l) in codes.iter_mut().zip(lengths) {
        if l > 0 {
            let v = next[l as usize];
            next[l as usize] += 1;
            *c = v.reverse_bits() >> (16 - l);
        }
    }
}

/// One final dynamic-Huffman block holding `tokens`.
fn write_block(h: &mut Huffman, tokens: &[Token], out: &mut Vec<u8>) {
    let (lit_freq, dist_freq) = frequencies(tokens);
    let mut lit_len = [0u8; 286];
    let mut dist_len = [0u8; 30];
    code_lengths_with(h, &lit_freq, 15, &mut lit_len);
    code_lengths_with(h, &dist_freq, 15, &mut dist_len);
    if dist_len.iter().all(|&l| l == 0) {
        // At least one distance code must be described.
        dist_len[0] = 1;
    }
    let hlit = 257.max(286 - lit_len.iter().rev().take_while(|&&l| l == 0).count());
    let hdist = 1.max(30 - dist_len.iter().rev().take_while(|&&l| l == 0).count());

    // Run-length code the two length tables together.
    let mut all = [0u8; 316];
    all[..hlit].copy_from_slice(&lit_len[..hlit]);
    all[hlit..hlit + hdist].copy_from_slice(&dist_len[..hdist]);
    let all = &all[..hlit + hdist];
    let mut cl_syms: Vec<(u8, u8)> = Vec::with_capacity(all.len()); // (symbol, extra value)
    let mut i = 0;
    while i < all.len() {
        let l = all[i];
        let run = all[i..].iter().take_while(|&&x| x == l).count();
        if l == 0 && run >= 3 {
            let r = run.min(138);
            if r <= 10 {
                cl_syms.push((17, (r - 3) as u8));
            } else {
                cl_syms.push((18, (r - 11) as u8));
            }
            i += r;
        } else if l != 0 && run >= 4 {
            cl_syms.push((l, 0));
            let r = (run - 1).min(6);
            cl_syms.push((16, (r - 3) as u8));
            i += 1 + r;
        } else {
            cl_syms.push((l, 0));
            i += 1;
        }
    }
    let mut cl_freq = [0u32; 19];
    for &(s, _) in &cl_syms {
        cl_freq[s as usize] += 1;
    }
    let mut cl_len = [0u8; 19];
    code_lengths_with(h, &cl_freq, 7, &mut cl_len);
    let hclen = 4.max(
        19 - CL_ORDER
            .iter()
            .rev()
            .take_while(|&&s| cl_len[s] == 0)
            .count(),
    );
    let mut cl_code = [0u16; 19];
    codes(&cl_len, &mut cl_code);
    let mut lit_code = [0u16; 286];
    let mut dist_code_ = [0u16; 30];
    codes(&lit_len, &mut lit_code);
    codes(&dist_len, &mut dist_code_);

    let mut w = BitWriter { out, acc: 0, n: 0 };
    w.put(1, 1); // final block
    w.put(2, 2); // dynamic Huffman
    w.put((hlit - 257) as u32, 5);
    w.put((hdist - 1) as u32, 5);
    w.put((hclen - 4) as u32, 4);
    for &s in &CL_ORDER[..hclen] {
        w.put(u32::from(cl_len[s]), 3);
    }
    for &(s, extra) in &cl_syms {
        w.put(
            u32::from(cl_code[s as usize]),
            u32::from(cl_len[s as usize]),
        );
        match s {
            16 => w.put(u32::from(extra), 2),
            17 => w.put(u32::from(extra), 3),
            18 => w.put(u32::from(extra), 7),
            _ => {}
        }
    }
    for t in tokens {
        if t.dist == 0 {
            let s = t.len as usize;
            w.put(u32::from(lit_code[s]), u32::from(lit_len[s]));
        } else {
            let len = t.len as usize;
            let lc = len_code(len);
            w.put(u32::from(lit_code[257 + lc]), u32::from(lit_len[257 + lc]));
            w.put(
                (len - LEN_BASE[lc] as usize) as u32,
                u32::from(LEN_EXTRA[lc]),
            );
            let dist = t.dist as usize;
            let dc = dist_code(dist);
            w.put(u32::from(dist_code_[dc]), u32::from(dist_len[dc]));
            w.put(
                (dist - DIST_BASE[dc] as usize) as u32,
                u32::from(DIST_EXTRA[dc]),
            );
        }
    }
    w.put(u32::from(lit_code[256]), u32::from(lit_len[256]));
    w.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

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
